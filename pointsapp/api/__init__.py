"""The JSON API v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

from flask import Flask, current_app, json

from pointsapp import names
from pointsapp.api import analytics, authority, awards, challenges, earning, org, push, recognition, rewards, wallet
from pointsapp.api.base import authenticate_request
from pointsapp.api.openapi_text import translated
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
    app.view_functions["api-docs.openapi_json"] = openapi_json


def openapi_json():
    """The OpenAPI document, its summaries, descriptions and tags in the reader's language (English by default)."""
    spec = translated(api.spec.to_dict(), names.reader_language())
    response = current_app.response_class(json.dumps(spec, indent=2, sort_keys=False), mimetype="application/json")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _authenticate():
    """Resolve the caller of an API request (bearer token or browser session)."""
    return authenticate_request() if is_api_request() else None
