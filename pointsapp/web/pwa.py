"""Pwa pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pwa", __name__)
