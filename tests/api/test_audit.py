"""The audit trail: every privileged action writes exactly one record; GET /audit filters and pages them."""

from __future__ import annotations

import datetime as dt
import types

import pytest
import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import AuditRecord
from pointsapp.periods import period_key
from tests import factories

NOW = dt.datetime.now(dt.timezone.utc)


def records(action=None) -> list[AuditRecord]:
    stmt = sa.select(AuditRecord).order_by(AuditRecord.id)
    if action:
        stmt = stmt.where(AuditRecord.action == action)
    return list(db.session.scalars(stmt))


def _challenge(org, api_as):
    body = {
        "team_id": org.wealth.id,
        "title": "Push",
        "event_type": "loan.signed",
        "target": 1,
        "pool": 300,
        "starts_at": (NOW - dt.timedelta(days=2)).isoformat(),
        "ends_at": (NOW + dt.timedelta(days=2)).isoformat(),
    }
    return api_as(org.wealth_lead).post("/challenges", body).json["id"]


def _redemption(org, api_as):
    factories.give_points(org.alice, 500)
    reward = api_as(org.admin).post("/rewards", {"name": "Leave day", "kind": "leave_day", "cost": 100}).json["id"]
    return api_as(org.alice).post("/redemptions", {"reward_id": reward}).json["id"]


def _event(org, api_as):
    api_as(org.admin).post("/rules", {"event_type": "loan_signed", "name": "Loan", "points": 40})
    body = {"external_id": "crm-1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW.isoformat()}
    return api_as(factories.integration()).post("/events", body).json["items"][0]["id"]


def _last_quarter() -> str:
    return period_key("quarter", NOW - dt.timedelta(days=100))


# (action, prepare(org, api_as) -> context, act(org, api_as, context) -> response, subject_type, actor)
ACTIONS = [
    (
        "award.created",
        lambda o, a: None,
        lambda o, a, c: a(o.wealth_lead).post("/awards", {"user_id": o.alice.id, "points": 20, "reason": "Help"}),
        "award",
        "wealth_lead",
    ),
    (
        "rule.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/rules", {"event_type": "card_issued", "name": "Card", "points": 5}),
        "rule",
        "admin",
    ),
    (
        "event.reversed",
        _event,
        lambda o, a, c: a(o.admin).post(f"/events/{c}/reverse", {"reason": "Cancelled"}),
        "event",
        "admin",
    ),
    (
        "challenge.created",
        lambda o, a: None,
        lambda o, a, c: a(o.wealth_lead).post(
            "/challenges",
            {
                "team_id": o.wealth.id,
                "title": "Push",
                "event_type": "x",
                "target": 1,
                "pool": 10,
                "starts_at": NOW.isoformat(),
                "ends_at": (NOW + dt.timedelta(days=1)).isoformat(),
            },
        ),
        "challenge",
        "wealth_lead",
    ),
    ("challenge.closed", _challenge, lambda o, a, c: a(o.wealth_lead).post(f"/challenges/{c}/close"), "challenge", "wealth_lead"),
    (
        "redemption.approved",
        _redemption,
        lambda o, a, c: a(o.wealth_lead).post(f"/redemptions/{c}/approve"),
        "redemption",
        "wealth_lead",
    ),
    (
        "redemption.rejected",
        _redemption,
        lambda o, a, c: a(o.wealth_lead).post(f"/redemptions/{c}/reject", {"reason": "Busy week"}),
        "redemption",
        "wealth_lead",
    ),
    (
        "budget.set",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).put(f"/teams/{o.wealth.id}/budget", {"monthly_points": 800}),
        "team",
        "admin",
    ),
    (
        "honor.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/honors", {"user_id": o.alice.id, "title": "Best", "period_key": "2026-10"}),
        "honor",
        "admin",
    ),
    ("period.closed", lambda o, a: None, lambda o, a, c: _close_period(o), "period", "admin"),
    (
        "user.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/users", {"email": "new@example.com", "name": "New", "role": "employee"}),
        "user",
        "admin",
    ),
    (
        "team.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/teams", {"name": "Card Team", "parent_id": o.branch.id}),
        "team",
        "admin",
    ),
    (
        "reward.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/rewards", {"name": "Remote day", "kind": "remote_day", "cost": 300}),
        "reward",
        "admin",
    ),
    (
        "reward.updated",
        lambda o, a: a(o.admin).post("/rewards", {"name": "Mug", "kind": "other", "cost": 50}).json["id"],
        lambda o, a, c: _patch(a(o.admin), f"/rewards/{c}", {"stock": 5}),
        "reward",
        "admin",
    ),
    (
        "badge.created",
        lambda o, a: None,
        lambda o, a, c: a(o.admin).post("/badges", {"name": "Star", "event_type": "loan_signed", "threshold": 3}),
        "badge",
        "admin",
    ),
    (
        "mentorship.created",
        lambda o, a: None,
        lambda o, a, c: a(o.wealth_lead).post("/mentorships", {"mentor_id": o.alice.id, "mentee_id": o.bob.id}),
        "mentorship",
        "wealth_lead",
    ),
    ("veto.lifted", lambda o, a: _veto(o), lambda o, a, c: _lift(o, c), "veto", "admin"),
]


