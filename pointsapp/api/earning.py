"""Earning resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Earning", __name__, description="Earning")
