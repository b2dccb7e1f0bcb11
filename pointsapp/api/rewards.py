"""Rewards resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Rewards", __name__, description="Rewards")
