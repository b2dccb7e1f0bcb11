"""Rewards pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rewards", __name__)
