"""Analytics resources."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("Analytics", __name__, description="Manager analytics: trends, activity mix, top performers, attrition risk")
