"""Push resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Push", __name__, description="Push")
