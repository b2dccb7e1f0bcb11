"""The audit trail: one append-only record per privileged action, in the action's own transaction.

Design overview
---------------
* ``record(actor, action, subject_type, subject_id, details)`` adds one
  ``AuditRecord`` to the session and flushes it, so it commits or rolls back
  with the change it describes: a refused request leaves no record.
* The actor is a ``User``, an ``Integration``, a ``Principal`` (either), or
  ``None`` for the system (the scheduler, a command run without a user).
* Records are never updated or deleted: no code here does, and the database
  refuses it (triggers on SQLite and PostgreSQL, see ``models/authority.py``).
* ``ACTIONS`` names every action the app writes; ``details`` is a small JSON
  object of what changed (amounts, reasons, before → after).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import pagination, policy
from pointsapp.extensions import db
from pointsapp.models import AuditRecord, Integration, User
from pointsapp.models.types import utcnow

ACTIONS = (
    "award.created",
    "rule.created",
    "rule.deactivated",
    "event.reversed",
    "challenge.created",
    "challenge.closed",
    "challenge.restated",
    "redemption.approved",
    "redemption.rejected",
    "budget.set",
    "honor.created",
    "period.closed",
    "user.created",
    "user.updated",
    "user.deactivated",
    "team.created",
    "reward.created",
    "reward.updated",
    "badge.created",
    "mentorship.created",
    "veto.lifted",
)
SUBJECT_TYPES = (
    "award",
    "rule",
    "event",
    "challenge",
    "redemption",
    "team",
    "honor",
    "period",
    "user",
    "reward",
    "badge",
    "mentorship",
    "veto",
)


def _json_safe(details: dict | None) -> dict:
    # Times, dates and decimals become strings; the record must load back as plain JSON.
    return json.loads(json.dumps(details or {}, default=str, sort_keys=True))


def record(actor: Any, action: str, subject_type: str, subject_id: int | None, details: dict | None = None) -> AuditRecord:
    """Append one audit record for ``action`` on (subject_type, subject_id), in the current transaction."""
    user = getattr(actor, "user", None) if not isinstance(actor, (User, Integration)) else None
    integration = getattr(actor, "integration", None) if not isinstance(actor, (User, Integration)) else None
    if isinstance(actor, User):
        user = actor
    elif isinstance(actor, Integration):
        integration = actor
    row = AuditRecord(
        at=utcnow(),
        actor_id=user.id if user is not None else None,
        integration_id=integration.id if integration is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=_json_safe(details),
    )
    db.session.add(row)
    db.session.flush()
    return row


def _filtered(filters: dict) -> sa.Select:
    stmt = sa.select(AuditRecord)
    for name in ("action", "actor_id", "subject_type", "subject_id"):
        if filters.get(name) not in (None, ""):
            stmt = stmt.where(getattr(AuditRecord, name) == filters[name])
    if filters.get("since") is not None:
        stmt = stmt.where(AuditRecord.at >= filters["since"])
    if filters.get("until") is not None:
        stmt = stmt.where(AuditRecord.at < filters["until"])
    return stmt


def list_records(actor: User, filters: dict, *, limit: int = 50, cursor: str | None = None):
    """Audit records matching the filters, newest first: (rows, next_cursor). Admins only."""
    policy.require(policy.can_read_audit(actor), _("Only admins can read the audit trail."))
    return pagination.keyset_page(_filtered(filters), AuditRecord, limit=limit, cursor=cursor, time_column=AuditRecord.at)


def all_records(actor: User | None, filters: dict, *, cap: int = 100_000) -> list[AuditRecord]:
    """Every record matching the filters, newest first, for the CSV export (at most ``cap``; ``actor`` None: the CLI)."""
    if actor is not None:
        policy.require(policy.can_read_audit(actor), _("Only admins can read the audit trail."))
    stmt = _filtered(filters).order_by(AuditRecord.at.desc(), AuditRecord.id.desc()).limit(cap)
    return list(db.session.scalars(stmt))


def actor_names(records: list[AuditRecord]) -> dict[tuple[str, int], str]:
    """Names of the users and integrations that acted, keyed ("user", id) or ("integration", id)."""
    user_ids = {r.actor_id for r in records if r.actor_id is not None}
    integration_ids = {r.integration_id for r in records if r.integration_id is not None}
    names: dict[tuple[str, int], str] = {}
    if user_ids:
        names |= {("user", i): n for i, n in db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids)))}
    if integration_ids:
        rows = db.session.execute(sa.select(Integration.id, Integration.name).where(Integration.id.in_(integration_ids)))
        names |= {("integration", i): n for i, n in rows}
    return names


CSV_COLUMNS = ("id", "at", "actor_id", "actor", "integration_id", "action", "subject_type", "subject_id", "details")


def csv_rows(records: list[AuditRecord]) -> list[dict]:
    """One plain row per record for ``exports.to_csv`` (which neutralises formula-like cells)."""
    names = actor_names(records)
    return [
        {
            "id": r.id,
            "at": r.at.astimezone(dt.timezone.utc).isoformat(),
            "actor_id": r.actor_id if r.actor_id is not None else "",
            "actor": names.get(("user", r.actor_id)) or names.get(("integration", r.integration_id)) or "",
            "integration_id": r.integration_id if r.integration_id is not None else "",
            "action": r.action,
            "subject_type": r.subject_type,
            "subject_id": r.subject_id if r.subject_id is not None else "",
            "details": json.dumps(r.details or {}, ensure_ascii=False, sort_keys=True),
        }
        for r in records
    ]
