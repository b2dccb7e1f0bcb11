"""The events log: what came in, what it paid, and what was reversed (admins)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import pagination, policy
from pointsapp.extensions import db
from pointsapp.limits import INT_MAX
from pointsapp.models import Event, LedgerEntry, Rule, User
from pointsapp.periods import org_timezone

PAGE_SIZE = 30


@dataclasses.dataclass
class EventFilters:
    user_id: int | None = None
    type: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    event_id: int | None = None

    @classmethod
    def from_args(cls, args) -> EventFilters:
        """Read filters from query arguments, ignoring what does not parse."""

        def day(name):
            try:
                return dt.date.fromisoformat(args.get(name, ""))
            except ValueError:
                return None

        user = args.get("user_id", "")
        # An id no INTEGER column can hold matches nobody (0) rather than failing the query.
        user_id = (int(user) if len(user) <= 10 and int(user) <= INT_MAX else 0) if user.isdigit() else None
        return cls(user_id, (args.get("type") or "").strip() or None, day("from"), day("to"))


@dataclasses.dataclass
class LogRow:
    event: Event
    user: User | None
    rule: Rule | None
    entries: list[LedgerEntry]
    # Corrections this event caused beyond its own entries (restated challenges, retaken bonuses, a clawback).
    cascade: list[LedgerEntry] = dataclasses.field(default_factory=list)

    def cascade_by_user(self) -> list[tuple[int, list[LedgerEntry]]]:
        """Every entry the event's reversal (or clawback) posted, grouped by user, in user-id order."""
        posted = [e for e in self.entries if e.cause_event_id == self.event.id or e.kind == "reversal"] + self.cascade
        grouped: dict[int, list[LedgerEntry]] = defaultdict(list)
        for entry in sorted(posted, key=lambda e: e.id):
            grouped[entry.user_id].append(entry)
        return sorted(grouped.items())


def search_events(actor: User, filters: EventFilters, cursor: str | None = None) -> tuple[list[LogRow], str | None]:
    """Events newest first (by occurred_at) with their awards, reversals and cascades; four queries a page."""
    policy.require(policy.can_import_events(actor), _("Only administrators can see the events log."))
    stmt = sa.select(Event)
    if filters.event_id:
        stmt = stmt.where(Event.id == filters.event_id)
    if filters.user_id:
        stmt = stmt.where(Event.user_id == filters.user_id)
    if filters.type:
        stmt = stmt.where(Event.type == filters.type)
    tz = org_timezone()
    if filters.date_from:
        stmt = stmt.where(Event.occurred_at >= dt.datetime.combine(filters.date_from, dt.time(), tz))
    if filters.date_to:
        stmt = stmt.where(Event.occurred_at < dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), tz))
    events, next_cursor = pagination.keyset_page(stmt, Event, limit=PAGE_SIZE, cursor=cursor, time_column=Event.occurred_at)
    entries: dict[int, list[LedgerEntry]] = defaultdict(list)
    ids = [e.id for e in events]
    if ids:
        for entry in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.event_id.in_(ids)).order_by(LedgerEntry.id)):
            entries[entry.event_id].append(entry)
    cascade: dict[int, list[LedgerEntry]] = defaultdict(list)
    if ids:
        caused = sa.select(LedgerEntry).where(
            LedgerEntry.cause_event_id.in_(ids),
            sa.or_(LedgerEntry.event_id.is_(None), LedgerEntry.event_id != LedgerEntry.cause_event_id),
        )
        for entry in db.session.scalars(caused.order_by(LedgerEntry.id)):
            cascade[entry.cause_event_id].append(entry)
    users = _by_id(User, {e.user_id for e in events} | {x.user_id for rows in entries.values() for x in rows})
    rules = _by_id(Rule, {e.rule_id for e in events if e.rule_id})
    rows = [LogRow(e, users.get(e.user_id), rules.get(e.rule_id), entries.get(e.id, []), cascade.get(e.id, [])) for e in events]
    return rows, next_cursor


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(user_ids))).all())


def event_types() -> list[str]:
    """Every event type seen or ruled, for the filter's choices."""
    seen = set(db.session.scalars(sa.select(Event.type).distinct())) | set(
        db.session.scalars(sa.select(Rule.event_type).where(Rule.kind == "event").distinct())
    )
    return sorted(seen)
