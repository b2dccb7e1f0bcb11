"""Idempotency keys: a request's fingerprint, the (caller, key) claim, and the replay of the first answer.

A key is claimed (a unique row) before the operation runs, in the same transaction as its
effect, so the key and the effect commit together or not at all. A concurrent request with
the same key waits on the row and then replays the stored answer.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from flask import make_response

from pointsapp.extensions import db
from pointsapp.http import error_response
from pointsapp.models import IdempotencyRecord


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash a request so that the same JSON, however formatted, matches."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def find(caller: str, key: str) -> IdempotencyRecord | None:
    """The record of this caller's key, if one was claimed and committed."""
    return db.session.scalar(sa.select(IdempotencyRecord).where(IdempotencyRecord.caller == caller, IdempotencyRecord.key == key))


def claim(caller: str, key: str, request_hash: str) -> IdempotencyRecord:
    """Insert the (caller, key) record; IntegrityError if someone holds it already."""
    record = IdempotencyRecord(caller=caller, key=key, request_hash=request_hash, status_code=0, response_body="")
    db.session.add(record)
    db.session.flush()
    return record


def remember(record: IdempotencyRecord, status_code: int, body: str) -> None:
    """Store the answer to replay; it commits with the request's effect."""
    record.status_code = status_code
    record.response_body = body
    db.session.flush()


def replay(record: IdempotencyRecord, request_hash: str):
    """The first answer again, or 409 when the key was used for a different request."""
    if record.request_hash != request_hash:
        return error_response(409, "idempotency_conflict", "This Idempotency-Key was already used with a different request.")
    response = make_response(record.response_body, record.status_code)
    response.headers["Content-Type"] = "application/json"
    response.headers["Idempotent-Replayed"] = "true"
    return response
