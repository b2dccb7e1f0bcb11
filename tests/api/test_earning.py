"""POST /events: identity, replays, conflicts, batches, shares, rules in force."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, Notification
from tests import factories

WHEN = "2026-11-20T10:00:00+08:00"


def seed_rules():
    rules.seed_default_rules()
    db.session.commit()


def loan(external_id="crm-1", user_id=None, **extra):
    return {"external_id": external_id, "type": "loan_signed", "user_id": user_id, "occurred_at": WHEN, **extra}


def balance(user):
    db.session.remove()
    return ledger.wallet_summary(user.id).balance


def test_an_integration_posts_a_loan_and_the_owner_earns_the_rule_points(org, api_as):
    seed_rules()
    crm = factories.integration("CRM")
    response = api_as(crm).post("/events", loan(user_id=org.alice.id))
    assert response.status_code == 201, response.json
    item = response.json["items"][0]
    assert item["status"] == "created" and item["external_id"] == "crm-1" and isinstance(item["id"], int)
    assert [(a["user_id"], a["points"]) for a in item["awards"]] == [(org.alice.id, 30)]
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.alice.id))
    event = db.session.get(Event, item["id"])
    assert (entry.event_id, entry.rule_id, entry.reason, entry.kind) == (event.id, event.rule_id, "Loan signed", "event_award")
    assert entry.effective_at == dt.datetime(2026, 11, 20, 2, tzinfo=dt.timezone.utc)
    assert event.source == f"integration:{crm.id}"


def test_a_replay_is_a_duplicate_that_awards_nothing(org, api_as):
    seed_rules()
    api = api_as(factories.integration())
    first = api.post("/events", loan(user_id=org.alice.id, quantity=2))
    again = api.post("/events", loan(user_id=org.alice.id, quantity=2))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["items"][0]["status"] == "duplicate"
    assert again.json["items"][0]["id"] == first.json["items"][0]["id"]
    assert again.json["items"][0]["awards"] == []
    assert balance(org.alice) == 60


def test_the_same_id_with_another_payload_is_a_409_conflict(org, api_as):
    seed_rules()
    api = api_as(factories.integration())
    api.post("/events", loan(user_id=org.alice.id))
    response = api.post("/events", loan(user_id=org.bob.id))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "conflict"
    assert "crm-1" in response.json["error"]["message"]
    assert balance(org.bob) == 0


def test_identities_are_per_integration(org, api_as):
    seed_rules()
    api_as(factories.integration()).post("/events", loan(user_id=org.alice.id))
    response = api_as(factories.integration()).post("/events", loan(user_id=org.alice.id))
    assert response.status_code == 201 and response.json["items"][0]["status"] == "created"
    assert balance(org.alice) == 60


def test_an_unknown_user_is_a_422_naming_the_id(org, api_as):
    seed_rules()
    response = api_as(org.admin).post("/events", loan(user_id=987654))
    assert response.status_code == 422
    assert "987654" in response.json["error"]["message"]
    assert "987654" in response.json["error"]["fields"]["user_id"][0]
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 0


def test_a_malformed_single_event_is_a_422_with_fields(org, api_as):
    response = api_as(org.admin).post("/events", {"type": "loan_signed", "user_id": org.alice.id, "occurred_at": "yesterday"})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"external_id", "occurred_at"}


def test_a_batch_applies_good_items_and_reports_each_bad_one(org, api_as):
    seed_rules()
    api = api_as(factories.integration())
    api.post("/events", loan("known", org.alice.id))
    batch = {
        "events": [
            loan("a", org.alice.id),
            loan("b", 424242),
            loan("known", org.bob.id),
            {"external_id": "c", "type": "loan_signed", "user_id": org.bob.id},
            loan("d", org.bob.id, participants=[777777]),
            loan("known", org.alice.id),
        ]
    }
    response = api.post("/events", batch)
    assert response.status_code == 201
    statuses = [(i["external_id"], i["status"]) for i in response.json["items"]]
    assert statuses == [
        ("a", "created"),
        ("b", "invalid"),
        ("known", "conflict"),
        ("c", "invalid"),
        ("d", "invalid"),
        ("known", "duplicate"),
    ]
    items = response.json["items"]
    assert "424242" in items[1]["error"]["message"]
    assert items[2]["error"]["code"] == "conflict"
    assert "occurred_at" in items[3]["error"]["fields"]
    assert "777777" in items[4]["error"]["fields"]["participants"][0]
    assert "error" not in items[0]
    assert balance(org.alice) == 60 and balance(org.bob) == 0


def test_a_batch_of_known_events_answers_200(org, api_as):
    seed_rules()
    api = api_as(org.admin)
    batch = {"events": [loan(f"e{i}", org.alice.id) for i in range(3)]}
    assert api.post("/events", batch).status_code == 201
    again = api.post("/events", batch)
    assert again.status_code == 200
    assert {i["status"] for i in again.json["items"]} == {"duplicate"}


def test_batches_are_limited_to_1000(org, api_as):
    response = api_as(org.admin).post("/events", {"events": [loan(f"e{i}", org.alice.id) for i in range(1001)]})
    assert response.status_code == 422
    assert "events" in response.json["error"]["fields"]


def test_quantity_multiplies_points(org, api_as):
    seed_rules()
    response = api_as(org.admin).post("/events", {**loan(user_id=org.alice.id), "type": "client_revisit_positive", "quantity": 3})
    assert response.json["items"][0]["awards"][0]["points"] == 30
    assert db.session.scalar(sa.select(LedgerEntry.reason)) == "Client revisit with good feedback ×3"


def test_shared_points_split_equally_with_the_remainder_to_the_owner_first(org, api_as):
    rules.publish_rule(org.admin, event_type="cross_dept_referral", name="Referral", points=50)
    db.session.commit()
    response = api_as(org.admin).post(
        "/events", {**loan(user_id=org.alice.id), "type": "cross_dept_referral", "participants": [org.carol.id, org.bob.id]}
    )
    awards = [(a["user_id"], a["points"]) for a in response.json["items"][0]["awards"]]
    assert awards == [(org.alice.id, 17), (org.carol.id, 17), (org.bob.id, 16)]
    assert sum(p for _, p in awards) == 50


def test_an_event_type_without_a_rule_is_stored_and_awards_nothing(org, api_as):
    response = api_as(org.admin).post("/events", {**loan(user_id=org.alice.id), "type": "client_meeting"})
    assert response.status_code == 201
    assert response.json["items"][0]["status"] == "created" and response.json["items"][0]["awards"] == []
    assert db.session.scalar(sa.select(Event.type)) == "client_meeting"
    assert balance(org.alice) == 0


def test_integrations_may_post_events_and_nothing_else(org, api_as):
    api = api_as(factories.integration())
    assert api.get("/rules").status_code == 403
    assert api.post("/mentorships", {"mentor_id": org.alice.id, "mentee_id": org.bob.id}).status_code == 403
    assert api.get("/me/wallet").status_code == 403


def test_employees_and_leads_may_not_post_events(org, api_as):
    for user in (org.alice, org.wealth_lead):
        response = api_as(user).post("/events", loan(user_id=org.alice.id))
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"


def test_one_notification_per_user_per_batch(org, api_as):
    seed_rules()
    api_as(org.admin).post("/events", {"events": [loan(f"e{i}", org.alice.id) for i in range(4)]})
    rows = list(db.session.scalars(sa.select(Notification).where(Notification.user_id == org.alice.id)))
    assert len(rows) == 1 and rows[0].params["points"] == 120 and rows[0].url == "/wallet"


def test_the_admin_source_is_shared_by_every_admin(org, api_as):
    seed_rules()
    other_admin = factories.user("admin")
    api_as(org.admin).post("/events", loan(user_id=org.alice.id))
    response = api_as(other_admin).post("/events", loan(user_id=org.alice.id))
    assert response.status_code == 200 and response.json["items"][0]["status"] == "duplicate"


def test_events_far_in_the_future_are_refused(org, api_as):
    response = api_as(org.admin).post("/events", loan(user_id=org.alice.id, occurred_at="2099-01-01T00:00:00Z"))
    assert response.status_code == 422 and "occurred_at" in response.json["error"]["fields"]


def test_a_batch_item_that_is_not_an_object_is_invalid_alone(org, api_as):
    seed_rules()
    response = api_as(org.admin).post("/events", {"events": [42, loan(7, org.alice.id)]})
    assert response.status_code == 201
    assert [i["status"] for i in response.json["items"]] == ["invalid", "created"]
    assert response.json["items"][1]["external_id"] == "7"
