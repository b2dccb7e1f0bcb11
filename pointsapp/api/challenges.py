"""Challenges resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Challenges", __name__, description="Challenges")
