"""What every API resource shares: the argument parser, schemas, callers, idempotency keys, pages."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping

import flask_smorest
import marshmallow as ma
import sqlalchemy as sa
from flask import g, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from webargs.flaskparser import FlaskParser

from pointsapp import database, idempotency, lifecycle, pagination, text
from pointsapp.auth import Principal, principal_for_token
from pointsapp.extensions import api, csrf, db, login_manager
from pointsapp.http import MAX_ID, error_response


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
        raise ma.ValidationError(_("Out of range.")) from None


class Schema(ma.Schema):
    """Base schema: unknown input keys are ignored (clients may send more)."""

    class Meta:
        unknown = ma.EXCLUDE
        ordered = True

    # Keys whose text is checked elsewhere (e.g. each event of a batch, on its own).
    TEXT_CHECKED_ELSEWHERE: frozenset[str] = frozenset()

    @ma.pre_load
    def _refuse_unstorable(self, data, **kwargs):
        # NUL or a lone surrogate would fail on INSERT: refuse it up front, naming the field. Keys this schema
        # drops (unknown = EXCLUDE) are never stored, so whatever they hold is no concern.
        if isinstance(data, Mapping) and self.unknown == ma.EXCLUDE:
            kept = {field.data_key or name for name, field in self.load_fields.items()}
            data_to_check = {k: v for k, v in data.items() if k in kept}
        else:
            data_to_check = data
        text.refuse_unstorable(data_to_check, self.TEXT_CHECKED_ELSEWHERE)
        return data


class PageArgsSchema(Schema):
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = ma.fields.String(
        load_default=None,
        validate=[ma.validate.Length(max=400), ma.validate.Regexp(r"^[A-Za-z0-9_-]*$")],
        metadata={"description": "The next_cursor of the previous page (opaque)."},
    )


MONEY_RE = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


class Money(ma.fields.Decimal):
    """An amount of money (yuan): answered as a decimal string with two places ("500.00").

    A request may send it as that string or as a JSON number; a string must look
    like one (``MONEY_RE``), so "1e3" or " 5" is refused rather than guessed at.
    """

    def __init__(self, *, maximum: int, **kwargs):
        kwargs.setdefault("validate", ma.validate.Range(min=0, max=maximum))
        metadata = {
            "description": 'Money, two decimal places; answered as a string ("500.00"), sent as that string or a number.',
            "anyOf": [{"type": "string", "pattern": MONEY_RE}, {"type": "number", "minimum": 0, "maximum": maximum}],
            **kwargs.pop("metadata", {}),
        }
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or (isinstance(value, str) and not re.match(MONEY_RE, value)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


api.register_field(Money, None, None)  # no single type in the document: its anyOf says what is accepted


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
        flask_smorest.abort(403, message=_("Integration tokens may only post events."))
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
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authenticate_request():
    """Resolve the bearer token (or the browser session) into ``g.principal``.

    Session-authenticated unsafe requests must carry the CSRF token; bearer
    and anonymous requests need none.
    """
    g.principal = None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "unauthorized", "Use 'Authorization: Bearer <token>'.")
        with database.reading_apart() as apart:  # SQLite: the token is read without waiting for the write lock
            found = principal_for_token(token.strip())
        if apart and found is not None and found.user is not None:
            db.session.refresh(found.user)  # read apart: a user's request reads them again, under the write lock
            found = found if found.user.is_active else None
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


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Same key and body again → the first answer again, nothing done twice; another body → 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def idempotent(view):
    """Honour ``Idempotency-Key``: same key and body → the first response again.

    The key is claimed before the view runs and the answer stored after it; both commit
    with the view's effect when the request ends. Only successful responses are
    remembered: a refusal rolls the claim back with everything else, so a retry runs again.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255:
            return error_response(
                422,
                "validation_error",
                "Idempotency-Key must be 1 to 255 characters.",
                {"Idempotency-Key": ["Must be 1 to 255 characters."]},
            )
        caller = principal()
        if caller is None:
            flask_smorest.abort(401)
        request_hash = idempotency.fingerprint(request.method, request.path, request.get_data())
        for _attempt in range(3):
            existing = idempotency.find(caller.key, key)
            if existing is not None and existing.status_code:
                return idempotency.replay(existing, request_hash)
            try:
                record = idempotency.claim(caller.key, key, request_hash)
            except sa.exc.IntegrityError:  # a concurrent request holds the key; its answer is committed now
                db.session.rollback()
                continue
            response = make_response(view(*args, **kwargs))
            if response.status_code >= 400:
                lifecycle.refuse()
                return response
            idempotency.remember(record, response.status_code, response.get_data(as_text=True))
            return response
        return error_response(409, "conflict", "This request is being processed; retry shortly.")

    wrapper._apidoc = copy.deepcopy(getattr(wrapper, "_apidoc", {}))  # flask-smorest's doc of the view
    wrapper._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
    return wrapper
