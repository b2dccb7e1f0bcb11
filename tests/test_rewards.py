"""Rewards operations: expiry, exports for payroll and HR, the CLI commands, the demo catalog."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pointsapp import exports, ledger, redemptions, rewards
from pointsapp.errors import NotAllowed, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Hold, Notification, Redemption, RedemptionStep, Reward
from pointsapp.periods import period_bounds
from tests import factories

UTC = dt.timezone.utc


def make_reward(**fields) -> Reward:
    reward = Reward(**({"name": "Paid leave day", "kind": "leave_day", "cost": 100, "description": ""} | fields))
    db.session.add(reward)
    db.session.commit()
    return reward


def redeem(user, reward, quantity=1, *, at: dt.datetime | None = None) -> Redemption:
    redemption = rewards.redeem(user, reward.id, quantity)
    if at is not None:
        redemption.created_at = at
    db.session.commit()
    return redemption


def decide(redemption, approver, *, at: dt.datetime) -> None:
    redemptions.approve(approver, redemption.id)
    db.session.execute(sa.update(Redemption).where(Redemption.id == redemption.id).values(decided_at=at))
    db.session.commit()


# --- expiry ---------------------------------------------------------------------


def test_pending_redemptions_older_than_the_setting_expire_and_give_everything_back(app, org):
    reward = make_reward(stock=5)
    factories.give_points(org.alice, 1000)
    now = dt.datetime.now(UTC)
    old = redeem(org.alice, reward, at=now - dt.timedelta(days=15))
    fresh = redeem(org.alice, reward, at=now - dt.timedelta(days=13))
    assert app.config["REDEMPTION_EXPIRY_DAYS"] == 14
    assert redemptions.expire_stale() == 1
    db.session.commit()
    db.session.remove()
    assert db.session.get(Redemption, old.id).status == "expired"
    assert db.session.get(Redemption, fresh.id).status == "pending"
    assert ledger.wallet_summary(org.alice.id).held == 100
    assert db.session.scalar(sa.select(Reward.stock)) == 4
    steps = db.session.scalars(
        sa.select(RedemptionStep).where(RedemptionStep.redemption_id == old.id).order_by(RedemptionStep.id)
    ).all()
    assert [s.status for s in steps] == ["requested", "expired"] and "14 days" in steps[1].note
    note = db.session.scalar(sa.select(Notification))
    assert (note.user_id, note.template) == (org.alice.id, "redemption_expired")


def test_expiry_leaves_decided_redemptions_alone_and_runs_from_the_cli(cli, org):
    reward = make_reward()
    factories.give_points(org.alice, 1000)
    long_ago = dt.datetime.now(UTC) - dt.timedelta(days=40)
    approved = redeem(org.alice, reward, at=long_ago)
    decide(approved, org.wealth_lead, at=long_ago)
    stale = redeem(org.alice, reward, at=long_ago)
    result = cli.invoke(args=["expire-redemptions"])
    assert result.exit_code == 0, result.output
    assert "1 pending redemption(s) expired." in result.output
    db.session.remove()
    assert db.session.get(Redemption, approved.id).status == "approved"
    assert db.session.get(Redemption, stale.id).status == "expired"
    assert db.session.scalar(sa.select(Hold.status).where(Hold.id == stale.hold_id)) == "released"
    assert cli.invoke(args=["expire-redemptions"]).output.strip() == "0 pending redemption(s) expired."


def test_a_redemption_decided_during_the_sweep_is_left_as_decided(org):
    reward = make_reward(stock=5)
    factories.give_points(org.alice, 1000)
    stale = redeem(org.alice, reward, at=dt.datetime.now(UTC) - dt.timedelta(days=30))
    assert redemptions.stale_ids() == [stale.id]
    redemptions.approve(org.wealth_lead, stale.id)  # the lead decides while the sweep runs
    db.session.commit()
    assert redemptions.expire(stale.id) is False
    db.session.commit()
    db.session.remove()
    assert db.session.get(Redemption, stale.id).status == "approved"
    assert ledger.wallet_summary(org.alice.id).balance == 900
    assert db.session.scalar(sa.select(Reward.stock)) == 4


# --- exports --------------------------------------------------------------------


def _month_start(key: str) -> dt.datetime:
    return period_bounds("month", key)[0]


def test_payroll_export_lists_the_months_approved_bonus_cash_in_the_org_time_zone(org):
    cash = make_reward(name="Bonus cash ¥500", kind="bonus_cash", cost=100, cash_amount=Decimal("500"))
    leave = make_reward()
    factories.give_points(org.alice, 1000)
    factories.give_points(org.bob, 1000)
    start = _month_start("2026-11")  # 2026-11-01 00:00 in Shanghai = 2026-10-31 16:00 UTC
    inside = redeem(org.alice, cash, 2)
    decide(inside, org.admin, at=start + dt.timedelta(minutes=5))
    before = redeem(org.bob, cash)
    decide(before, org.admin, at=start - dt.timedelta(minutes=5))
    decide(redeem(org.bob, leave), org.wealth_lead, at=start + dt.timedelta(days=1))
    redeem(org.bob, cash)  # still pending
    rows = exports.payroll_rows(org.admin, "2026-11")
    assert rows == [
        {
            "redemption_id": inside.id,
            "employee_email": org.alice.email,
            "employee_name": "Alice",
            "reward": "Bonus cash ¥500",
            "quantity": 2,
            "amount": "1000.00",
            "currency": "CNY",
            "approved_at": "2026-11-01T00:05:00+08:00",
        }
    ]
    assert [r["redemption_id"] for r in exports.payroll_rows(org.admin, "2026-10")] == [before.id]


def test_hr_export_lists_leave_and_remote_days(org):
    leave = make_reward(name="Paid leave day")
    remote = make_reward(name="Remote day", kind="remote_day")
    factories.give_points(org.carol, 1000)
    at = _month_start("2026-11") + dt.timedelta(days=3)
    decide(redeem(org.carol, leave, 2), org.loans_lead, at=at)
    decide(redeem(org.carol, remote), org.admin, at=at + dt.timedelta(hours=1))
    text = exports.hr_csv(org.admin, "2026-11")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["employee_name"], r["team"], r["kind"], r["days"]) for r in rows] == [
        ("Carol", "Loans Team", "leave_day", "2"),
        ("Carol", "Loans Team", "remote_day", "1"),
    ]
    assert list(rows[0]) == list(exports.HR_COLUMNS)


def test_exports_neutralise_formulas_and_refuse_bad_months_and_non_admins(org):
    mallory = factories.user("employee", org.wealth, name='=HYPERLINK("x")')
    cash = make_reward(kind="bonus_cash", cash_amount=Decimal("50"))
    factories.give_points(mallory, 500)
    decide(redeem(mallory, cash), org.admin, at=_month_start("2026-11") + dt.timedelta(days=1))
    assert "'=HYPERLINK" in exports.payroll_csv(org.admin, "2026-11")
    with pytest.raises(ValidationFailed) as bad:
        exports.payroll_rows(org.admin, "2026-13")
    assert bad.value.fields == {"month": ["Use YYYY-MM."]}
    with pytest.raises(NotAllowed):
        exports.hr_rows(org.wealth_lead, "2026-11")


def test_export_commands_write_csv_for_a_month(cli, org):
    cash = make_reward(name="Bonus cash", kind="bonus_cash", cash_amount=Decimal("500"))
    factories.give_points(org.alice, 1000)
    approved = redeem(org.alice, cash)
    decide(approved, org.admin, at=_month_start("2026-11") + dt.timedelta(days=2))
    result = cli.invoke(args=["export-payroll", "--month", "2026-11"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == ",".join(exports.PAYROLL_COLUMNS)
    assert lines[1].startswith(f"{approved.id},{org.alice.email},Alice,Bonus cash,1,500.00,CNY,2026-11-03")
    hr = cli.invoke(args=["export-hr", "--month", "2026-11"])
    assert hr.exit_code == 0 and hr.output.strip() == ",".join(exports.HR_COLUMNS)
    bad = cli.invoke(args=["export-hr", "--month", "November"])
    assert bad.exit_code == 1 and "YYYY-MM" in bad.output


# --- catalog rules ----------------------------------------------------------------


def test_reward_validation_names_each_bad_field(org):
    with pytest.raises(ValidationFailed) as error:
        rewards.create_reward(
            org.admin,
            {
                "name": " ",
                "kind": "bonus_cash",
                "cost": 0,
                "monthly_budget": Decimal("100"),
                "available_from": dt.datetime(2026, 12, 1, tzinfo=UTC),
                "available_until": dt.datetime(2026, 11, 1, tzinfo=UTC),
            },
        )
    assert set(error.value.fields) == {"name", "cost", "monthly_budget", "available_until"}


def test_quote_shows_the_balance_after_and_what_is_missing(org):
    reward = make_reward(cost=800)
    factories.give_points(org.alice, 240)
    quote = rewards.quote(org.alice, reward.id)
    assert (quote.points, quote.available, quote.after, quote.missing, quote.problem) == (800, 240, -560, 560, None)
    limited = make_reward(cost=10, limit_per_year=1)
    redeem(org.alice, limited)
    assert "at most 1 times a year" in rewards.quote(org.alice, limited.id).problem


def test_a_repeated_request_token_redeems_once(org):
    reward = make_reward(cost=10)
    factories.give_points(org.alice, 100)
    first = rewards.redeem(org.alice, reward.id, request_token="form-abc")
    db.session.commit()
    again = rewards.redeem(org.alice, reward.id, request_token="form-abc")
    db.session.commit()
    assert again.id == first.id
    assert ledger.wallet_summary(org.alice.id).held == 10


# --- demo -------------------------------------------------------------------------


def test_demo_seeds_a_catalog_and_redemptions_from_earned_points(cli):
    result = cli.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    names = set(db.session.scalars(sa.select(Reward.name)))
    assert {
        "Paid leave day",
        "Bonus cash ¥500",
        "Wealth management certification course",
        "Remote work day",
        "Coffee voucher",
    } <= names
    statuses = db.session.scalars(sa.select(Redemption.status)).all()
    assert "approved" in statuses and "pending" in statuses