def _patch(api, path, body):
    return api.client.patch(f"/api/v1{path}", json=body, headers=api._headers(None))


def _veto(org):
    from pointsapp.models import Veto

    veto = Veto(user_id=org.bob.id, period="quarter", period_key=period_key("quarter", NOW), reason="Mis-selling")
    db.session.add(veto)
    db.session.commit()
    return veto.id


def _lift(org, veto_id):
    from pointsapp import vetoes

    vetoes.lift_veto(org.admin, veto_id, "Cleared by compliance")
    db.session.commit()
    return types.SimpleNamespace(status_code=200, json={"id": veto_id})


def _close_period(org):
    from flask import current_app

    result = current_app.test_cli_runner().invoke(args=["close-period", "quarter", _last_quarter()])
    assert result.exit_code == 0, result.output
    return None


@pytest.mark.parametrize(("action", "prepare", "act", "subject_type", "actor"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_each_privileged_action_writes_exactly_one_audit_record(org, api_as, action, prepare, act, subject_type, actor):
    context = prepare(org, api_as)
    before = {r.id for r in records()}
    response = act(org, api_as, context)
    if response is not None:
        assert response.status_code in (200, 201), response.json  # (the veto is lifted on a page; here by its operation)
    new = [r for r in records() if r.id not in before]
    assert [(r.action, r.subject_type) for r in new] == [(action, subject_type)]
    [record] = new
    if action == "period.closed":
        assert record.actor_id is None and record.details["period_key"] == _last_quarter()  # the CLI acts as the system
    else:
        assert record.actor_id == getattr(org, actor).id
        assert record.subject_id == response.json.get("id", org.wealth.id if subject_type == "team" else None)
    assert record.at is not None and isinstance(record.details, dict) and record.details


def test_refused_actions_write_no_audit_record(org, api_as):
    before = len(records())
    assert api_as(org.wealth_lead).post("/awards", {"user_id": org.carol.id, "points": 20, "reason": "x"}).status_code == 403
    assert api_as(org.admin).post("/rules", {"event_type": "", "name": "", "points": 5}).status_code == 422
    assert api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": -5}).status_code == 422
    assert api_as(org.alice).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 5}).status_code == 403
    assert len(records()) == before


def test_an_idempotent_replay_writes_no_second_record(org, api_as):
    lead = api_as(org.wealth_lead)
    headers = {"Idempotency-Key": "award-1"}
    body = {"user_id": org.alice.id, "points": 20, "reason": "Help"}
    assert lead.post("/awards", body, headers=headers).status_code == 201
    assert lead.post("/awards", body, headers=headers).headers.get("Idempotent-Replayed") == "true"
    assert len(records("award.created")) == 1


