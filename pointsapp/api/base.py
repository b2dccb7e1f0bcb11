"""What every API resource shares: the error envelope, callers, idempotency, pages.

Errors under ``/api/v1`` always have the body
``{"error": {"code", "message", "fields"?}}``; pages elsewhere get HTML.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask import g, jsonify, make_response, render_template, request
from flask_login import current_user
from flask.json.provider import DefaultJSONProvider
from flask_wtf.csrf import CSRFError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from pointsapp import pagination, text

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
    return request.path.startswith(API_PREFIX + "/") or request.path == API_PREFIX


def error_response(status: int, code: str, message: str, fields: dict | None = None, **extra):
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


class Parser(FlaskParser):
    """webargs' parser, where a body nested too deeply or a number too long to read is malformed JSON (400)."""

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            raise json.JSONDecodeError("The JSON body is nested too deeply.", "[", 0) from None  # doc "" would read as no body
        except json.JSONDecodeError:
            raise
        except ValueError:  # an integer past Python's digit limit
            raise json.JSONDecodeError("A number in the JSON body is too long.", "[", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint with the API's argument parser."""

    ARGUMENTS_PARSER = Parser()


def Id(**kwargs) -> ma.fields.Integer:  # noqa: N802 - reads like a field class
    """An integer id in a body: a JSON number from 1 to the largest id a column can hold."""
    return ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=MAX_ID), **kwargs)


def in_utc_range(moment) -> None:
    """A time must exist in UTC too (0001-01-01T00:00+14:00 does not)."""
    try:
        if moment is not None and moment.tzinfo is not None:
            moment.astimezone(dt.timezone.utc)
    except OverflowError:
        raise ma.ValidationError("Out of range.") from None


class Api(flask_smorest.Api):
    """flask-smorest's Api with the contract's error body (and HTML pages elsewhere)."""

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


class Schema(ma.Schema):
    """Base schema: unknown input keys are ignored (clients may send more)."""

    class Meta:
        unknown = ma.EXCLUDE
        ordered = True

    # Keys whose text is checked elsewhere (e.g. each event of a batch, on its own).
    TEXT_CHECKED_ELSEWHERE: frozenset[str] = frozenset()

    @ma.pre_load
    def _refuse_unstorable(self, data, **_):
        # NUL or a lone surrogate would fail on INSERT: refuse it up front, naming the field.
        text.refuse_unstorable(data, self.TEXT_CHECKED_ELSEWHERE)
        return data


class PageArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = ma.fields.String(load_default=None)


def keyset_page(stmt, model, args: dict, *, time_column=None):
    """Newest first, ties by id descending; returns (rows, next_cursor)."""
    return pagination.keyset_page(stmt, model, limit=args["limit"], cursor=args.get("cursor"), time_column=time_column)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A ``{"items": [...], "next_cursor": ...}`` schema around an item schema."""
    return type(
        name,
        (Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema)),
            "next_cursor": ma.fields.String(allow_none=True),
        },
    )


def list_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return type(name, (Schema,), {"items": ma.fields.List(ma.fields.Nested(item_schema))})


# --- callers -------------------------------------------------------------------


def principal():
    """The calling user or integration, set by ``authenticate_request``."""
    return g.get("principal")


def acting_user():
    """The calling user; 403 for integration tokens (they may only post events)."""
    caller = principal()
    if caller is None:
        flask_smorest.abort(401)
    if caller.user is None:
        flask_smorest.abort(403, message="Integration tokens may only post events.")
    return caller.user


def login_required(view):
    """Any user (not an integration) may call this view."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        acting_user()
        return view(*args, **kwargs)

    return wrapper


def caller_required(view):
    """A user or an integration client may call this view."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if principal() is None:
            flask_smorest.abort(401)
        return view(*args, **kwargs)

    return wrapper


def bearer_token() -> str | None:
    """The token of a bearer-authenticated request, else None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate_request():
    """Resolve the bearer token (or the browser session) into ``g.principal``.

    Session-authenticated unsafe requests must carry the CSRF token; bearer
    and anonymous requests need none.
    """
    from pointsapp.auth import Principal, principal_for_token
    from pointsapp.extensions import csrf, login_manager

    g.principal = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "unauthorized", "Use 'Authorization: Bearer <token>'.")
        found = principal_for_token(token.strip())
        if found is None:
            return error_response(401, "unauthorized", "This token is unknown or has been revoked.")
        g.principal = found
        if found.user is not None:
            login_manager._update_request_context_with_user(found.user)
        g.bearer = True
        return None
    if current_user.is_authenticated:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()
        g.principal = Principal(user=current_user._get_current_object())
    return None


# --- idempotency ---------------------------------------------------------------


def idempotent(view):
    """Honour ``Idempotency-Key``: same key and body → the first response again.

    The key is claimed (a unique row) before the view runs, in the same
    transaction as the view's effect, and committed with it. A concurrent
    request with the same key waits on the row and then replays the answer.
    Only successful responses are remembered; a refusal changed nothing, so a
    retry simply runs again.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        from pointsapp import ledger
        from pointsapp.extensions import db

        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            return error_response(
                422, "validation_error", "Idempotency-Key must be 1 to 255 characters.",
                {"Idempotency-Key": ["Must be 1 to 255 characters."]},
            )
        caller = principal()
        if caller is None:
            flask_smorest.abort(401)
        fingerprint = ledger.request_fingerprint(request.method, request.path, request.get_data())
        for _attempt in range(3):
            existing = ledger.find_idempotency_record(caller.key, key)
            if existing is not None and existing.status_code:
                return _replay(existing, fingerprint)
            try:
                record = ledger.claim_idempotency_key(caller.key, key, fingerprint)
            except sa.exc.IntegrityError:
                db.session.rollback()
                continue
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                db.session.rollback()
                return response
            record.status_code = response.status_code
            record.response_body = response.get_data(as_text=True)
            try:
                db.session.commit()
            except sa.exc.IntegrityError:
                db.session.rollback()
                continue
            return response
        return error_response(409, "conflict", "This request is being processed; retry shortly.")

    return wrapper


def _replay(record, fingerprint: str):
    if record.request_hash != fingerprint:
        return error_response(
            409, "idempotency_conflict", "This Idempotency-Key was already used with a different request."
        )
    response = make_response(record.response_body, record.status_code)
    response.headers["Content-Type"] = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response
