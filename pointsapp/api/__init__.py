"""The JSON API v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

import importlib

from flask import Flask

from pointsapp.api.base import authenticate_request
from pointsapp.extensions import api, csrf
from pointsapp.http import API_PREFIX, is_api_request

# Each module exposes ``blp``; the order is the order of the OpenAPI document.
RESOURCE_MODULES = ("org", "wallet", "awards", "earning", "rewards", "challenges", "recognition", "push", "analytics")


def register_api(app: Flask) -> None:
    api.init_app(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearer": []}],
        },
    )
    for name in RESOURCE_MODULES:
        module = importlib.import_module(f"pointsapp.api.{name}")
        csrf.exempt(module.blp)  # authenticate_request enforces CSRF for session callers
        api.register_blueprint(module.blp, url_prefix=API_PREFIX)

    @app.before_request
    def _authenticate():
        if is_api_request():
            return authenticate_request()
        return None
