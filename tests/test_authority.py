"""Budgets and the audit trail at the domain level: draws, reservations, releases, append-only records."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp import audit, budgets
from pointsapp.errors import BudgetExhausted
from pointsapp.extensions import db
from pointsapp.models import AuditRecord, BudgetReservation, BudgetUsage, Challenge
from tests import factories


def test_a_team_without_a_set_budget_has_the_default_and_draws_reduce_what_remains(org, app):
    assert app.config["TEAM_MONTHLY_BUDGET"] == 5000
    view = budgets.draw(org.wealth.id, 1200)
    db.session.commit()
    assert (view.monthly_points, view.used, view.remaining, view.is_default) == (5000, 1200, 3800, True)
    assert budgets.budget_of(org.wealth.id).used == 1200
    assert budgets.budget_of(org.loans.id).used == 0


def test_a_draw_beyond_the_budget_is_refused_and_changes_nothing(org):
    budgets.draw(org.wealth.id, 4990)
    db.session.commit()
    with pytest.raises(BudgetExhausted) as refused:
        budgets.draw(org.wealth.id, 11)
    assert refused.value.extra["remaining"] == 10
    db.session.rollback()
    assert budgets.budget_of(org.wealth.id).used == 4990
    budgets.draw(org.wealth.id, 10)  # exactly what is left is fine
    db.session.commit()
    assert budgets.budget_of(org.wealth.id).remaining == 0


def test_months_are_counted_apart(org):
    november = dt.datetime(2026, 11, 15, tzinfo=dt.timezone.utc)
    december = dt.datetime(2026, 12, 2, tzinfo=dt.timezone.utc)
    budgets.draw(org.wealth.id, 5000, at=november)
    budgets.draw(org.wealth.id, 100, at=december)
    db.session.commit()
    assert budgets.budget_of(org.wealth.id, at=november).used == 5000
    assert budgets.budget_of(org.wealth.id, at=december).used == 100
    rows = dict(db.session.execute(sa.select(BudgetUsage.period_key, BudgetUsage.used)).all())
    assert rows == {"2026-11": 5000, "2026-12": 100}


def test_a_lowered_budget_keeps_what_was_used_and_leaves_nothing(org):
    budgets.draw(org.wealth.id, 800)
    budgets.set_budget(org.admin, org.wealth.id, 500)
    db.session.commit()
    view = budgets.budget_of(org.wealth.id)
    assert (view.monthly_points, view.used, view.remaining, view.is_default) == (500, 800, 0, False)


def _challenge(team, pool=300, creator=None):
    now = dt.datetime.now(dt.timezone.utc)
    row = Challenge(
        team_id=team.id,
        title="t",
        event_type="x",
        target=1,
        pool=pool,
        starts_at=now,
        ends_at=now + dt.timedelta(days=1),
        status="active",
        progress=0,
        created_by_id=creator.id if creator else None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_a_reserved_pool_goes_back_to_the_month_it_came_from_once(org):
    key = budgets.reserve(org.wealth_lead, org.wealth.id, 300)
    challenge = _challenge(org.wealth, 300, org.wealth_lead)
    budgets.record_reservation(challenge, key)
    db.session.commit()
    assert budgets.budget_of(org.wealth.id).used == 300
    assert budgets.release(challenge.id) == 300
    assert budgets.release(challenge.id) == 0  # never twice
    db.session.commit()
    assert budgets.budget_of(org.wealth.id).used == 0
    assert db.session.get(BudgetReservation, challenge.id).returned == 300


def test_an_admin_reserves_nothing_and_releasing_their_challenge_gives_back_nothing(org):
    assert budgets.reserve(org.admin, org.wealth.id, 9_000_000) is None
    challenge = _challenge(org.wealth, 9_000_000, org.admin)
    assert budgets.record_reservation(challenge, None) is None
    assert budgets.release(challenge.id) == 0
    db.session.commit()
    assert budgets.budget_of(org.wealth.id).used == 0


def test_an_audit_record_keeps_actor_subject_and_details(org):
    crm = factories.integration("Core CRM")
    by_user = audit.record(org.admin, "budget.set", "team", org.wealth.id, {"monthly_points": 10, "at": dt.date(2026, 11, 1)})
    by_crm = audit.record(crm, "event.reversed", "event", 7, {"reason": "duplicate"})
    by_system = audit.record(None, "challenge.closed", "challenge", 3)
    db.session.commit()
    rows = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action != "user.created").order_by(AuditRecord.id)).all()
    assert [(r.actor_id, r.integration_id, r.action, r.subject_type, r.subject_id) for r in rows] == [
        (org.admin.id, None, "budget.set", "team", org.wealth.id),
        (None, crm.id, "event.reversed", "event", 7),
        (None, None, "challenge.closed", "challenge", 3),
    ]
    assert rows[0].details == {"monthly_points": 10, "at": "2026-11-01"}
    assert (by_user.id, by_crm.id, by_system.id) == tuple(r.id for r in rows)


def test_the_database_refuses_to_change_or_delete_an_audit_record(org):
    row = audit.record(org.admin, "budget.set", "team", org.wealth.id, {"monthly_points": 10})
    db.session.commit()
    for statement in (
        sa.update(AuditRecord).where(AuditRecord.id == row.id).values(action="rule.created"),
        sa.delete(AuditRecord).where(AuditRecord.id == row.id),
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    assert db.session.scalar(sa.select(AuditRecord.action).where(AuditRecord.id == row.id)) == "budget.set"
