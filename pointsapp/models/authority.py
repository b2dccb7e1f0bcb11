"""Authority over points: team budgets, their monthly use, challenge reservations, the audit trail.

Only ``pointsapp.budgets`` writes the budget tables and only ``pointsapp.audit``
writes ``audit_record``; the database refuses UPDATE and DELETE on audit records.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, utcnow


class TeamBudget(db.Model):
    """The monthly points budget an admin set for a team (without a row: the setting TEAM_MONTHLY_BUDGET)."""

    __tablename__ = "team_budget"

    team_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("team.id"), primary_key=True)
    monthly_points: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    set_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("monthly_points >= 0", name="ck_team_budget_not_negative"),)


class BudgetUsage(db.Model):
    """Points a team's budget has given out (lead awards) or reserved (challenge pools) in one month."""

    __tablename__ = "budget_usage"

    team_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("team.id"), primary_key=True)
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10), primary_key=True)  # a month, e.g. "2026-11"
    used: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

    __table_args__ = (sa.CheckConstraint("used >= 0", name="ck_budget_usage_not_negative"),)


class BudgetReservation(db.Model):
    """A challenge's pool reserved from its team's budget in the month it was created; ``returned`` went back."""

    __tablename__ = "budget_reservation"

    challenge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("challenge.id"), primary_key=True)
    team_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("team.id"))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    points: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    returned: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("points > 0", name="ck_budget_reservation_points_positive"),
        sa.CheckConstraint("returned >= 0 AND returned <= points", name="ck_budget_reservation_returned_range"),
    )


class AuditRecord(db.Model):
    """One privileged action: who (a user, an integration, or the system when both are empty), what, to what."""

    __tablename__ = "audit_record"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    integration_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("integration.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(40))
    subject_id: so.Mapped[int | None] = so.mapped_column(sa.BigInteger)
    details: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)

    __table_args__ = (
        sa.CheckConstraint("actor_id IS NULL OR integration_id IS NULL", name="ck_audit_record_one_actor"),
        sa.Index("ix_audit_record_at", "at", "id"),
        sa.Index("ix_audit_record_action_at", "action", "at"),
        sa.Index("ix_audit_record_subject", "subject_type", "subject_id"),
    )


# Append-only, enforced by the database: these statements make UPDATE and DELETE fail.
AUDIT_GUARDS = {
    "sqlite": [
        "CREATE TRIGGER audit_record_no_update BEFORE UPDATE ON audit_record "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
        "CREATE TRIGGER audit_record_no_delete BEFORE DELETE ON audit_record "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_record_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$",
        "CREATE TRIGGER audit_record_no_change BEFORE UPDATE OR DELETE ON audit_record "
        "FOR EACH ROW EXECUTE FUNCTION audit_record_append_only()",
    ],
}
AUDIT_GUARD_DROPS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_record_no_update", "DROP TRIGGER IF EXISTS audit_record_no_delete"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_record_no_change ON audit_record",
        "DROP FUNCTION IF EXISTS audit_record_append_only()",
    ],
}


@sa.event.listens_for(AuditRecord.__table__, "after_create")
def _guard_audit_records(table, connection, **kwargs):
    """``create_all`` installs the same guards as the migration."""
    for statement in AUDIT_GUARDS.get(connection.dialect.name, []):
        connection.exec_driver_sql(statement)
