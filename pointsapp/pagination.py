"""Keyset pagination: newest first, ties broken by id descending, opaque cursors."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db


def encode_cursor(*values) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed(_("The cursor is not one this server gave out."), fields={"cursor": [_("Not a valid cursor.")]})


MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns


def decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment, last_id = dt.datetime.fromisoformat(moment), int(last_id)
        # Cursors this server gives out carry an aware UTC time and a real id; anything else would break the query.
        if moment.tzinfo is None or not 0 <= last_id <= MAX_ID:
            raise ValueError("not a cursor of ours")
        return moment.astimezone(dt.timezone.utc), last_id
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise _bad_cursor() from None


def keyset_page(stmt, model, *, limit: int, cursor: str | None = None, time_column=None):
    """Run ``stmt`` newest first; return (rows, next_cursor or None)."""
    time_column = time_column if time_column is not None else model.created_at
    if cursor:
        moment, last_id = decode_cursor(cursor)
        stmt = stmt.where(sa.or_(time_column < moment, sa.and_(time_column == moment, model.id < last_id)))
    rows = list(db.session.scalars(stmt.order_by(time_column.desc(), model.id.desc()).limit(limit + 1)))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(getattr(rows[-1], time_column.key), rows[-1].id)