def test_award_details_say_what_changed(org, api_as):
    entry = api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": 20, "reason": "Help"}).json
    [record] = records("award.created")
    assert record.subject_id == entry["id"]
    assert record.details | {} == record.details and {k: record.details[k] for k in ("user_id", "points", "reason")} == {
        "user_id": org.alice.id,
        "points": 20,
        "reason": "Help",
    }
    assert record.details["budget_team_id"] == org.wealth.id


def test_get_audit_is_for_admins_newest_first_with_filters_and_cursor(org, api_as):
    admin = api_as(org.admin)
    for points in (10, 20, 30):
        api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": points, "reason": "Help"})
    admin.put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 900})
    assert api_as(org.wealth_lead).get("/audit").status_code == 403
    assert api_as().get("/audit").status_code == 401
    everything = admin.get("/audit", query_string={"limit": 200}).json
    ids = [item["id"] for item in everything["items"]]
    assert ids == sorted(ids, reverse=True) and everything["next_cursor"] is None
    assert set(everything["items"][0]) >= {"id", "at", "actor_id", "action", "subject_type", "subject_id", "details"}
    assert everything["items"][0]["action"] == "budget.set"
    assert everything["items"][0]["details"]["monthly_points"] == 900
    awards = admin.get("/audit", query_string={"action": "award.created"}).json["items"]
    assert [i["details"]["points"] for i in awards] == [30, 20, 10]
    by_lead = admin.get("/audit", query_string={"actor_id": org.wealth_lead.id}).json["items"]
    assert {i["action"] for i in by_lead} == {"award.created"} and len(by_lead) == 3
    team = admin.get("/audit", query_string={"subject_type": "team", "subject_id": org.wealth.id}).json["items"]
    assert [i["action"] for i in team] == ["budget.set"]
    assert admin.get("/audit", query_string={"subject_type": "team", "subject_id": org.loans.id}).json["items"] == []
    first = admin.get("/audit", query_string={"action": "award.created", "limit": 2}).json
    assert [i["details"]["points"] for i in first["items"]] == [30, 20] and first["next_cursor"]
    second = admin.get("/audit", query_string={"action": "award.created", "limit": 2, "cursor": first["next_cursor"]}).json
    assert [i["details"]["points"] for i in second["items"]] == [10] and second["next_cursor"] is None


def test_bad_audit_query_arguments_are_422(org, api_as):
    admin = api_as(org.admin)
    for query in ({"limit": 0}, {"limit": 201}, {"cursor": "nonsense"}, {"actor_id": "x"}, {"subject_id": 2**40}):
        response = admin.get("/audit", query_string=query)
        assert response.status_code == 422, (query, response.json)
        assert response.json["error"]["fields"], response.json


def test_hostile_input_to_the_authority_endpoints_is_a_4xx_never_a_500(org, api_as):
    admin = api_as(org.admin)
    queries = [
        {"action": "a\x00b"},
        {"subject_type": "x" * 5000},
        {"actor_id": str(2**70)},
        {"subject_id": "-0"},
        {"limit": "1e3"},
        {"cursor": "\x00"},
        {"cursor": "W10"},
        {"action": ["a", "b"]},
    ]
    for query in queries:
        response = admin.get("/audit", query_string=query)
        assert response.status_code in (200, 422), (query, response.json)
        assert response.json["items"] == [] if response.status_code == 200 else response.json["error"]["fields"], (
            query,
            response.json,
        )
    bodies = [
        [],
        "x",
        {"monthly_points": 2**70},
        {"monthly_points": [1]},
        {"monthly_points": {"a": 1}},
        {"monthly_points": "1\x00"},
        {"monthly_points": -(2**70)},
    ]
    for body in bodies:
        response = admin.put(f"/teams/{org.wealth.id}/budget", body)
        assert response.status_code in (400, 422), (body, response.json)
        assert response.json["error"]["code"] in ("bad_request", "validation_error"), response.json
    assert (
        admin.put(f"/teams/{org.wealth.id}/budget", data="{not json", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert admin.get(f"/teams/{2**40}/budget").status_code == 404
    assert api_as(org.wealth_lead).put(f"/teams/{org.wealth.id}/budget", data=b"x").status_code in (400, 403, 415, 422)
