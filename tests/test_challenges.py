"""Team challenges through the API: launch, progress, close, payouts, races."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import challenges
from pointsapp.extensions import db
from pointsapp.models import Challenge, ChallengePayout, LedgerEntry, Notification, Wallet
from tests import factories
from tests.conftest import ApiClient, run_concurrently

NOW = dt.datetime.now(dt.timezone.utc)


def window(days_before=7, days_after=7):
    return (NOW - dt.timedelta(days=days_before)).isoformat(), (NOW + dt.timedelta(days=days_after)).isoformat()


def launch(api, team, **overrides):
    starts, ends = window()
    body = {
        "team_id": team.id,
        "title": "Q4 loan push",
        "event_type": "loan.signed",
        "target": 200,
        "pool": 500,
        "starts_at": starts,
        "ends_at": ends,
    } | overrides
    return api.post("/challenges", body)


def contribute(user, value, type="loan.signed", at=None):
    factories.recorded_event(user, type, occurred_at=at or NOW - dt.timedelta(hours=1), quantity=value)


def test_a_lead_launches_a_challenge_for_their_team_and_members_are_told(org, api_as):
    response = launch(api_as(org.wealth_lead), org.wealth)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "active" and body["progress"] == 0
    assert body["target"] == 200 and body["pool"] == 500 and body["team_id"] == org.wealth.id
    assert body["contributions"] == [] and body["payouts"] == []
    told = db.session.scalars(sa.select(Notification.user_id).where(Notification.template == "challenge_launched"))
    assert set(told) == {org.wealth_lead.id, org.alice.id, org.bob.id}


def test_progress_counts_the_teams_events_of_the_type_inside_the_window(org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 3)
    contribute(org.bob, 2)
    contribute(org.alice, 5, type="client.visit")  # another type
    contribute(org.carol, 7)  # another team
    contribute(org.bob, 4, at=NOW - dt.timedelta(days=8))  # before the start
    reversed_event = factories.recorded_event(org.alice, "loan.signed", occurred_at=NOW, quantity=10)
    reversed_event.reversed_at = NOW
    db.session.commit()
    response = api_as(org.alice).get(f"/challenges/{challenge_id}")
    assert response.status_code == 200
    assert response.json["progress"] == 5
    assert [(c["user_id"], c["value"]) for c in response.json["contributions"]] == [(org.alice.id, 3), (org.bob.id, 2)]
    assert response.json["status"] == "active"


def test_a_branch_challenge_counts_every_team_under_the_branch(org, api_as):
    challenge_id = launch(api_as(org.admin), org.branch).json["id"]
    contribute(org.alice, 1)
    contribute(org.carol, 2)
    assert api_as(org.carol).get(f"/challenges/{challenge_id}").json["progress"] == 3


def test_closing_a_successful_challenge_splits_the_pool_by_contribution(org, api_as):
    dave = factories.user("employee", org.wealth, name="Dave")
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 90)
    contribute(org.bob, 60)
    contribute(dave, 50)
    response = api_as(org.wealth_lead).post(f"/challenges/{challenge_id}/close")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "succeeded" and body["progress"] == 200
    assert {(p["user_id"], p["points"]) for p in body["payouts"]} == {(org.alice.id, 225), (org.bob.id, 150), (dave.id, 125)}
    balances = dict(db.session.execute(sa.select(Wallet.user_id, Wallet.balance)).all())
    assert (balances[org.alice.id], balances[org.bob.id], balances[dave.id]) == (225, 150, 125)
    kinds = set(db.session.scalars(sa.select(LedgerEntry.kind)))
    assert kinds == {"challenge_payout"}
    closed = db.session.scalars(sa.select(Notification).where(Notification.template == "challenge_closed")).all()
    assert {n.user_id: n.params["points"] for n in closed}[org.alice.id] == 225
    from pointsapp import notify

    alice_note = next(n for n in closed if n.user_id == org.alice.id)
    assert notify.render(alice_note) == ("Challenge closed: Q4 loan push", "The challenge is over. Your share: 225 points.")


def test_uneven_contributions_pay_integers_summing_exactly_to_the_pool(org, api_as):
    dave = factories.user("employee", org.wealth, name="Dave")
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 67)
    contribute(org.bob, 67)
    contribute(dave, 66)
    body = api_as(org.wealth_lead).post(f"/challenges/{challenge_id}/close").json
    points = {p["user_id"]: p["points"] for p in body["payouts"]}
    assert sum(points.values()) == 500
    assert points == {org.alice.id: 168, org.bob.id: 167, dave.id: 165}


def test_a_challenge_below_target_fails_and_pays_nothing(org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 199)
    body = api_as(org.admin).post(f"/challenges/{challenge_id}/close").json
    assert body["status"] == "failed" and body["progress"] == 199 and body["payouts"] == []
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


def test_reaching_the_target_early_keeps_the_challenge_active_until_closed(org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth, target=5).json["id"]
    contribute(org.alice, 9)
    body = api_as(org.alice).get(f"/challenges/{challenge_id}").json
    assert body["status"] == "active" and body["progress"] == 9 and body["payouts"] == []


def test_closing_twice_returns_the_same_result_and_pays_once(org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 150)
    contribute(org.bob, 50)
    first = api_as(org.wealth_lead).post(f"/challenges/{challenge_id}/close")
    contribute(org.bob, 500)  # too late: contributions are frozen at close
    second = api_as(org.admin).post(f"/challenges/{challenge_id}/close", {})
    assert second.status_code == 200
    assert second.json == first.json
    assert db.session.scalar(sa.select(sa.func.sum(Wallet.balance))) == 500


def test_concurrent_closes_pay_the_pool_exactly_once(app, org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 120)
    contribute(org.bob, 80)
    tokens = [factories.token_for(org.wealth_lead) for _ in range(3)] + [factories.token_for(org.admin) for _ in range(3)]

    def close(i):
        return ApiClient(app, tokens[i]).post(f"/challenges/{challenge_id}/close")

    responses = run_concurrently(close, 6)
    assert [r.status_code for r in responses] == [200] * 6
    assert all(r.json["payouts"] == responses[0].json["payouts"] for r in responses)
    assert db.session.scalar(sa.select(sa.func.count(ChallengePayout.id))) == 2
    assert db.session.scalar(sa.select(sa.func.sum(LedgerEntry.points))) == 500
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.template == "challenge_closed")) == 3


def test_vetoed_members_get_no_share(org, api_as, monkeypatch):
    from pointsapp import vetoes

    monkeypatch.setattr(vetoes, "vetoed_user_ids", lambda period, key: {org.bob.id})
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 100)
    contribute(org.bob, 100)
    body = api_as(org.wealth_lead).post(f"/challenges/{challenge_id}/close").json
    assert body["status"] == "succeeded"
    assert body["payouts"] == [{"user_id": org.alice.id, "name": "Alice", "points": 500}]
    assert {c["user_id"] for c in body["contributions"]} == {org.alice.id, org.bob.id}


def test_the_scheduler_closes_challenges_after_their_end(org, api_as, cli):
    ended = launch(
        api_as(org.wealth_lead), org.wealth, starts_at=window(10)[0], ends_at=(NOW - dt.timedelta(hours=1)).isoformat()
    )
    running = launch(api_as(org.wealth_lead), org.wealth)
    contribute(org.alice, 250, at=NOW - dt.timedelta(days=2))
    result = cli.invoke(args=["close-challenges"])
    assert result.exit_code == 0, result.output
    assert "1 challenge(s) closed" in result.output
    assert db.session.get(Challenge, ended.json["id"], populate_existing=True).status == "succeeded"
    assert db.session.get(Challenge, running.json["id"], populate_existing=True).status == "active"
    assert db.session.get(Wallet, org.alice.id, populate_existing=True).balance == 500
    again = cli.invoke(args=["close-challenges"])
    assert "0 challenge(s) closed" in again.output


def test_bad_challenges_are_refused_with_clear_messages_and_nothing_written(org, api_as):
    lead = api_as(org.wealth_lead)
    starts, ends = window()
    cases = [
        ({"starts_at": ends, "ends_at": starts}, "ends_at"),
        ({"target": 0}, "target"),
        ({"pool": -5}, "pool"),
        ({"title": "  "}, "title"),
    ]
    for override, field in cases:
        response = launch(lead, org.wealth, **override)
        assert response.status_code == 422, (override, response.json)
        assert field in response.json["error"]["fields"], response.json
        assert response.json["error"]["message"]
    not_mine = launch(lead, org.loans)
    assert not_mine.status_code == 403
    assert "teams you lead" in not_mine.json["error"]["message"]
    assert launch(api_as(org.alice), org.wealth).status_code == 403
    assert launch(lead, org.wealth, team_id=99999).status_code == 404
    missing = lead.post("/challenges", {"title": "x"})
    assert missing.status_code == 422 and {"team_id", "target", "pool", "starts_at"} <= set(missing.json["error"]["fields"])
    assert db.session.scalar(sa.select(sa.func.count(Challenge.id))) == 0


def test_who_may_see_and_close_a_challenge(org, api_as):
    challenge_id = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    assert api_as(org.branch_lead).get(f"/challenges/{challenge_id}").status_code == 200
    assert api_as(org.carol).get(f"/challenges/{challenge_id}").status_code == 404
    assert api_as(org.loans_lead).post(f"/challenges/{challenge_id}/close").status_code == 404
    refused = api_as(org.alice).post(f"/challenges/{challenge_id}/close")
    assert refused.status_code == 403
    assert db.session.get(Challenge, challenge_id, populate_existing=True).status == "active"
    assert api_as(org.alice).get("/challenges/424242").status_code == 404


def test_members_list_their_teams_challenges(org, api_as):
    wealth = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    loans = launch(api_as(org.loans_lead), org.loans).json["id"]
    assert [c["id"] for c in api_as(org.alice).get("/challenges").json["items"]] == [wealth]
    assert {c["id"] for c in api_as(org.branch_lead).get("/challenges").json["items"]} == {wealth, loans}
    assert challenges.view(db.session.get(Challenge, wealth)).days_left == 7


def test_a_recorded_compliance_veto_removes_the_share(org, api_as):
    from pointsapp.models import Veto
    from pointsapp.periods import period_key

    db.session.add(Veto(user_id=org.bob.id, period="quarter", period_key=period_key("quarter", NOW), reason="Mis-selling"))
    db.session.commit()
    past = launch(api_as(org.wealth_lead), org.wealth).json["id"]
    contribute(org.alice, 100)
    contribute(org.bob, 100)
    paid = api_as(org.admin).post(f"/challenges/{past}/close").json
    assert paid["status"] == "succeeded"
    assert [(p["user_id"], p["points"]) for p in paid["payouts"]] == [(org.alice.id, 500)]
