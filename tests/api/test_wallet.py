"""Wallet section of the contract and POST /awards, including idempotent retries and races."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import IdempotencyRecord, LedgerEntry, Notification
from tests import factories
from tests.conftest import ApiClient, run_concurrently


def test_a_new_advisor_has_an_empty_wallet(org, api_as):
    assert api_as(org.alice).get("/me/wallet").json == {
        "balance": 0,
        "available": 0,
        "held": 0,
        "lifetime_earned": 0,
        "period_points": {"week": 0, "month": 0, "quarter": 0, "year": 0},
    }
    assert api_as(org.alice).get("/me/ledger").json == {"items": [], "next_cursor": None}


def test_wallet_shows_balance_held_and_period_points(org, api_as):
    factories.give_points(org.alice, 120)
    ledger.place_hold(org.alice.id, 20, reason="Remote day")
    long_ago = dt.datetime(2025, 1, 6, tzinfo=dt.timezone.utc)
    factories.give_points(org.alice, 10, effective_at=long_ago)
    body = api_as(org.alice).get("/me/wallet").json
    assert body == {
        "balance": 130,
        "available": 110,
        "held": 20,
        "lifetime_earned": 130,
        "period_points": {"week": 120, "month": 120, "quarter": 120, "year": 120},
    }


def test_lead_awards_a_member_with_a_reason_and_it_is_queued_for_push(org, api_as):
    response = api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": 120, "reason": "Top revisit week"})
    assert response.status_code == 201
    body = response.json
    assert {k: body[k] for k in ("user_id", "points", "reason")} == {
        "user_id": org.alice.id,
        "points": 120,
        "reason": "Top revisit week",
    }
    assert isinstance(body["id"], int)
    entry = db.session.get(LedgerEntry, body["id"])
    assert (entry.actor_id, entry.kind) == (org.wealth_lead.id, "manual_award")
    assert api_as(org.alice).get("/me/wallet").json["balance"] == 120
    [note] = db.session.scalars(sa.select(Notification)).all()
    assert (note.user_id, note.template, note.params["points"]) == (org.alice.id, "points_awarded", 120)


def test_negative_points_are_a_deduction(org, api_as):
    factories.give_points(org.alice, 50)
    response = api_as(org.admin).post("/awards", {"user_id": org.alice.id, "points": -20, "reason": "Late report"})
    assert response.status_code == 201 and response.json["points"] == -20
    assert db.session.get(LedgerEntry, response.json["id"]).kind == "manual_deduction"
    assert api_as(org.alice).get("/me/wallet").json["balance"] == 30


def test_who_may_award(org, api_as):
    payload = {"user_id": org.carol.id, "points": 10, "reason": "Help"}
    assert api_as(org.wealth_lead).post("/awards", payload).status_code == 403  # not their team
    assert api_as(org.alice).post("/awards", {**payload, "user_id": org.bob.id}).status_code == 403
    assert api_as(org.wealth_lead).post("/awards", {**payload, "user_id": org.wealth_lead.id}).status_code == 403
    assert api_as(org.branch_lead).post("/awards", payload).status_code == 201  # sub-team
    assert api_as(org.loans_lead).post("/awards", payload).status_code == 201
    assert api_as(org.admin).post("/awards", payload).status_code == 201
    assert api_as(factories.integration()).post("/awards", payload).status_code == 403
    assert ledger.wallet_summary(org.carol.id).balance == 30


def test_award_input_errors_name_the_field_and_write_nothing(org, api_as):
    admin = api_as(org.admin)
    cases = [
        ({"user_id": org.alice.id, "points": 0, "reason": "x"}, "points"),
        ({"user_id": org.alice.id, "points": "ten", "reason": "x"}, "points"),
        ({"user_id": org.alice.id, "points": 10.5, "reason": "x"}, "points"),
        ({"user_id": org.alice.id, "points": 10, "reason": "  "}, "reason"),
        ({"user_id": org.alice.id, "points": 10}, "reason"),
        ({"points": 10, "reason": "x"}, "user_id"),
    ]
    for payload, field in cases:
        response = admin.post("/awards", payload)
        assert response.status_code == 422, payload
        assert field in response.json["error"]["fields"], payload
    unknown = admin.post("/awards", {"user_id": 424242, "points": 10, "reason": "x"})
    assert unknown.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


def test_same_idempotency_key_and_body_replays_the_first_response(org, api_as):
    admin = api_as(org.admin)
    payload = {"user_id": org.alice.id, "points": 30, "reason": "Loan signed"}
    first = admin.post("/awards", payload, headers={"Idempotency-Key": "award-1"})
    again = admin.post("/awards", payload, headers={"Idempotency-Key": "award-1"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert ledger.wallet_summary(org.alice.id).balance == 30


def test_same_idempotency_key_with_another_body_is_409(org, api_as):
    admin = api_as(org.admin)
    admin.post("/awards", {"user_id": org.alice.id, "points": 30, "reason": "Loan"}, headers={"Idempotency-Key": "k"})
    response = admin.post("/awards", {"user_id": org.alice.id, "points": 31, "reason": "Loan"}, headers={"Idempotency-Key": "k"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "idempotency_conflict"
    assert ledger.wallet_summary(org.alice.id).balance == 30


def test_idempotency_keys_belong_to_their_caller(org, api_as):
    payload = {"user_id": org.alice.id, "points": 5, "reason": "Help"}
    assert api_as(org.admin).post("/awards", payload, headers={"Idempotency-Key": "shared"}).status_code == 201
    assert api_as(org.wealth_lead).post("/awards", payload, headers={"Idempotency-Key": "shared"}).status_code == 201
    assert ledger.wallet_summary(org.alice.id).balance == 10


def test_a_refused_request_is_not_remembered_under_its_key(org, api_as):
    admin = api_as(org.admin)
    refused = admin.post("/awards", {"user_id": 999999, "points": 5, "reason": "x"}, headers={"Idempotency-Key": "k2"})
    assert refused.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) == 0


def test_an_overlong_idempotency_key_is_422(org, api_as):
    response = api_as(org.admin).post(
        "/awards", {"user_id": org.alice.id, "points": 5, "reason": "x"}, headers={"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 422
    assert ledger.wallet_summary(org.alice.id).balance == 0


def test_twenty_concurrent_identical_awards_with_one_key_create_one_entry(app, org):
    token = factories.token_for(org.admin)
    payload = {"user_id": org.alice.id, "points": 15, "reason": "Referral"}

    def send(_):
        response = ApiClient(app, token).post("/awards", payload, headers={"Idempotency-Key": "race-1"})
        return response.status_code, response.json

    results = run_concurrently(send, 20)
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 1
    assert ledger.wallet_summary(org.alice.id).balance == 15


def test_twenty_concurrent_awards_without_a_key_all_count(app, org):
    token = factories.token_for(org.admin)

    def send(i):
        return ApiClient(app, token).post("/awards", {"user_id": org.alice.id, "points": i + 1, "reason": "Batch"}).status_code

    assert run_concurrently(send, 20) == [201] * 20
    assert ledger.wallet_summary(org.alice.id).balance == sum(range(1, 21))


def test_ledger_is_newest_first_and_paginates_with_a_cursor(org, api_as):
    for points in range(1, 8):
        factories.give_points(org.alice, points, reason=f"Entry {points}")
    client = api_as(org.alice)
    first = client.get("/me/ledger?limit=3").json
    assert [e["points"] for e in first["items"]] == [7, 6, 5]
    assert set(first["items"][0]) >= {"id", "points", "kind", "reason", "created_at", "event_id"}
    assert first["items"][0]["reason"] == "Entry 7" and first["items"][0]["kind"] == "manual_award"
    second = client.get(f"/me/ledger?limit=3&cursor={first['next_cursor']}").json
    third = client.get(f"/me/ledger?limit=3&cursor={second['next_cursor']}").json
    assert [e["points"] for e in second["items"]] == [4, 3, 2]
    assert [e["points"] for e in third["items"]] == [1] and third["next_cursor"] is None
    assert client.get("/me/ledger").json["items"][0]["created_at"].endswith("+00:00")


def test_bad_pagination_arguments_are_422(org, api_as):
    client = api_as(org.alice)
    assert client.get("/me/ledger?limit=0").status_code == 422
    assert client.get("/me/ledger?limit=201").json["error"]["fields"] == {
        "limit": ["Must be greater than or equal to 1 and less than or equal to 200."]
    }
    bad_cursor = client.get("/me/ledger?cursor=garbage")
    assert bad_cursor.status_code == 422 and "cursor" in bad_cursor.json["error"]["fields"]


def test_lead_and_admin_see_a_members_wallet_others_do_not(org, api_as):
    factories.give_points(org.alice, 40)
    assert api_as(org.wealth_lead).get(f"/users/{org.alice.id}/wallet").json["balance"] == 40
    assert api_as(org.admin).get(f"/users/{org.alice.id}/wallet").json["available"] == 40
    for outsider in (org.loans_lead, org.bob):
        hidden = api_as(outsider).get(f"/users/{org.alice.id}/wallet")
        assert hidden.status_code == 404
        assert hidden.json == {"error": {"code": "not_found", "message": f"There is no user {org.alice.id}."}}
    assert api_as(org.admin).get("/users/31337/wallet").status_code == 404


def test_leads_award_at_most_the_configured_amount_at_once_admins_more(org, api_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "LEAD_AWARD_LIMIT", 500)
    lead = api_as(org.wealth_lead)
    refused = lead.post("/awards", {"user_id": org.alice.id, "points": 501, "reason": "Huge"})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "limit_reached" and "500" in refused.json["error"]["message"]
    assert lead.post("/awards", {"user_id": org.alice.id, "points": -501, "reason": "Huge"}).status_code == 422
    assert lead.post("/awards", {"user_id": org.alice.id, "points": 500, "reason": "Top month"}).status_code == 201
    assert (
        api_as(org.admin).post("/awards", {"user_id": org.alice.id, "points": 5000, "reason": "Annual prize"}).status_code == 201
    )
    assert ledger.wallet_summary(org.alice.id).balance == 5500


def test_an_award_to_an_id_no_database_could_hold_is_refused_not_a_500(org, api_as):
    response = api_as(org.admin).post("/awards", {"user_id": 2**70, "points": 5, "reason": "x"})
    assert response.status_code == 422 and "user_id" in response.json["error"]["fields"]
