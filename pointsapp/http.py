"""HTTP plumbing shared by pages and the API: the error envelope, the id converter, the JSON provider.

Errors under ``/api/v1`` always have the body ``{"error": {"code", "message", "fields"?}}``;
pages elsewhere get HTML. This module imports nothing from the rest of the project.
"""

from __future__ import annotations

import flask_smorest
from flask import jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

API_PREFIX = "/api/v1"
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns; a larger one cannot exist, and looking it up would overflow

_HTTP_CODES = {
    400: ("bad_request", "The request body is not valid JSON."),
    401: ("unauthorized", "Sign in or send a valid bearer token."),
    403: ("forbidden", "You are not allowed to do that."),
    404: ("not_found", "There is nothing here."),
    405: ("method_not_allowed", "This method is not allowed here."),
    409: ("conflict", "The request conflicts with the current state."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send JSON with Content-Type: application/json."),
    422: ("validation_error", "Some fields are not valid."),
    429: ("rate_limited", "Too many requests; wait a moment and try again."),
    500: ("internal_error", "Something went wrong on our side; it has been logged."),
}


def is_api_request() -> bool:
    """True when the request is for the JSON API (its errors are JSON, not pages)."""
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, code: str, message: str, fields: dict | None = None, **extra):
    """A response with the contract's error body."""
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return make_response(jsonify(error=body), status)


def _flatten_webargs(messages) -> dict:
    """webargs nests errors by location ({"json": {...}}); the contract wants fields."""
    fields: dict = {}
    if isinstance(messages, dict):
        for location, errors in messages.items():
            if isinstance(errors, dict) and location in ("json", "query", "form", "headers", "view_args", "path"):
                for name, msgs in errors.items():
                    fields[name] = msgs if isinstance(msgs, (list, dict)) else [str(msgs)]
            else:
                fields[location] = errors if isinstance(errors, (list, dict)) else [str(errors)]
    return fields


class IdConverter(IntegerConverter):
    """``<int:...>`` in a URL: an id beyond a 32-bit integer matches nothing (404), never overflows a query."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply is malformed (400), not a crash."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("The JSON body is nested too deeply.") from None


class Api(flask_smorest.Api):
    """flask-smorest's Api with the contract's error body (and HTML pages elsewhere)."""

    def _register_error_handlers(self):
        """Leave the app's error handlers to the request lifecycle, which also rolls the request back."""

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if not is_api_request():
            return render_template("errors/error.html", status=status, error=error), status
        code, message = _HTTP_CODES.get(status, ("error", error.description or "Request failed."))
        if isinstance(error, CSRFError):
            return error_response(403, "csrf_failed", f"{error.description} Send it in the X-CSRFToken header.")
        data = getattr(error, "data", None) or {}
        fields = None
        if status in (400, 422) and "messages" in data:
            fields = _flatten_webargs(data["messages"])
            if status == 400:
                fields = None
            elif "_schema" in fields and len(fields) == 1:
                message = "; ".join(map(str, fields["_schema"]))
        if data.get("message"):
            message = data["message"]
        response = error_response(status, code, message, fields)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        if status == 429 and getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
