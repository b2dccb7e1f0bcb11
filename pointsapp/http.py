"""HTTP plumbing shared by pages and the API: the error envelope, the id converter, the JSON provider.

Errors under ``/api/v1`` always have the body ``{"error": {"code", "message", "fields"?}}``,
its messages in the caller's language (also what marshmallow and HTTP errors write in English:
looked up in the catalog, then by the shape of marshmallow's messages with numbers or choices
in them); pages elsewhere get HTML. This module imports nothing from the rest of the project.
"""

from __future__ import annotations

import re

import flask_smorest
import marshmallow as ma
from flask import flash, jsonify, make_response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

API_PREFIX = "/api/v1"
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns; a larger one cannot exist, and looking it up would overflow

_HTTP_CODES = {
    400: ("bad_request", _l("The request body is not valid JSON.")),
    401: ("unauthorized", _l("Sign in or send a valid bearer token.")),
    403: ("forbidden", _l("You are not allowed to do that.")),
    404: ("not_found", _l("There is nothing here.")),
    405: ("method_not_allowed", _l("This method is not allowed here.")),
    409: ("conflict", _l("The request conflicts with the current state.")),
    413: ("payload_too_large", _l("The request body is too large.")),
    415: ("unsupported_media_type", _l("Send JSON with Content-Type: application/json.")),
    422: ("validation_error", _l("Some fields are not valid.")),
    429: ("rate_limited", _l("Too many requests; wait a moment and try again.")),
    500: ("internal_error", _l("Something went wrong on our side; it has been logged.")),
}


# Marshmallow's fixed messages, listed so that the catalog carries them.
LIBRARY_MESSAGES = (
    _l("Missing data for required field."),
    _l("Field may not be null."),
    _l("Invalid input type."),
    _l("Unknown field."),
    _l("Not a valid integer."),
    _l("Not a valid string."),
    _l("Not a valid boolean."),
    _l("Not a valid number."),
    _l("Not a valid date."),
    _l("Not a valid datetime."),
    _l("Not a valid email address."),
    _l("Not a valid list."),
    _l("Not a valid mapping type."),
    _l("Not a valid URL."),
    _l("Invalid value."),
    _l("Invalid input."),
    _l("Invalid type."),
    _l("Not a valid aware datetime."),
    _l("String does not match expected pattern."),
    _l("Number too large."),
    _l("Special numeric values (nan or infinity) are not permitted."),
    _l("Not a valid utf-8 string."),
)

_SHAPES = (
    (re.compile(r"^Must be one of: (?P<choices>.+)\.$"), lambda m: _("Must be one of: %(choices)s.", choices=m["choices"])),
    (
        re.compile(r"^Length must be between (?P<low>\d+) and (?P<high>\d+)\.$"),
        lambda m: _("Length must be between %(low)s and %(high)s.", low=m["low"], high=m["high"]),
    ),
    (
        re.compile(r"^Shorter than minimum length (?P<low>\d+)\.$"),
        lambda m: _("Shorter than minimum length %(low)s.", low=m["low"]),
    ),
    (
        re.compile(r"^Longer than maximum length (?P<high>\d+)\.$"),
        lambda m: _("Longer than maximum length %(high)s.", high=m["high"]),
    ),
    (
        re.compile(r"^Must be greater than or equal to (?P<low>-?[\d.]+) and less than or equal to (?P<high>-?[\d.]+)\.$"),
        lambda m: _("Must be greater than or equal to %(low)s and less than or equal to %(high)s.", low=m["low"], high=m["high"]),
    ),
    (
        re.compile(r"^Must be greater than or equal to (?P<low>-?[\d.]+)\.$"),
        lambda m: _("Must be greater than or equal to %(low)s.", low=m["low"]),
    ),
    (
        re.compile(r"^Must be less than or equal to (?P<high>-?[\d.]+)\.$"),
        lambda m: _("Must be less than or equal to %(high)s.", high=m["high"]),
    ),
)


def translated(message):
    """A message (or a list / dict of them, as in ``fields``) in the caller's language where the catalog has it."""
    if isinstance(message, list):
        return [translated(item) for item in message]
    if isinstance(message, dict):
        return {key: translated(value) for key, value in message.items()}
    if not isinstance(message, str) or not message:
        return message
    text = _(message)
    if text != message:
        return text
    for shape, render in _SHAPES:
        if match := shape.match(message):
            return render(match)
    return message


def is_api_request() -> bool:
    """True when the request is for the JSON API (its errors are JSON, not pages)."""
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, code: str, message: str, fields: dict | None = None, **extra):
    """A response with the contract's error body."""
    body = {"code": code, "message": translated(str(message))}
    if fields:
        body["fields"] = translated(fields)
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


def _expired_form_page(status: int):
    """A form whose session is gone (cookies cleared, a phone asleep for days): say what to do, not "CSRF".

    A sign-in form is simply shown again, with a fresh token, so the second try works; any
    other form gets a page that sends its reader back where they can start over.
    """
    message = _("The form expired — reload the page and try again.")
    if request.endpoint == "auth.login":
        flash(message, "error")
        return render_template("auth/login.html", email=request.form.get("email", "")), status
    return render_template("errors/error.html", status=status, error=None, message=message), status


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


class ErrorDetailSchema(ma.Schema):
    """What went wrong: a snake_case code, a sentence, and per-field messages for validation errors."""

    class Meta:
        unknown = ma.INCLUDE  # some errors say more (e.g. the points available)

    code = ma.fields.String(required=True, metadata={"example": "validation_error"})
    message = ma.fields.String(required=True)
    fields = ma.fields.Dict(keys=ma.fields.String(), metadata={"description": "Field name → messages (validation errors only)."})


class ErrorSchema(ma.Schema):
    """The body of every error response under /api/v1."""

    error = ma.fields.Nested(ErrorDetailSchema, required=True)


class Api(flask_smorest.Api):
    """flask-smorest's Api with the contract's error body (and HTML pages elsewhere)."""

    ERROR_SCHEMA = ErrorSchema  # documents every operation's default response

    def _register_error_handlers(self):
        """Leave the app's error handlers to the request lifecycle, which also rolls the request back."""

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if not is_api_request():
            if isinstance(error, CSRFError):
                return _expired_form_page(status)
            return render_template("errors/error.html", status=status, error=error), status
        code, message = _HTTP_CODES.get(status, ("error", error.description or "Request failed."))
        if isinstance(error, CSRFError):
            return error_response(
                403, "csrf_failed", _("The CSRF token is missing or invalid. Send it in the X-CSRFToken header.")
            )
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
