"""Earning domain: rule versions, reversal, vetoes, period bonuses, the seed example."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import badges, earning, ledger, period_bonus, rules, vetoes
from pointsapp.extensions import db
from pointsapp.models import BadgeAward, Event, LedgerEntry, PeriodClose, Rule, Veto
from tests import factories

UTC = dt.timezone.utc


def at(day: int, month: int = 8, hour: int = 3) -> str:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC).isoformat()


def post(api, *events):
    response = api.post("/events", {"events": list(events)})
    assert response.status_code in (200, 201), response.json
    return response.json["items"]


def ev(external_id, type_, user, when, **extra):
    return {"external_id": external_id, "type": type_, "user_id": user.id, "occurred_at": when, **extra}


def balance(user) -> int:
    db.session.remove()
    return ledger.wallet_summary(user.id).balance


def test_the_seed_example_pays_exactly_440_and_every_entry_says_where_it_came_from(org, api_as, cli):
    for event_type, name, points in (
        ("loan_signed", "Loan signed", 20),
        ("wealth_product_sold", "Wealth product sold", 30),
        ("client_revisit_positive", "Good client revisit", 10),
    ):
        rules.publish_rule(org.admin, event_type=event_type, name=name, points=points)
    rules.publish_rule(
        org.admin,
        kind="period",
        event_type="period.clean_quarter",
        name="Clean quarter",
        points=50,
        period="quarter",
        requires_event_type="loan_signed",
        forbids_event_type="bad_loan",
    )
    db.session.commit()
    api = api_as(factories.integration())
    events = [ev(f"loan-{i}", "loan_signed", org.alice, at(1 + i)) for i in range(5)]
    events += [ev(f"wp-{i}", "wealth_product_sold", org.alice, at(10 + i)) for i in range(3)]
    events += [ev(f"rv-{i}", "client_revisit_positive", org.alice, at(1 + i, 9)) for i in range(20)]
    post(api, *events)
    result = cli.invoke(args=["close-period", "quarter", "2026-Q3"])
    assert result.exit_code == 0, result.output
    assert "1 awarded" in result.output
    assert balance(org.alice) == 440
    entries = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.alice.id)))
    assert len(entries) == 29
    for entry in entries:
        rule = db.session.get(Rule, entry.rule_id)
        assert entry.reason.startswith(rule.name)
        if entry.kind == "event_award":
            assert db.session.get(Event, entry.event_id).rule_id == rule.id
        else:
            assert entry.kind == "period_bonus" and entry.reason == "Clean quarter (2026-Q3)"
    assert ledger.wallet_summary(org.alice.id, at=dt.datetime(2026, 9, 1, tzinfo=UTC)).period_points["quarter"] == 440


def test_closing_a_period_twice_pays_once_and_skips_the_vetoed_and_the_unclean(org, api_as, cli):
    rules.seed_default_rules()
    db.session.execute(sa.update(Rule).where(Rule.kind == "period").values(active=True))
    db.session.commit()
    api = api_as(org.admin)
    post(
        api,
        ev("l1", "loan_signed", org.alice, at(2)),
        ev("l2", "loan_signed", org.bob, at(2)),
        ev("l3", "loan_signed", org.carol, at(2)),
        ev("bad", "bad_loan", org.bob, at(20)),
        ev("breach", "compliance_breach", org.carol, at(5, 9)),
    )
    for _ in range(2):
        assert cli.invoke(args=["close-period", "quarter", "2026-Q3"]).exit_code == 0
    bonuses = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "period_bonus")))
    assert [(e.user_id, e.points) for e in bonuses] == [(org.alice.id, 50)]
    assert db.session.scalar(sa.select(PeriodClose.awarded_count)) == 1


def test_a_period_that_has_not_ended_cannot_be_closed(org, cli):
    result = cli.invoke(args=["close-period", "quarter", "2099-Q1"])
    assert result.exit_code == 1 and "has not ended" in result.output


def test_a_back_dated_event_earns_under_the_rule_in_force_when_it_occurred(org, api_as):
    first = rules.publish_rule(org.admin, event_type="loan_signed", name="Loan signed", points=30)
    db.session.commit()
    api = api_as(org.admin)
    response = api.post("/rules", {"event_type": "loan_signed", "name": "Loan signed", "points": 40})
    assert response.status_code == 201 and response.json["points"] == 40
    now = dt.datetime.now(UTC)
    items = post(
        api,
        ev("old", "loan_signed", org.alice, (now - dt.timedelta(days=30)).isoformat()),
        ev("new", "loan_signed", org.alice, now.isoformat()),
    )
    assert [i["awards"][0]["points"] for i in items] == [30, 40]
    assert db.session.get(Event, items[0]["id"]).rule_id == first.id
    listed = api.get("/rules").json["items"]
    assert [(r["event_type"], r["points"], r["active"]) for r in listed] == [("loan_signed", 40, True)]
    history = api.get("/rules?all=1").json["items"]
    assert [(r["points"], r["active"], r["version"]) for r in history] == [(30, False, 1), (40, True, 2)]


def test_default_rules_are_published_to_everyone(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    items = api_as(org.alice).get("/rules").json["items"]
    assert {r["event_type"]: r["points"] for r in items} == {
        "loan_signed": 30,
        "hnw_client_signed": 50,
        "wealth_product_sold": 30,
        "client_revisit_positive": 10,
        "product_renewal": 20,
        "quarter_no_bad_loans": 50,
        "cross_dept_referral": 50,
        "mentorship.first_deal": 30,
        "compliance_breach": -100,
    }
    assert rules.seed_default_rules() == []


def test_only_admins_publish_rules_and_bad_rules_are_422(org, api_as):
    assert api_as(org.wealth_lead).post("/rules", {"event_type": "x", "name": "X", "points": 5}).status_code == 403
    response = api_as(org.admin).post("/rules", {"event_type": "Bad Type", "name": "", "points": 0})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) >= {"event_type", "name"}
    assert db.session.scalar(sa.select(sa.func.count(Rule.id))) == 0


def test_reversal_reverses_every_share_and_twice_is_409(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    admin = api_as(org.admin)
    item = post(admin, ev("ref", "cross_dept_referral", org.alice, at(3), participants=[org.carol.id]))[0]
    assert api_as(org.alice).post(f"/events/{item['id']}/reverse", {"reason": "x"}).status_code == 403
    response = admin.post(f"/events/{item['id']}/reverse", {"reason": "Client withdrew"})
    assert response.status_code == 200
    assert response.json["id"] == item["id"] and response.json["reversed"] is True
    assert sorted((r["user_id"], r["points"]) for r in response.json["reversals"]) == sorted(
        [(org.alice.id, -25), (org.carol.id, -25)]
    )
    assert balance(org.alice) == 0 and balance(org.carol) == 0
    reversal = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.kind == "reversal", LedgerEntry.user_id == org.alice.id)
    )
    assert reversal.reverses_id is not None and "Client withdrew" in reversal.reason
    again = admin.post(f"/events/{item['id']}/reverse", {"reason": "again"})
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    assert admin.post("/events/999999/reverse", {"reason": "x"}).status_code == 404
    assert admin.post(f"/events/{item['id']}/reverse", {}).status_code == 422


def test_a_clawback_may_take_the_balance_below_zero(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    admin = api_as(org.admin)
    item = post(admin, ev("loan", "loan_signed", org.alice, at(3)))[0]
    factories.give_points(org.alice, -20, reason="Manual correction", kind="manual_deduction")
    admin.post(f"/events/{item['id']}/reverse", {"reason": "Loan cancelled"})
    assert balance(org.alice) == -20


def test_a_compliance_breach_deducts_and_vetoes_the_quarter_until_lifted(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    post(api_as(factories.integration()), ev("cb-1", "compliance_breach", org.bob, at(15, 8)))
    assert balance(org.bob) == -100
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.bob.id))
    assert entry.kind == "compliance_deduction" and entry.reason == "Compliance breach"
    for period, key in (("quarter", "2026-Q3"), ("month", "2026-07"), ("week", "2026-W27"), ("year", "2026")):
        assert earning.vetoed_user_ids(period, key) == {org.bob.id}, (period, key)
    assert earning.vetoed_user_ids("quarter", "2026-Q4") == set()
    assert earning.vetoed_user_ids("week", "2026-W40") == {org.bob.id}  # 28 Sep – 4 Oct straddles Q3/Q4
    veto = db.session.scalar(sa.select(Veto))
    assert "cb-1" in veto.reason
    vetoes.lift_veto(org.admin, veto.id, "Reviewed: a false alarm")
    db.session.commit()
    assert earning.vetoed_user_ids("quarter", "2026-Q3") == set()
    assert db.session.get(Veto, veto.id).lift_reason == "Reviewed: a false alarm"


def test_reversing_a_breach_returns_the_points_and_lifts_its_veto(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    admin = api_as(org.admin)
    item = post(admin, ev("cb", "compliance_breach", org.bob, at(15)))[0]
    admin.post(f"/events/{item['id']}/reverse", {"reason": "Wrong person"})
    assert balance(org.bob) == 0
    assert earning.vetoed_user_ids("quarter", "2026-Q3") == set()


def test_negative_rules_are_never_shared(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    item = post(api_as(org.admin), ev("cb", "compliance_breach", org.bob, at(15), participants=[org.alice.id]))[0]
    assert [(a["user_id"], a["points"]) for a in item["awards"]] == [(org.bob.id, -100)]


def test_split_points_sums_exactly_and_gives_the_remainder_in_order():
    assert earning.split_points(50, [1, 2, 3]) == [(1, 17), (2, 17), (3, 16)]
    assert earning.split_points(10, [1, 2, 3, 4]) == [(1, 3), (2, 3), (3, 2), (4, 2)]
    assert earning.split_points(2, [1, 2, 3]) == [(1, 1), (2, 1), (3, 0)]
    for total in range(1, 60):
        for n in range(1, 8):
            shares = [p for _, p in earning.split_points(total, list(range(n)))]
            assert sum(shares) == total and max(shares) - min(shares) <= 1


def test_badges_are_checked_once_per_stored_event_and_never_for_a_replay(org, api_as):
    badges.create_badge(org.admin, name="Two loans", event_type="loan_signed", threshold=2)
    db.session.commit()
    api = api_as(org.admin)
    post(api, ev("a", "loan_signed", org.alice, at(1)))
    post(api, ev("a", "loan_signed", org.alice, at(1)))  # the same event again: not a second loan
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) == 0
    post(api, ev("b", "loan_signed", org.alice, at(2)))
    db.session.remove()
    assert db.session.scalars(sa.select(BadgeAward.user_id)).all() == [org.alice.id]


def test_period_bonus_rule_switches_on_from_inactive(org):
    rules.seed_default_rules()
    rule = db.session.scalar(sa.select(Rule).where(Rule.kind == "period"))
    assert rule.active is False
    switched = rules.set_rule_active(org.admin, rule.id, True)
    db.session.commit()
    assert switched.active and switched.version == 2 and switched.points == 50
    assert period_bonus.close_period(org.admin, "quarter", "2026-Q3")[0].rule.id == switched.id


def test_the_demo_posts_events_with_a_referral_a_mentorship_bonus_and_a_reversal(app):
    import random

    from pointsapp.demo import earning as earning_demo
    from pointsapp.demo import people

    earning_demo.seed_earning(people.seed_people(), random.Random(7))
    db.session.commit()
    kinds = set(db.session.scalars(sa.select(LedgerEntry.kind)))
    assert {"event_award", "mentorship_bonus", "reversal"} <= kinds
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) > 50
    shares = list(
        db.session.scalars(
            sa.select(LedgerEntry.points).join(Event, Event.id == LedgerEntry.event_id).where(Event.type == "cross_dept_referral")
        )
    )
    assert sorted(shares) == [16, 17, 17]


def test_a_rule_switched_off_pays_nothing_from_then_on_but_still_pays_earlier_events(org, api_as):
    rule = rules.publish_rule(org.admin, event_type="product_renewal", name="Product renewal", points=20)
    db.session.commit()
    rules.set_rule_active(org.admin, rule.id, False)
    db.session.commit()
    now = dt.datetime.now(UTC)
    items = post(
        api_as(org.admin),
        ev("before", "product_renewal", org.alice, (now - dt.timedelta(days=2)).isoformat()),
        ev("after", "product_renewal", org.alice, (now + dt.timedelta(minutes=1)).isoformat()),
    )
    assert [(i["status"], [a["points"] for a in i["awards"]]) for i in items] == [("created", [20]), ("created", [])]
    assert api_as(org.alice).get("/rules").json["items"] == []


def test_a_period_rule_needs_a_qualifying_event_type(org, api_as):
    response = api_as(org.admin).post(
        "/rules", {"kind": "period", "period": "quarter", "event_type": "period.x", "name": "X", "points": 10}
    )
    assert response.status_code == 422 and "requires_event_type" in response.json["error"]["fields"]
