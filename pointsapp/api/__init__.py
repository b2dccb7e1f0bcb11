"""The JSON API v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from flask import Flask

from pointsapp.api import analytics, authority, awards, challenges, earning, org, push, recognition, rewards, wallet
from pointsapp.api.base import authenticate_request
from pointsapp.extensions import api, csrf
from pointsapp.http import API_PREFIX, is_api_request

# The order is the order of the OpenAPI document.
RESOURCES = (org, wallet, awards, earning, rewards, challenges, recognition, push, analytics, authority)


def init_app(app: Flask) -> None:
    """Bind the Api (OpenAPI document, bearer authentication) and register every resource."""
    api.init_app(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
            "security": [{"bearer": []}],
        },
    )
    for resource in RESOURCES:
        csrf.exempt(resource.blp)  # authenticate_request enforces CSRF for session callers
        api.register_blueprint(resource.blp, url_prefix=API_PREFIX)
    app.before_request(_authenticate)


def _authenticate():
    """Resolve the caller of an API request (bearer token or browser session)."""
    return authenticate_request() if is_api_request() else None
