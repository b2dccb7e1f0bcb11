"""Manager analytics pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("analytics", __name__)
