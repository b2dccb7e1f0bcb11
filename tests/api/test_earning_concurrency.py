"""Exactly once under races and replays, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, Notification
from tests import factories
from tests.conftest import ApiClient, run_concurrently


def test_twenty_concurrent_replays_award_once(app, org):
    rules.seed_default_rules()
    db.session.commit()
    token = factories.token_for(factories.integration())
    body = {
        "external_id": "race-1",
        "type": "cross_dept_referral",
        "user_id": org.alice.id,
        "participants": [org.carol.id],
        "occurred_at": "2026-11-02T09:00:00+08:00",
    }

    def send(_):
        response = ApiClient(app, token).post("/events", body)
        return response.status_code, response.json["items"][0]["status"]

    results = run_concurrently(send, 20)
    assert sorted(results).count((201, "created")) == 1
    assert sorted(results).count((200, "duplicate")) == 19
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 1
    assert ledger.wallet_summary(org.alice.id).balance == 25
    assert ledger.wallet_summary(org.carol.id).balance == 25
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2


def test_concurrent_conflicting_payloads_store_one_and_refuse_the_rest(app, org):
    rules.seed_default_rules()
    db.session.commit()
    token = factories.token_for(org.admin)
    users = [org.alice.id, org.bob.id, org.carol.id]

    def send(i):
        body = {"external_id": "same", "type": "loan_signed", "user_id": users[i % 3], "occurred_at": "2026-11-02T09:00:00Z"}
        return ApiClient(app, token).post("/events", body).status_code

    codes = run_concurrently(send, 12)
    assert codes.count(201) == 1 and codes.count(201) + codes.count(200) + codes.count(409) == 12
    assert db.session.scalar(sa.select(sa.func.sum(LedgerEntry.points))) == 30


def test_a_1000_event_batch_sent_twice_changes_nothing_the_second_time(app, org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    api = api_as(factories.integration())
    start = dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc)
    people = [org.alice.id, org.bob.id, org.carol.id]
    types = ["loan_signed", "client_revisit_positive", "product_renewal", "wealth_product_sold"]
    batch = {
        "events": [
            {
                "external_id": f"b-{i}",
                "type": types[i % 4],
                "user_id": people[i % 3],
                "occurred_at": (start + dt.timedelta(hours=i)).isoformat(),
                "quantity": 1 + i % 2,
            }
            for i in range(1000)
        ]
    }
    first = api.post("/events", batch)
    assert first.status_code == 201 and first.json["summary"]["created"] == 1000
    db.session.remove()
    snapshot = db.session.execute(sa.select(sa.func.count(LedgerEntry.id), sa.func.sum(LedgerEntry.points))).one()
    balances = [ledger.wallet_summary(uid).balance for uid in people]
    second = api.post("/events", batch)
    assert second.status_code == 200 and second.json["summary"]["duplicate"] == 1000
    db.session.remove()
    assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id), sa.func.sum(LedgerEntry.points))).one() == snapshot
    assert [ledger.wallet_summary(uid).balance for uid in people] == balances
    assert sum(balances) == snapshot[1] > 0


def test_overlapping_batches_in_different_orders_all_apply(app, org):
    rules.seed_default_rules()
    db.session.commit()
    token = factories.token_for(factories.integration())
    people = [org.alice.id, org.bob.id, org.carol.id]

    def send(i):
        order = people[i % 3 :] + people[: i % 3]
        events = [
            {
                "external_id": f"t{i}-{n}",
                "type": "client_revisit_positive",
                "user_id": order[n % 3],
                "occurred_at": "2026-11-02T09:00:00Z",
            }
            for n in range(12)
        ]
        return ApiClient(app, token).post("/events", {"events": events}).status_code

    assert run_concurrently(send, 8) == [201] * 8
    assert [ledger.wallet_summary(uid).balance for uid in people] == [320, 320, 320]


def test_an_idempotency_key_replays_the_first_answer(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    api = api_as(org.admin)
    body = {"external_id": "idem-1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2026-11-02T09:00:00Z"}
    first = api.post("/events", body, headers={"Idempotency-Key": "k-1"})
    again = api.post("/events", body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and again.json == first.json
    assert again.headers.get("Idempotent-Replayed") == "true"
    other = api.post("/events", {**body, "external_id": "idem-2"}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_conflict"
    assert ledger.wallet_summary(org.alice.id).balance == 30
