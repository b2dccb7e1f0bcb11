"""Recognition pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recognition", __name__)
