"""The JSON API v1: flask-smorest blueprints, one module per resource."""

from __future__ import annotations

import importlib
import logging

from flask import Flask, current_app

from pointsapp.api.base import API_PREFIX, IdConverter, JSONProvider, authenticate_request, error_response, is_api_request
from pointsapp.errors import DomainError

# Each module exposes ``blp``; the order is the order of the OpenAPI document.
RESOURCE_MODULES = (
    "org", "wallet", "awards", "earning", "rewards", "challenges", "recognition", "push", "analytics", "authority",
)

log = logging.getLogger(__name__)


def register_api(app: Flask) -> None:
    from pointsapp.extensions import api, csrf, db

    app.url_map.converters["int"] = IdConverter  # before any route is added, web pages included
    app.json = JSONProvider(app)
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

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        db.session.rollback()
        if is_api_request():
            return error_response(error.status, error.code, error.message, error.fields, **error.extra)
        from flask import render_template

        return render_template("errors/error.html", status=error.status, error=error), error.status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from werkzeug.exceptions import HTTPException, InternalServerError

        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        db.session.rollback()
        log.exception("unhandled error")
        if current_app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return api.handle_http_exception(InternalServerError())

    @app.after_request
    def _commit(response):
        """One commit per request: on success; anything refused is rolled back."""
        if response.status_code < 400:
            try:
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("commit failed")
                return error_response(409, "conflict", "A concurrent change got there first; please retry.") if is_api_request() else response
        else:
            db.session.rollback()
        return response
