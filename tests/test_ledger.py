"""The ledger core: entries, wallets, rollups, holds, reversals, and its invariant check."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.errors import InsufficientPoints, InvalidTransition, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Hold, LedgerEntry, PeriodTotal, Wallet
from pointsapp.periods import period_keys
from tests import factories
from tests.conftest import ON_POSTGRES, run_concurrently


def test_posting_updates_balance_lifetime_and_all_four_rollups(org):
    moment = dt.datetime(2026, 11, 4, 3, 0, tzinfo=dt.timezone.utc)
    ledger.post(org.alice.id, 30, kind="manual_award", reason="Loan signed", effective_at=moment)
    ledger.post(org.alice.id, -10, kind="manual_deduction", reason="Correction", effective_at=moment)
    db.session.commit()
    wallet = db.session.get(Wallet, org.alice.id)
    # A deduction lowers the balance and the period totals, never what was earned in a lifetime.
    assert (wallet.balance, wallet.held, wallet.lifetime_earned) == (20, 0, 30)
    totals = {(r.period, r.period_key): r.points for r in db.session.scalars(sa.select(PeriodTotal))}
    assert totals == {("week", "2026-W45"): 20, ("month", "2026-11"): 20, ("quarter", "2026-Q4"): 20, ("year", "2026"): 20}


def test_periods_are_cut_in_the_organisation_time_zone():
    # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai.
    keys = period_keys(dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.timezone.utc))
    assert keys == {"week": "2026-W53", "month": "2027-01", "quarter": "2027-Q1", "year": "2027"}


def test_zero_points_and_blank_reasons_are_refused(org):
    with pytest.raises(ValidationFailed):
        ledger.post(org.alice.id, 0, kind="manual_award", reason="nothing")
    with pytest.raises(ValidationFailed):
        ledger.post(org.alice.id, 5, kind="manual_award", reason="   ")
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


def test_the_database_refuses_a_zero_entry_even_if_code_tried(org):
    db.session.add(
        LedgerEntry(
            user_id=org.alice.id, points=0, kind="manual_award", reason="x", effective_at=dt.datetime.now(dt.timezone.utc)
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_dedupe_key_makes_an_operation_happen_once(org):
    first = ledger.post(org.alice.id, 50, kind="period_bonus", reason="Clean quarter", dedupe_key="bonus:2026-Q3")
    again = ledger.post(org.alice.id, 50, kind="period_bonus", reason="Clean quarter", dedupe_key="bonus:2026-Q3")
    db.session.commit()
    assert again.id == first.id
    assert db.session.get(Wallet, org.alice.id).balance == 50


def test_reversal_is_linked_counts_in_the_original_period_and_happens_once(org):
    moment = dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.timezone.utc)
    entry = ledger.post(org.alice.id, 30, kind="manual_award", reason="Loan signed", effective_at=moment)
    reversal = ledger.reverse(entry, actor_id=org.admin.id, reason="Loan turned bad")
    db.session.commit()
    assert (reversal.points, reversal.reverses_id, reversal.effective_at) == (-30, entry.id, moment)
    assert db.session.get(Wallet, org.alice.id).balance == 0
    quarter = db.session.get(PeriodTotal, ("quarter", "2026-Q3", org.alice.id))
    assert quarter.points == 0
    with pytest.raises(InvalidTransition):
        ledger.reverse(entry, actor_id=org.admin.id, reason="again")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 2


def test_a_clawback_may_leave_the_user_owing_points(org):
    factories.give_points(org.alice, 30)
    ledger.post(org.alice.id, -100, kind="compliance_deduction", reason="Compliance breach")
    db.session.commit()
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.available) == (-70, -70)
    with pytest.raises(InsufficientPoints) as refused:
        ledger.place_hold(org.alice.id, 10, reason="voucher")
    assert refused.value.extra["missing"] == 80


def test_hold_capture_and_release_move_held_and_balance(org):
    factories.give_points(org.alice, 100)
    captured = ledger.place_hold(org.alice.id, 40, reason="Leave day")
    released = ledger.place_hold(org.alice.id, 25, reason="Remote day")
    db.session.commit()
    assert ledger.wallet_summary(org.alice.id).available == 35
    spend = ledger.capture_hold(captured.id, actor_id=org.wealth_lead.id, reason="Leave day approved")
    ledger.release_hold(released.id)
    db.session.commit()
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.held, summary.available, summary.lifetime_earned) == (60, 0, 60, 100)
    assert (spend.points, spend.kind, spend.hold_id) == (-40, "redemption", captured.id)
    # Spending does not lower what the user earned this week.
    assert summary.period_points["week"] == 100
    with pytest.raises(InvalidTransition):
        ledger.release_hold(captured.id)
    db.session.rollback()


def test_a_hold_beyond_the_available_balance_is_refused_with_the_missing_points(org):
    factories.give_points(org.alice, 30)
    with pytest.raises(InsufficientPoints) as refused:
        ledger.place_hold(org.alice.id, 50, reason="Bonus cash")
    assert refused.value.extra == {"missing": 20, "available": 30}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Hold.id))) == 0


def test_concurrent_holds_never_overdraw(app, org):
    """20 threads each try to hold 10 of 50 points: exactly 5 succeed."""
    factories.give_points(org.alice, 50)

    def hold(_):
        with app.app_context():
            try:
                ledger.place_hold(org.alice.id, 10, reason="voucher")
                db.session.commit()
                return True
            except InsufficientPoints:
                db.session.rollback()
                return False

    results = run_concurrently(hold, 20)
    assert results.count(True) == 5
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.held, summary.available) == (50, 0)


def test_racing_capture_and_release_let_exactly_one_win(app, org):
    factories.give_points(org.alice, 50)
    hold = ledger.place_hold(org.alice.id, 20, reason="Leave day")
    db.session.commit()

    def decide(i):
        with app.app_context():
            try:
                if i % 2:
                    ledger.capture_hold(hold.id, actor_id=org.wealth_lead.id, reason="approved")
                else:
                    ledger.release_hold(hold.id)
                db.session.commit()
                return True
            except InvalidTransition:
                db.session.rollback()
                return False

    assert run_concurrently(decide, 10).count(True) == 1
    assert ledger.wallet_summary(org.alice.id).held == 0


def test_check_ledger_reports_a_wallet_that_drifted(org):
    factories.give_points(org.alice, 30)
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(balance=31))
    db.session.commit()
    problems = ledger.check_ledger()
    assert problems == [f"user {org.alice.id}: balance 31 but entries sum to 30"]
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(balance=30))
    db.session.commit()


def test_check_ledger_reports_a_rollup_that_drifted(org):
    factories.give_points(org.alice, 30)
    db.session.execute(sa.update(PeriodTotal).where(PeriodTotal.period == "month").values(points=99))
    db.session.commit()
    [problem] = ledger.check_ledger()
    assert "month" in problem and "total 99 but entries sum to 30" in problem
    db.session.execute(sa.update(PeriodTotal).where(PeriodTotal.period == "month").values(points=30))
    db.session.commit()


def test_check_ledger_reports_held_and_lifetime_drift_and_spending_into_debt(org):
    factories.give_points(org.alice, 30)
    factories.give_points(org.bob, 20)
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(held=40, lifetime_earned=31))
    db.session.commit()
    assert ledger.check_ledger() == [
        f"user {org.alice.id}: held 40 but open holds sum to 0",
        f"user {org.alice.id}: lifetime 31 but earned less reversals is 30",
        f"user {org.alice.id}: available is -10 without any deduction",
    ]
    factories.give_points(org.alice, -15, reason="Compliance")  # a deduction may leave someone owing
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(held=0, lifetime_earned=30))
    db.session.commit()
    assert ledger.check_ledger() == []


def test_check_ledger_counts_a_reversal_against_what_was_earned(org):
    entry = ledger.post(org.alice.id, 30, kind="manual_award", reason="Loan signed")
    ledger.reverse(entry, actor_id=None, reason="Undone")
    db.session.commit()
    assert ledger.check_ledger() == []
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(lifetime_earned=30))
    db.session.commit()
    assert ledger.check_ledger() == [f"user {org.alice.id}: lifetime 30 but earned less reversals is 0"]
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(lifetime_earned=0))
    db.session.commit()


def test_held_can_never_go_below_zero_in_the_database(org):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(held=-1))
    db.session.rollback()


def test_sqlite_write_transactions_start_immediate(app):
    if ON_POSTGRES:
        assert db.engine.dialect.name == "postgresql"
        return
    statements = []
    db.session.remove()

    def record(dbapi_connection, _record, _proxy):  # every statement SQLite runs, BEGIN included
        dbapi_connection.set_trace_callback(statements.append)

    sa.event.listen(db.engine, "checkout", record)
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.connection().connection.dbapi_connection.set_trace_callback(None)
        db.session.rollback()
    finally:
        sa.event.remove(db.engine, "checkout", record)
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE"]
    assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    db.session.rollback()


def test_balances_and_rollups_hold_more_than_a_32_bit_integer(org):
    for _ in range(3):
        ledger.post(org.alice.id, ledger.MAX_ENTRY_POINTS, kind="manual_award", reason="Annual grand prize")
    db.session.commit()
    summary = ledger.wallet_summary(org.alice.id)
    assert summary.balance == 3 * ledger.MAX_ENTRY_POINTS > 2**31
    assert summary.period_points["year"] == 3 * ledger.MAX_ENTRY_POINTS
