"""Corrections reach everything they caused: closed challenges, clawbacks, closed periods, honours."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import corrections, ledger, notify, rules
from pointsapp.extensions import db
from pointsapp.models import Challenge, ChallengeRestatement, Event, Honor, LedgerEntry, Notification, Rule
from pointsapp.periods import current_key
from tests import factories
from tests.conftest import ApiClient, run_concurrently

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)


def ago(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).isoformat()


def now() -> str:
    return dt.datetime.now(UTC).isoformat()


def post_events(api, *events) -> list[dict]:
    response = api.post("/events", {"events": list(events)})
    assert response.status_code in (200, 201), response.json
    return response.json["items"]


def ev(external_id, type_, user, when, **extra) -> dict:
    return {"external_id": external_id, "type": type_, "user_id": user.id, "occurred_at": when, **extra}


def balance(user) -> int:
    db.session.remove()
    return ledger.wallet_summary(user.id).balance


def launch_and_close(api_lead, team, *, target, pool, event_type="loan_signed", starts=None, ends=None) -> dict:
    body = {
        "team_id": team.id,
        "title": "Loan push",
        "event_type": event_type,
        "target": target,
        "pool": pool,
        "starts_at": starts or ago(10),
        "ends_at": ends or ago(1),
    }
    created = api_lead.post("/challenges", body)
    assert created.status_code == 201, created.json
    closed = api_lead.post(f"/challenges/{created.json['id']}/close")
    assert closed.status_code == 200, closed.json
    return closed.json


def payouts(body) -> dict[int, int]:
    return {p["user_id"]: p["points"] for p in body["payouts"]}


def seeded(org):
    rules.seed_default_rules()
    db.session.commit()
    return factories.user("employee", org.wealth, name="Dave")


# --- restating closed challenges ----------------------------------------------------


def test_a_three_member_challenge_below_target_after_a_reversal_reverses_every_payout(org, api_as):
    dave = seeded(org)
    admin = api_as(org.admin)
    items = post_events(
        admin,
        ev("a", "loan_signed", org.alice, ago(5), quantity=3),
        ev("b", "loan_signed", org.bob, ago(5), quantity=2),
        ev("d", "loan_signed", dave, ago(5)),
    )
    closed = launch_and_close(admin, org.wealth, target=6, pool=600)
    assert closed["status"] == "succeeded" and payouts(closed) == {org.alice.id: 300, org.bob.id: 200, dave.id: 100}
    assert (balance(org.alice), balance(org.bob), balance(dave)) == (390, 260, 130)

    reversed_ = admin.post(f"/events/{items[0]['id']}/reverse", {"reason": "Loan cancelled by the client"})
    assert reversed_.status_code == 200, reversed_.json
    assert sorted((r["user_id"], r["points"]) for r in reversed_.json["reversals"]) == sorted(
        [(org.alice.id, -90), (org.alice.id, -300), (org.bob.id, -200), (dave.id, -100)]
    )

    body = api_as(org.bob).get(f"/challenges/{closed['id']}").json
    assert body["status"] == "failed" and body["progress"] == 3 and body["payouts"] == []
    assert body["restated_at"] is not None
    assert (balance(org.alice), balance(org.bob), balance(dave)) == (0, 60, 30)
    payout_ids = set(db.session.scalars(sa.select(LedgerEntry.id).where(LedgerEntry.dedupe_key == f"challenge:{closed['id']}")))
    reversed_ids = set(db.session.scalars(sa.select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.in_(payout_ids))))
    assert len(payout_ids) == 3 and reversed_ids == payout_ids
    told = db.session.scalars(sa.select(Notification).where(Notification.template == "challenge_restated")).all()
    assert {n.user_id for n in told} == {org.alice.id, org.bob.id, dave.id}
    bob_note = next(n for n in told if n.user_id == org.bob.id)
    title, text = notify.render(bob_note)
    assert title == "Challenge restated: Loan push"
    assert "200 points from the pool are reversed" in text and "Loan cancelled by the client" in text


def test_a_two_member_challenge_is_resplit_200_100_to_150_150_with_linked_corrections(org, api_as):
    seeded(org)
    admin = api_as(org.admin)
    items = post_events(
        admin,
        ev("a1", "loan_signed", org.alice, ago(5)),
        ev("a2", "loan_signed", org.alice, ago(4)),
        ev("b1", "loan_signed", org.bob, ago(5)),
    )
    closed = launch_and_close(admin, org.wealth, target=2, pool=300)
    assert payouts(closed) == {org.alice.id: 200, org.bob.id: 100}

    assert admin.post(f"/events/{items[1]['id']}/reverse", {"reason": "Duplicate booking"}).status_code == 200
    body = api_as(org.alice).get(f"/challenges/{closed['id']}").json
    assert body["status"] == "succeeded" and body["progress"] == 2
    assert payouts(body) == {org.alice.id: 150, org.bob.id: 150} and body["restated_at"] is not None
    assert (balance(org.alice), balance(org.bob)) == (30 + 150, 30 + 150)

    originals = {
        e.user_id: e
        for e in db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.dedupe_key == f"challenge:{closed['id']}"))
    }
    fixes = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.corrects_id.is_not(None))))
    assert sorted((f.user_id, f.points, f.corrects_id) for f in fixes) == sorted(
        [(org.alice.id, -50, originals[org.alice.id].id), (org.bob.id, 50, originals[org.bob.id].id)]
    )
    for fix in fixes:
        # The wallet entry says what was restated and why.
        assert fix.kind == "challenge_payout" and fix.cause_event_id == items[1]["id"]
        assert fix.reason == "Restated: team challenge Loan push — event a2 (loan_signed) reversed: Duplicate booking"
    mine = api_as(org.bob).get("/me/ledger").json["items"]
    assert mine[0]["points"] == 50 and mine[0]["reason"].startswith("Restated: team challenge Loan push")
    in_chinese = api_as(org.bob).get("/me/ledger", headers={"Accept-Language": "zh"}).json["items"]
    assert in_chinese[0]["reason"] == "重新核定：团队挑战 Loan push — 业务 a2（loan_signed）已冲正：Duplicate booking"

    # The same cause again changes nothing; reversing the event twice is refused.
    challenge = db.session.get(Challenge, closed["id"])
    again = corrections.restate_challenge(challenge, cause=f"event:{items[1]['id']}:reversed", reason="again", actor_id=None)
    db.session.commit()
    assert again == []
    assert admin.post(f"/events/{items[1]['id']}/reverse", {"reason": "again"}).status_code == 409
    assert db.session.scalar(sa.select(sa.func.count(ChallengeRestatement.id))) == 1
    assert (balance(org.alice), balance(org.bob)) == (180, 180)


def test_the_events_page_shows_a_reversed_events_cascade_by_user(org, api_as, client):
    from tests.conftest import login

    seeded(org)
    admin = api_as(org.admin)
    items = post_events(
        admin,
        ev("a1", "loan_signed", org.alice, ago(5)),
        ev("a2", "loan_signed", org.alice, ago(4)),
        ev("b1", "loan_signed", org.bob, ago(5)),
    )
    launch_and_close(admin, org.wealth, target=2, pool=300)
    admin.post(f"/events/{items[1]['id']}/reverse", {"reason": "Duplicate booking"})
    login(client, org.admin)
    html = client.get(f"/admin/events/{items[1]['id']}").get_data(as_text=True)
    cascade = html[html.index('id="cascade"') :]
    cascade = cascade[: cascade.index("</section>")]
    assert cascade.index("Alice") < cascade.index("Bob")
    assert "Reversed: Loan signed — Duplicate booking" in cascade
    assert cascade.count("Restated: team challenge Loan push") == 2
    assert "−50" in cascade or "-50" in cascade
    assert "+50" in cascade


def test_concurrent_reversals_of_one_closed_challenges_events_restate_it_consistently(app, org, api_as):
    dave = seeded(org)
    admin = api_as(org.admin)
    people = [org.alice, org.bob, dave]
    items = post_events(admin, *[ev(f"e{i}", "loan_signed", people[i % 3], ago(5), quantity=1 + i % 2) for i in range(9)])
    closed = launch_and_close(admin, org.wealth, target=6, pool=1000)
    assert sum(payouts(closed).values()) == 1000
    token = factories.token_for(org.admin)
    doomed = [items[i]["id"] for i in (0, 1, 2, 4)]

    def reverse(i):
        return ApiClient(app, token).post(f"/events/{doomed[i]}/reverse", {"reason": f"race {i}"}).status_code

    assert run_concurrently(reverse, len(doomed)) == [200] * len(doomed)
    body = admin.get(f"/challenges/{closed['id']}").json
    left = {}
    for i, item in enumerate(items):
        if item["id"] not in doomed:
            left[people[i % 3].id] = left.get(people[i % 3].id, 0) + 1 + i % 2
    from pointsapp.challenges import split_pool

    assert body["progress"] == sum(left.values()) == 8 and body["status"] == "succeeded"
    assert payouts(body) == {uid: p for uid, p in split_pool(1000, left).items() if p}
    net = dict(
        db.session.execute(
            sa.select(LedgerEntry.user_id, sa.func.sum(LedgerEntry.points))
            .where(LedgerEntry.kind.in_(["challenge_payout", "reversal"]), LedgerEntry.event_id.is_(None))
            .group_by(LedgerEntry.user_id)
        ).all()
    )
    assert {uid: int(p) for uid, p in net.items() if p} == payouts(body)
    assert db.session.scalar(sa.select(sa.func.count(ChallengeRestatement.id))) == len(doomed)


def test_concurrent_reversals_that_sink_a_challenge_reverse_each_payout_once(app, org, api_as):
    dave = seeded(org)
    admin = api_as(org.admin)
    people = [org.alice, org.bob, dave]
    items = post_events(admin, *[ev(f"e{i}", "loan_signed", people[i], ago(5), quantity=2) for i in range(3)])
    closed = launch_and_close(admin, org.wealth, target=6, pool=300)
    token = factories.token_for(org.admin)

    def reverse(i):
        return ApiClient(app, token).post(f"/events/{items[i]['id']}/reverse", {"reason": "race"}).status_code

    assert run_concurrently(reverse, 3) == [200, 200, 200]
    body = admin.get(f"/challenges/{closed['id']}").json
    assert body["status"] == "failed" and body["payouts"] == [] and body["progress"] == 0
    assert [balance(p) for p in people] == [0, 0, 0]


# --- clawback linked to its cause ----------------------------------------------------


def test_a_bad_loan_with_related_external_id_claws_back_the_loan_and_its_mentorship_bonus(org, api_as):
    seeded(org)
    assert api_as(org.wealth_lead).post("/mentorships", {"mentor_id": org.alice.id, "mentee_id": org.bob.id}).status_code == 201
    crm = api_as(factories.integration("Core CRM"))
    loan = post_events(crm, ev("L-77", "loan_signed", org.bob, now()))[0]
    assert (balance(org.alice), balance(org.bob)) == (30, 60)
    when = now()
    bad = post_events(crm, ev("BL-77", "bad_loan", org.bob, when, related_external_id="L-77"))[0]
    assert bad["status"] == "created"
    assert (balance(org.alice), balance(org.bob)) == (0, 0)
    stored = db.session.get(Event, loan["id"])
    assert stored.reversed_at is not None and "BL-77" in stored.reverse_reason
    assert db.session.get(Event, bad["id"]).related_event_id == loan["id"]
    reversals = list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "reversal")))
    assert len(reversals) == 3 and all("Clawback by bad_loan BL-77" in r.reason for r in reversals)
    assert {r.cause_event_id for r in reversals} == {bad["id"]}
    # Lifetime points lose what was clawed back, and never go below zero.
    assert [ledger.wallet_summary(u.id).lifetime_earned for u in (org.alice, org.bob)] == [0, 0]
    # The same clawback again is a duplicate that changes nothing.
    again = post_events(crm, ev("BL-77", "bad_loan", org.bob, when, related_external_id="L-77"))[0]
    assert again["status"] == "duplicate" and balance(org.bob) == 0


def test_an_unknown_related_id_makes_the_item_invalid_and_applies_nothing_of_it(org, api_as):
    seeded(org)
    crm, other = api_as(factories.integration()), api_as(factories.integration())
    post_events(other, ev("L-1", "loan_signed", org.bob, NOW.isoformat()))  # another source's id is not ours
    items = post_events(
        crm,
        ev("L-2", "loan_signed", org.alice, NOW.isoformat()),
        ev("BL-1", "bad_loan", org.bob, NOW.isoformat(), related_external_id="L-1"),
    )
    assert [i["status"] for i in items] == ["created", "invalid"]
    assert items[1]["error"]["code"] == "validation_error" and "related_external_id" in items[1]["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Event.id)).where(Event.external_id == "BL-1")) == 0
    assert (balance(org.alice), balance(org.bob)) == (30, 30)
    single = crm.post("/events", ev("BL-2", "bad_loan", org.bob, NOW.isoformat(), related_external_id="nope"))
    assert single.status_code == 422 and "related_external_id" in single.json["error"]["fields"]


def test_a_clawback_reaches_the_closed_challenge_the_loan_counted_for(org, api_as):
    seeded(org)
    crm = api_as(factories.integration())
    post_events(crm, ev("L1", "loan_signed", org.alice, ago(5)), ev("L2", "loan_signed", org.bob, ago(5)))
    closed = launch_and_close(api_as(org.admin), org.wealth, target=2, pool=200)
    assert payouts(closed) == {org.alice.id: 100, org.bob.id: 100}
    post_events(crm, ev("BL1", "bad_loan", org.alice, NOW.isoformat(), related_external_id="L1"))
    body = api_as(org.admin).get(f"/challenges/{closed['id']}").json
    assert body["status"] == "failed" and (balance(org.alice), balance(org.bob)) == (0, 30)
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.bob.id, LedgerEntry.kind == "reversal"))
    assert "Clawback by bad_loan BL1" in entry.reason and "event L1 (loan_signed) reversed" in entry.reason


def test_clawback_types_come_from_the_setting(org, api_as, app):
    seeded(org)
    crm = api_as(factories.integration())
    post_events(crm, ev("L1", "loan_signed", org.alice, NOW.isoformat()))
    post_events(crm, ev("N1", "loan_note", org.alice, NOW.isoformat(), related_external_id="L1"))  # related, not a clawback
    assert balance(org.alice) == 30
    app.config["CLAWBACK_EVENT_TYPES"] = ["loan_written_off"]
    try:
        post_events(crm, ev("W1", "loan_written_off", org.alice, NOW.isoformat(), related_external_id="L1"))
    finally:
        app.config["CLAWBACK_EVENT_TYPES"] = ["bad_loan"]
    assert balance(org.alice) == 0


# --- closed periods -------------------------------------------------------------------


def q3(day: int, month: int = 8) -> str:
    return dt.datetime(2026, month, day, 3, tzinfo=UTC).isoformat()


def clean_quarter_on():
    rules.seed_default_rules()
    db.session.execute(sa.update(Rule).where(Rule.kind == "period").values(active=True))
    db.session.commit()


def test_a_late_bad_loan_in_a_closed_quarter_reverses_the_clean_quarter_bonus(org, api_as, cli):
    clean_quarter_on()
    crm = api_as(factories.integration())
    post_events(crm, ev("L1", "loan_signed", org.alice, q3(3)), ev("L2", "loan_signed", org.alice, q3(4)))
    assert cli.invoke(args=["close-period", "quarter", "2026-Q3"]).exit_code == 0
    assert balance(org.alice) == 110
    post_events(crm, ev("BL2", "bad_loan", org.alice, q3(20), related_external_id="L2"))
    # L2 is clawed back, and a quarter with a bad loan earns no clean-quarter bonus.
    assert balance(org.alice) == 30
    bonus = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == "period_bonus"))
    taken = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.reverses_id == bonus.id))
    assert taken.points == -50 and "bad_loan BL2" in taken.reason
    # Closing the quarter again does not pay it back.
    assert cli.invoke(args=["close-period", "quarter", "2026-Q3"]).exit_code == 0 and balance(org.alice) == 30


def test_a_late_breach_in_a_closed_quarter_reverses_the_bonus_the_pool_share_and_the_honour(org, api_as, cli):
    clean_quarter_on()
    admin = api_as(org.admin)
    crm = api_as(factories.integration())
    post_events(crm, ev("L1", "loan_signed", org.alice, q3(3)), ev("L2", "loan_signed", org.bob, q3(4)))
    closed = launch_and_close(admin, org.wealth, target=2, pool=200, starts=q3(1, 7), ends=q3(29, 9))
    assert payouts(closed) == {org.alice.id: 100, org.bob.id: 100}
    assert cli.invoke(args=["close-period", "quarter", "2026-Q3"]).exit_code == 0
    assert (
        admin.post("/honors", {"user_id": org.alice.id, "title": "Best customer manager", "period_key": "2026-08"}).status_code
        == 201
    )
    assert admin.post("/honors", {"user_id": org.alice.id, "title": "Star", "period_key": "2026-10"}).status_code == 201
    assert balance(org.alice) == 30 + 100 + 50

    post_events(crm, ev("CB1", "compliance_breach", org.alice, q3(10, 9)))
    assert balance(org.alice) == 30 + 0 + 0 - 100
    body = admin.get(f"/challenges/{closed['id']}").json
    assert payouts(body) == {org.bob.id: 200} and body["status"] == "succeeded" and body["restated_at"]
    assert balance(org.bob) == 30 + 200 + 50
    names = [(i["name"], i["period_key"]) for i in admin.get(f"/users/{org.alice.id}/badges").json["items"]]
    assert names == [("Star", "2026-10")]  # October is outside the breach's quarter
    revoked = db.session.scalar(sa.select(Honor).where(Honor.period_key == "2026-08"))
    assert revoked.revoked_at is not None and "CB1" in revoked.revoke_reason
    wallet = ledger.wallet_summary(org.alice.id)
    assert wallet.lifetime_earned == 30  # the deduction does not lower what was earned

    # A false alarm: reversing the breach lifts its veto and gives the pool share back.
    breach = db.session.scalar(sa.select(Event).where(Event.external_id == "CB1"))
    assert admin.post(f"/events/{breach.id}/reverse", {"reason": "False alarm"}).status_code == 200
    assert payouts(admin.get(f"/challenges/{closed['id']}").json) == {org.alice.id: 100, org.bob.id: 100}
    assert (balance(org.alice), balance(org.bob)) == (30 + 100, 30 + 100 + 50)


# --- honours only after the period; mentorship only for deals ---------------------


def test_honours_for_a_period_that_has_not_ended_are_refused(org, api_as, cli):
    admin = api_as(org.admin)
    for key in (current_key("month"), current_key("quarter"), current_key("year"), current_key("week")):
        refused = admin.post("/honors", {"user_id": org.alice.id, "title": "Best customer manager", "period_key": key})
        assert refused.status_code == 422, key
        assert refused.json["error"]["code"] == "period_not_ended" and "period_key" in refused.json["error"]["fields"]
    result = cli.invoke(args=["award-honours", "month", current_key("month")])
    assert result.exit_code == 1 and "has not ended" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Honor.id))) == 0


def test_a_revisit_never_triggers_the_mentorship_bonus(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    api_as(org.admin).post("/mentorships", {"mentor_id": org.alice.id, "mentee_id": org.bob.id})
    crm = api_as(factories.integration())
    for i, type_ in enumerate(("client_revisit_positive", "product_renewal", "cross_dept_referral")):
        post_events(crm, ev(f"x{i}", type_, org.bob, now()))
    assert balance(org.alice) == 0
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "mentorship_bonus")) == 0
    post_events(crm, ev("deal", "hnw_client_signed", org.bob, now()))
    assert balance(org.alice) == 30 and balance(org.bob) == 10 + 20 + 50 + 50 + 30


# --- lifetime points --------------------------------------------------------------------


def test_lifetime_is_earned_less_reversals_never_deductions_or_spending(org, api_as, cli):
    rules.seed_default_rules()
    db.session.commit()
    admin = api_as(org.admin)
    items = post_events(
        admin,
        ev("l1", "loan_signed", org.alice, NOW.isoformat()),
        ev("l2", "loan_signed", org.alice, NOW.isoformat()),
        ev("cb", "compliance_breach", org.alice, NOW.isoformat()),
    )
    assert (
        api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": -5, "reason": "Late report"}).status_code
        == 201
    )
    admin.post(f"/events/{items[0]['id']}/reverse", {"reason": "cancelled"})
    admin.post(f"/events/{items[2]['id']}/reverse", {"reason": "false alarm"})  # giving a deduction back adds nothing
    wallet = admin.get(f"/users/{org.alice.id}/wallet").json
    assert wallet["balance"] == 30 - 5 and wallet["lifetime_earned"] == 30
    result = cli.invoke(args=["check-ledger"])
    assert result.exit_code == 0 and "Ledger consistent" in result.output


# --- authority: the pool goes back to the budget, every restatement is audited ---------


def test_a_lead_challenge_restated_to_failed_gives_its_pool_back_to_the_budget_and_is_audited(org, api_as):
    seeded(org)
    admin, lead = api_as(org.admin), api_as(org.wealth_lead)
    items = post_events(admin, ev("a1", "loan_signed", org.alice, ago(5)), ev("b1", "loan_signed", org.bob, ago(5)))
    closed = launch_and_close(lead, org.wealth, target=2, pool=300)
    assert payouts(closed) == {org.alice.id: 150, org.bob.id: 150}
    assert lead.get(f"/teams/{org.wealth.id}/budget").json["used"] == 300

    for _ in range(2):  # a retry is refused and changes nothing more
        admin.post(f"/events/{items[0]['id']}/reverse", {"reason": "Loan cancelled"})
    assert admin.get(f"/challenges/{closed['id']}").json["status"] == "failed"
    budget = lead.get(f"/teams/{org.wealth.id}/budget").json
    assert budget["used"] == 0 and budget["remaining"] == budget["monthly_points"]
    records = admin.get(f"/audit?action=challenge.restated&subject_id={closed['id']}").json["items"]
    assert len(records) == 1 and records[0]["actor_id"] == org.admin.id and records[0]["subject_type"] == "challenge"
    details = records[0]["details"]
    assert details["status"] == ["succeeded", "failed"] and details["returned_to_budget"] == 300
    assert details["cause"] == f"event:{items[0]['id']}:reversed" and "Loan cancelled" in details["reason"]
    assert {p["user_id"]: (p["before"], p["after"]) for p in details["payouts"]} == {org.alice.id: (150, 0), org.bob.id: (150, 0)}
    assert len(admin.get(f"/audit?action=event.reversed&subject_id={items[0]['id']}").json["items"]) == 1


def test_a_clawback_is_audited_as_a_reversal_by_the_integration_that_posted_it(org, api_as):
    seeded(org)
    crm_row = factories.integration("Risk system")
    crm = api_as(crm_row)
    loan = post_events(crm, ev("L1", "loan_signed", org.alice, now()))[0]
    bad = post_events(crm, ev("BL1", "bad_loan", org.alice, now(), related_external_id="L1"))[0]
    [record] = api_as(org.admin).get(f"/audit?action=event.reversed&subject_id={loan['id']}").json["items"]
    assert record["details"]["clawback_event_id"] == bad["id"] and record["details"]["reversals"] == [
        {"user_id": org.alice.id, "points": -30}
    ]
    from pointsapp.models import AuditRecord

    assert db.session.get(AuditRecord, record["id"]).integration_id == crm_row.id


def test_a_clawback_racing_an_admin_reversal_of_the_same_loan_reverses_it_once(app, org, api_as):
    seeded(org)
    crm_row = factories.integration()
    loan = post_events(api_as(crm_row), ev("L1", "loan_signed", org.alice, ago(5)), ev("L2", "loan_signed", org.bob, ago(5)))[0]
    closed = launch_and_close(api_as(org.admin), org.wealth, target=2, pool=200)
    tokens = [factories.token_for(org.admin), factories.token_for(crm_row)]

    def race(i):
        client = ApiClient(app, tokens[i])
        if i == 0:
            return client.post(f"/events/{loan['id']}/reverse", {"reason": "Cancelled"}).status_code
        return client.post("/events", ev("BL1", "bad_loan", org.alice, now(), related_external_id="L1")).status_code

    admin_status, clawback_status = run_concurrently(race, 2)
    assert clawback_status == 201 and admin_status in (200, 409)  # whoever comes second finds it reversed
    assert (balance(org.alice), balance(org.bob)) == (0, 30)
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id)).where(LedgerEntry.kind == "reversal")) == 3
    assert db.session.scalar(sa.select(sa.func.count(ChallengeRestatement.id))) == 1
    assert api_as(org.admin).get(f"/challenges/{closed['id']}").json["status"] == "failed"
