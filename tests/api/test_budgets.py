"""Team budgets through the API: lead awards and challenge pools draw from them, admins' do not, nobody pays themselves."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import budgets
from pointsapp.extensions import db
from pointsapp.models import AuditRecord, BudgetReservation, BudgetUsage, Challenge, ChallengePayout, LedgerEntry, Wallet
from tests import factories
from tests.conftest import ApiClient, run_concurrently

NOW = dt.datetime.now(dt.timezone.utc)


def challenge_body(team, **overrides):
    return {
        "team_id": team.id,
        "title": "Loan push",
        "event_type": "loan.signed",
        "target": 1,
        "pool": 500,
        "starts_at": (NOW - dt.timedelta(days=30)).isoformat(),
        "ends_at": (NOW + dt.timedelta(days=1)).isoformat(),
    } | overrides


def contribute(user, value=1):
    factories.recorded_event(user, "loan.signed", occurred_at=NOW - dt.timedelta(hours=1), quantity=value)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def used(team) -> int:
    return budgets.budget_of(team.id).used


def test_the_exploit_a_huge_pool_started_in_the_past_is_refused_and_nothing_is_written(org, api_as):
    lead = api_as(org.wealth_lead)
    response = lead.post("/challenges", challenge_body(org.wealth, pool=10_000_000, title="Mine"))
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "budget_exhausted"
    assert "5,000" in response.json["error"]["message"]
    assert response.json["error"]["remaining"] == 5000
    assert (count(Challenge), count(BudgetReservation)) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "challenge.created")) == 0
    assert used(org.wealth) == 0
    # Within the budget the lead can launch, count their own event and close, yet is paid nothing.
    challenge_id = lead.post("/challenges", challenge_body(org.wealth, pool=5000)).json["id"]
    assert used(org.wealth) == 5000
    contribute(org.wealth_lead)
    closed = lead.post(f"/challenges/{challenge_id}/close").json
    assert closed["status"] == "succeeded" and closed["progress"] == 1
    assert closed["payouts"] == []
    assert db.session.get(Wallet, org.wealth_lead.id).balance == 0
    assert count(LedgerEntry) == 0
    assert used(org.wealth) == 0  # the pool went back to the budget
    assert db.session.get(BudgetReservation, challenge_id).returned == 5000


def test_a_creator_is_never_paid_from_their_challenge_but_their_events_count(org, api_as):
    lead = api_as(org.wealth_lead)
    challenge_id = lead.post("/challenges", challenge_body(org.wealth, target=10, pool=900)).json["id"]
    contribute(org.wealth_lead, 6)
    contribute(org.alice, 3)
    contribute(org.bob, 1)
    body = lead.post(f"/challenges/{challenge_id}/close").json
    assert body["status"] == "succeeded" and body["progress"] == 10
    assert {(p["user_id"], p["points"]) for p in body["payouts"]} == {(org.alice.id, 675), (org.bob.id, 225)}
    assert {c["user_id"]: c["value"] for c in body["contributions"]}[org.wealth_lead.id] == 6
    assert db.session.get(Wallet, org.wealth_lead.id).balance == 0
    assert used(org.wealth) == 900  # all of it paid out: nothing goes back


def test_an_admin_creating_a_challenge_is_not_paid_from_it_either(org, api_as):
    creator = factories.user("admin", org.wealth, name="Team HR")
    challenge_id = api_as(creator).post("/challenges", challenge_body(org.wealth, pool=100_000)).json["id"]
    contribute(creator, 5)
    contribute(org.alice, 5)
    body = api_as(creator).post(f"/challenges/{challenge_id}/close").json
    assert [(p["user_id"], p["points"]) for p in body["payouts"]] == [(org.alice.id, 100_000)]
    assert used(org.wealth) == 0  # admins draw no budget


def test_a_failed_challenge_gives_its_pool_back(org, api_as):
    lead = api_as(org.wealth_lead)
    challenge_id = lead.post("/challenges", challenge_body(org.wealth, target=5, pool=1200)).json["id"]
    assert lead.get(f"/teams/{org.wealth.id}/budget").json["remaining"] == 3800
    contribute(org.alice, 2)
    assert lead.post(f"/challenges/{challenge_id}/close").json["status"] == "failed"
    assert lead.get(f"/teams/{org.wealth.id}/budget").json == {
        "team_id": org.wealth.id,
        "team_name": "Wealth Team",
        "period_key": budgets.month_key(),
        "monthly_points": 5000,
        "used": 0,
        "remaining": 5000,
        "is_default": True,
    }


def test_a_reservation_belongs_to_the_month_the_challenge_was_created(org, api_as, monkeypatch):
    october = dt.datetime(2026, 10, 20, 4, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(budgets, "utcnow", lambda: october)
    lead = api_as(org.wealth_lead)
    challenge_id = lead.post("/challenges", challenge_body(org.wealth, target=5, pool=4000)).json["id"]
    monkeypatch.undo()
    # A new month: its budget is whole again, while October's stays used until the pool comes back.
    assert lead.get(f"/teams/{org.wealth.id}/budget").json["used"] == 0
    assert budgets.budget_of(org.wealth.id, at=october).used == 4000
    assert lead.post(f"/challenges/{challenge_id}/close").json["status"] == "failed"
    assert budgets.budget_of(org.wealth.id, at=october).used == 0
    assert dict(db.session.execute(sa.select(BudgetUsage.period_key, BudgetUsage.used)).all())["2026-10"] == 0


def test_lead_awards_draw_from_the_recipients_team_and_admin_awards_and_deductions_do_not(org, api_as):
    factories.give_points(org.bob, 100)
    assert api_as(org.branch_lead).post("/awards", {"user_id": org.carol.id, "points": 300, "reason": "Help"}).status_code == 201
    assert api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": 200, "reason": "Help"}).status_code == 201
    assert api_as(org.wealth_lead).post("/awards", {"user_id": org.bob.id, "points": -50, "reason": "Late"}).status_code == 201
    assert api_as(org.admin).post("/awards", {"user_id": org.alice.id, "points": 5000, "reason": "Prize"}).status_code == 201
    assert (used(org.loans), used(org.wealth), used(org.branch)) == (300, 200, 0)


def test_an_award_over_the_remaining_budget_is_refused_and_writes_nothing(org, api_as):
    api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 250})
    audit_before = count(AuditRecord)
    lead = api_as(org.wealth_lead)
    assert lead.post("/awards", {"user_id": org.alice.id, "points": 200, "reason": "Help"}).status_code == 201
    refused = lead.post("/awards", {"user_id": org.bob.id, "points": 60, "reason": "Help"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "budget_exhausted" and refused.json["error"]["remaining"] == 50
    assert db.session.get(Wallet, org.bob.id).balance == 0
    assert count(AuditRecord) == audit_before + 1  # the accepted award only
    assert used(org.wealth) == 200


def test_fifty_concurrent_lead_awards_of_30_against_1000_accept_exactly_33(app, org, api_as):
    api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 1000})
    tokens = [factories.token_for(org.wealth_lead) for _ in range(50)]

    def award(i):
        return ApiClient(app, tokens[i]).post("/awards", {"user_id": org.alice.id, "points": 30, "reason": f"Deal {i}"})

    responses = run_concurrently(award, 50)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 33 and statuses.count(422) == 17, statuses
    assert {r.json["error"]["code"] for r in responses if r.status_code == 422} == {"budget_exhausted"}
    assert db.session.get(Wallet, org.alice.id, populate_existing=True).balance == 990
    assert used(org.wealth) == 990
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "award.created")) == 33


def test_concurrent_challenge_launches_reserve_no_more_than_the_budget(app, org, api_as):
    tokens = [factories.token_for(org.wealth_lead) for _ in range(12)]

    def launch(i):
        return ApiClient(app, tokens[i]).post("/challenges", challenge_body(org.wealth, pool=1000, title=f"Push {i}"))

    responses = run_concurrently(launch, 12)
    assert sorted(r.status_code for r in responses) == [201] * 5 + [422] * 7
    assert count(Challenge) == 5 and count(BudgetReservation) == 5
    assert used(org.wealth) == 5000


def test_reading_and_setting_a_budget(org, api_as):
    admin = api_as(org.admin)
    response = admin.put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 1234})
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("team_id", "period_key", "monthly_points", "used", "remaining")} == {
        "team_id": org.wealth.id,
        "period_key": budgets.month_key(),
        "monthly_points": 1234,
        "used": 0,
        "remaining": 1234,
    }
    assert api_as(org.wealth_lead).get(f"/teams/{org.wealth.id}/budget").json["monthly_points"] == 1234
    assert api_as(org.branch_lead).get(f"/teams/{org.wealth.id}/budget").status_code == 200  # leads the branch above
    assert api_as(org.loans_lead).get(f"/teams/{org.wealth.id}/budget").status_code == 403
    assert api_as(org.alice).get(f"/teams/{org.wealth.id}/budget").status_code == 403
    assert api_as(org.wealth_lead).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 99999}).status_code == 403
    assert admin.get("/teams/424242/budget").status_code == 404
    assert admin.put("/teams/424242/budget", {"monthly_points": 5}).status_code == 404
    assert budgets.budget_of(org.wealth.id).monthly_points == 1234


def test_bad_budgets_are_422_with_the_field_and_change_nothing(org, api_as):
    admin = api_as(org.admin)
    before = count(AuditRecord)
    for bad in (-1, 1.5, "100", None, True):
        response = admin.put(f"/teams/{org.wealth.id}/budget", {"monthly_points": bad})
        assert response.status_code == 422, (bad, response.json)
        assert "monthly_points" in response.json["error"]["fields"], response.json
    assert admin.put(f"/teams/{org.wealth.id}/budget", {}).json["error"]["fields"]["monthly_points"]
    assert count(AuditRecord) == before
    assert budgets.budget_of(org.wealth.id).is_default


def test_a_budget_lowered_below_what_is_used_shows_nothing_remaining(org, api_as):
    lead = api_as(org.wealth_lead)
    lead.post("/challenges", challenge_body(org.wealth, pool=3000))
    body = api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 1000}).json
    assert (body["monthly_points"], body["used"], body["remaining"]) == (1000, 3000, 0)
    refused = lead.post("/awards", {"user_id": org.alice.id, "points": 1, "reason": "Help"})
    assert refused.json["error"]["code"] == "budget_exhausted"
    assert db.session.scalar(sa.select(ChallengePayout.id)) is None


def test_awarding_oneself_is_refused_in_plain_words(org, api_as):
    for actor in (org.wealth_lead, org.admin):
        response = api_as(actor).post("/awards", {"user_id": actor.id, "points": 10, "reason": "me"})
        assert response.status_code == 403
        assert "themselves" in response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0
