"""Earning: versioned rules, events from CRM / risk systems, mentorships, vetoes, period closes."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, translations_column, utcnow

RULE_KINDS = ("event", "period")


class Rule(db.Model):
    """One version of a points rule. A new version closes the old one (valid_to)."""

    __tablename__ = "rule"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(10), default="event")
    event_type: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    translations: so.Mapped[dict] = translations_column()
    points: so.Mapped[int] = so.mapped_column(sa.Integer)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # NULL valid_from: in force since the beginning (first version of a rule).
    valid_from: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    valid_to: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # Period rules: which period they close over and what qualifies / disqualifies.
    period: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    requires_event_type: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    forbids_event_type: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        enum_check("kind", RULE_KINDS, "ck_rule_kind"),
        sa.Index(
            "uq_rule_one_active_per_type",
            "kind",
            "event_type",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
    )


class Event(db.Model):
    """A business event. Identity: (source, external_id); payload_hash detects conflicts."""

    __tablename__ = "event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    source: so.Mapped[str] = so.mapped_column(sa.String(64))  # "integration:3" or "admin"
    external_id: so.Mapped[str] = so.mapped_column(sa.String(255))
    type: so.Mapped[str] = so.mapped_column(sa.String(64))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    occurred_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    quantity: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
    participants: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    payload_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    # The earlier event of the same source this one refers to (a bad loan names the loan it sours).
    related_event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))
    rule_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rule.id"))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    reversed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    reversed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    reverse_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    __table_args__ = (
        sa.UniqueConstraint("source", "external_id", name="uq_event_source_external_id"),
        sa.CheckConstraint("quantity >= 1", name="ck_event_quantity_positive"),
        sa.Index("ix_event_user_type_time", "user_id", "type", "occurred_at"),
        sa.Index("ix_event_type_time", "type", "occurred_at"),
        # Only clawbacks and corrections name an earlier event: the index holds those alone.
        sa.Index(
            "ix_event_related_event_id",
            "related_event_id",
            sqlite_where=sa.text("related_event_id IS NOT NULL"),
            postgresql_where=sa.text("related_event_id IS NOT NULL"),
        ),
    )


class Mentorship(db.Model):
    __tablename__ = "mentorship"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    mentor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    mentee_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    started_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    bonus_event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))

    __table_args__ = (
        sa.CheckConstraint("mentor_id <> mentee_id", name="ck_mentorship_not_self"),
        sa.Index(
            "uq_mentorship_one_active_mentor",
            "mentee_id",
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        ),
    )


class Veto(db.Model):
    """A compliance veto: no bonus, honour or pool share for the user in that period."""

    __tablename__ = "veto"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    period: so.Mapped[str] = so.mapped_column(sa.String(8))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    lifted_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    lifted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    lift_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))


class PeriodClose(db.Model):
    """A period rule closed over one period; (rule, period_key) happens once."""

    __tablename__ = "period_close"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rule_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rule.id"))
    period: so.Mapped[str] = so.mapped_column(sa.String(8))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    awarded_count: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    closed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    closed_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("rule_id", "period_key", name="uq_period_close_rule_key"),)


IMPORT_STATUSES = ("pending", "running", "done")


class EventImport(db.Model):
    """An uploaded CSV of events, processed in chunks so the page can show progress.

    The file lives in the database (app servers keep no local files); ``results``
    holds one report row per CSV row: ``{"row", "status", "column"?, "message"?}``.
    """

    __tablename__ = "event_import"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    filename: so.Mapped[str] = so.mapped_column(sa.String(255))
    content: so.Mapped[str] = so.mapped_column(sa.Text)
    total_rows: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    processed_rows: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    results: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    finished_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (enum_check("status", IMPORT_STATUSES, "ck_event_import_status"),)
