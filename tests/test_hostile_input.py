"""Hostile input gets a 4xx with the error body and changes nothing: never a 500."""

from __future__ import annotations

import sqlalchemy as sa

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, Mentorship, Redemption, Reward, Team, User
from tests import factories
from tests.conftest import csrf_token, login

SURROGATE = "a\ud800b"  # a lone surrogate: valid JSON escape, not encodable text
HUGE = "9" * 5000  # past Python's 4,300-digit limit for int()
WHEN = "2026-11-20T10:00:00+08:00"


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"], body
    return body["error"]


# --- lone surrogates in JSON ---------------------------------------------------------


def test_a_lone_surrogate_in_a_json_string_is_a_422_naming_the_field(org, api_as):
    admin = api_as(org.admin)
    error = assert_error(
        admin.post("/awards", {"user_id": org.alice.id, "points": 5, "reason": SURROGATE}), 422, "validation_error"
    )
    assert "reason" in error["fields"]
    error = assert_error(admin.post("/rewards", {"name": SURROGATE, "kind": "other", "cost": 10}), 422, "validation_error")
    assert "name" in error["fields"]
    error = assert_error(
        api_as(org.alice).post(
            "/push/subscriptions",
            {"endpoint": "https://fcm.googleapis.com/fcm/send/" + SURROGATE, "keys": {"p256dh": "k", "auth": "a"}},
        ),
        422,
        "validation_error",
    )
    assert "endpoint" in error["fields"]
    assert (count(LedgerEntry), count(Reward)) == (0, 0)


def test_a_lone_surrogate_in_one_event_of_a_batch_makes_that_item_alone_invalid(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    crm = api_as(factories.integration("CRM"))
    good = {"external_id": "crm-1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": WHEN}
    bad = {**good, "external_id": "crm-" + SURROGATE}
    response = crm.post("/events", {"events": [good, bad]})
    assert response.status_code == 201, response.json
    first, second = response.json["items"]
    assert (first["status"], first["external_id"]) == ("created", "crm-1")
    assert second["status"] == "invalid" and second["external_id"] is None
    assert "external_id" in second["error"]["fields"]
    assert count(Event) == 1
    assert ledger.wallet_summary(org.alice.id).balance == 30


def test_a_single_event_with_a_lone_surrogate_is_a_422(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    event = {
        "external_id": "crm-1",
        "type": "loan_signed",
        "user_id": org.alice.id,
        "occurred_at": WHEN,
        "participants": [],
        "note": SURROGATE,
    }
    response = api_as(factories.integration("CRM")).post("/events", {**event, "external_id": SURROGATE})
    assert response.status_code == 422, response.json
    assert count(Event) == 0


# --- integers past the 4,300-digit limit ---------------------------------------------


def test_a_json_integer_past_the_digit_limit_is_a_400(org, api_as):
    admin = api_as(org.admin)
    body = f'{{"user_id": {HUGE}, "points": 5, "reason": "x"}}'
    response = admin.client.post(
        "/api/v1/awards", data=body, content_type="application/json", headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert_error(response, 400, "bad_request")
    events = f'{{"events": [{{"external_id": "e", "type": "loan_signed", "user_id": {HUGE}, "occurred_at": "{WHEN}"}}]}}'
    crm = api_as(factories.integration("CRM"))
    response = crm.client.post(
        "/api/v1/events", data=events, content_type="application/json", headers={"Authorization": f"Bearer {crm.token}"}
    )
    assert_error(response, 400, "bad_request")
    assert count(LedgerEntry) == 0 and count(Event) == 0


def test_form_integers_past_the_digit_limit_are_refused_on_the_page(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    for path, data in [
        ("/admin/teams", {"name": "Branch 9", "parent_id": HUGE}),
        ("/admin/users", {"email": "new@bank.example", "name": "New", "role": "employee", "team_id": HUGE}),
        ("/admin/awards", {"user_id": HUGE, "points": HUGE, "reason": "x"}),
        ("/mentorships", {"mentor_id": HUGE, "mentee_id": HUGE}),
    ]:
        response = client.post(path, data={**data, "csrf_token": token})
        assert 400 <= response.status_code < 500, (path, response.status_code)
    assert count(Team) == 4 and count(User) == 7 and count(LedgerEntry) == 0 and count(Mentorship) == 0


# --- ids that are not numbers, empty periods, long tokens ----------------------------


def test_a_team_parent_or_user_team_that_is_not_a_number_is_a_422_on_the_page(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    response = client.post("/admin/teams", data={"name": "Branch 9", "parent_id": "abc", "csrf_token": token})
    assert response.status_code == 422
    assert "Choose a team from the list." in response.get_data(as_text=True)
    response = client.post(
        "/admin/users",
        data={"email": "new@bank.example", "name": "New", "role": "employee", "team_id": "abc", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "Choose a team from the list." in response.get_data(as_text=True)
    assert count(Team) == 4 and count(User) == 7


def test_closing_a_period_with_no_period_and_no_key_is_a_422_on_the_page(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/rules")
    response = client.post("/admin/periods/close", data={"period": "", "key": "", "csrf_token": token})
    assert response.status_code == 422
    assert "Choose week, month, quarter or year." in response.get_data(as_text=True)
    assert count(LedgerEntry) == 0


def test_a_redeem_token_longer_than_the_column_is_refused_and_redeems_nothing(org, client):
    reward = Reward(name="Training seat", kind="training_seat", cost=10, stock=3, description="")
    db.session.add(reward)
    factories.give_points(org.alice, 100)
    db.session.commit()
    reward_id = reward.id
    login(client, org.alice)
    token = csrf_token(client, f"/rewards/{reward_id}/confirm")
    response = client.post(f"/rewards/{reward_id}/redeem", data={"quantity": "1", "token": "t" * 65, "csrf_token": token})
    assert response.status_code == 422
    assert "This form is out of date; open the reward again." in response.get_data(as_text=True)
    assert count(Redemption) == 0
    assert db.session.get(Reward, reward_id).stock == 3
    assert ledger.wallet_summary(org.alice.id).held == 0
