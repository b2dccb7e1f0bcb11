"""Earning pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("earning", __name__)
