"""POST /events: identity, replays, conflicts, batches, shares, rules in force."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, rules
from pointsapp.api.earning import EventResultsSchema
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


def test_a_mixed_batch_is_answered_item_by_item_in_the_documented_shape(org, api_as):
    """New, duplicate, conflicting, repeated-in-the-batch, unknown-user and malformed items, each answered in full."""
    seed_rules()
    api = api_as(factories.integration())
    known = api.post("/events", loan("known", org.alice.id)).json["items"][0]["id"]
    referral = {**loan("ref", org.alice.id), "type": "cross_dept_referral", "participants": [org.carol.id, org.bob.id]}
    batch = [
        loan("new", org.bob.id, quantity=2),
        loan("known", org.alice.id),
        loan("known", org.bob.id),
        referral,
        loan("new", org.bob.id, quantity=2),
        loan("ghost", 424242),
        {**loan("bad"), "user_id": 1.5},
        "not an object",
    ]
    response = api.post("/events", {"events": batch})
    assert response.status_code == 201
    body = response.json
    new_id = db.session.scalar(sa.select(Event.id).where(Event.external_id == "new"))
    ref_id = db.session.scalar(sa.select(Event.id).where(Event.external_id == "ref"))
    entries = {(e.event_id, e.user_id): e.id for e in db.session.scalars(sa.select(LedgerEntry))}
    conflict_message = (
        "Event known was already received with different details; send a new external_id for a new event, "
        "or ask an admin to reverse the stored one."
    )
    assert body["summary"] == {"created": 2, "duplicate": 2, "conflict": 1, "invalid": 3}
    assert body["items"][:5] == [
        {
            "index": 0,
            "external_id": "new",
            "id": new_id,
            "status": "created",
            "awards": [{"user_id": org.bob.id, "points": 60, "kind": "event_award", "entry_id": entries[(new_id, org.bob.id)]}],
        },
        {"index": 1, "external_id": "known", "id": known, "status": "duplicate", "awards": []},
        {
            "index": 2,
            "external_id": "known",
            "id": known,
            "status": "conflict",
            "awards": [],
            "error": {"code": "conflict", "message": conflict_message, "external_id": "known", "event_id": known},
        },
        {
            "index": 3,
            "external_id": "ref",
            "id": ref_id,
            "status": "created",
            "awards": [
                {"user_id": uid, "points": points, "kind": "event_award", "entry_id": entries[(ref_id, uid)]}
                for uid, points in [(org.alice.id, 17), (org.carol.id, 17), (org.bob.id, 16)]
            ],
        },
        {"index": 4, "external_id": "new", "id": new_id, "status": "duplicate", "awards": []},
    ]
    ghost, bad, not_object = body["items"][5:]
    assert ghost == {
        "index": 5,
        "external_id": "ghost",
        "id": None,
        "status": "invalid",
        "awards": [],
        "error": {
            "code": "validation_error",
            "message": "There is no user 424242.",
            "fields": {"user_id": ["There is no user 424242."]},
        },
    }
    assert (bad["external_id"], bad["id"], bad["status"], bad["error"]["fields"]) == (
        "bad",
        None,
        "invalid",
        {"user_id": ["Not a valid integer."]},
    )
    assert (not_object["external_id"], not_object["status"], not_object["error"]["code"]) == (None, "invalid", "validation_error")
    # The answer is exactly what its documented schema dumps: no field more (an award's reason stays out).
    assert EventResultsSchema().dump(body) == body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 3
    assert balance(org.alice) == 30 + 17 and balance(org.bob) == 60 + 16


def test_an_event_type_with_a_trailing_newline_is_refused(org, api_as):
    seed_rules()
    api = api_as(org.admin)
    single = api.post("/events", {**loan(user_id=org.alice.id), "type": "loan_signed\n"})
    assert single.status_code == 422
    assert list(single.json["error"]["fields"]) == ["type"]
    batch = api.post("/events", {"events": [{**loan("b1", org.alice.id), "type": "loan_signed\n"}, loan("b2", org.alice.id)]})
    assert [i["status"] for i in batch.json["items"]] == ["invalid", "created"]
    assert "type" in batch.json["items"][0]["error"]["fields"]
    assert db.session.scalars(sa.select(Event.type)).all() == ["loan_signed"]
    rule = api.post("/rules", {"event_type": "loan_signed\n", "name": "Loan", "points": 5})
    assert rule.status_code == 422 and "event_type" in rule.json["error"]["fields"]
    assert balance(org.alice) == 30


def test_numbers_sent_as_text_are_refused_by_the_api(org, api_as):
    """The contract's user ids and quantity are JSON integers; "12" is text (a CSV file may use digits)."""
    seed_rules()
    api = api_as(org.admin)
    for field, value in [
        ("user_id", str(org.alice.id)),
        ("quantity", "2"),
        ("participants", [str(org.bob.id)]),
        ("user_id", True),
        ("quantity", 2.0),
    ]:
        response = api.post("/events", {**loan(user_id=org.alice.id), field: value})
        assert response.status_code == 422, (field, value)
        assert list(response.json["error"]["fields"]) == [field]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
    assert balance(org.alice) == 0 and balance(org.bob) == 0


def test_a_number_as_the_external_id_is_read_as_its_digits(org, api_as):
    seed_rules()
    api = api_as(org.admin)
    first = api.post("/events", {**loan(user_id=org.alice.id), "external_id": 1042, "related_external_id": "  "})
    again = api.post("/events", {**loan(user_id=org.alice.id), "external_id": "1042"})
    assert first.json["items"][0]["external_id"] == "1042" and first.status_code == 201
    assert again.json["items"][0]["status"] == "duplicate"
    assert balance(org.alice) == 30


def test_an_item_repeated_in_a_batch_with_an_unknown_related_event_is_invalid_twice(org, api_as):
    seed_rules()
    item = {**loan("claw", org.alice.id), "type": "bad_loan", "related_external_id": "never-posted"}
    response = api_as(org.admin).post("/events", {"events": [item, item]})
    assert response.status_code == 200
    assert [i["status"] for i in response.json["items"]] == ["invalid", "invalid"]
    assert all("related_external_id" in i["error"]["fields"] for i in response.json["items"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0
