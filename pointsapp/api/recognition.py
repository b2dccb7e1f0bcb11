"""Recognition resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Recognition", __name__, description="Recognition")
