"""Hostile input answers 4xx with the error envelope, never 5xx, and changes nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import Challenge, Event, LedgerEntry, Team, User
from tests import factories

BIG = [2**31, 10**20]
NOW = "2026-11-02T09:00:00+08:00"


def _envelope(response, status):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("big", BIG)
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/users/{}"),
        ("get", "/users/{}/wallet"),
        ("get", "/users/{}/badges"),
        ("get", "/challenges/{}"),
        ("post", "/challenges/{}/close"),
        ("post", "/events/{}/reverse"),
        ("put", "/users/{}/goal"),
        ("get", "/analytics/teams/{}/summary"),
    ],
)
def test_an_id_beyond_any_integer_column_in_the_url_is_a_404(org, api_as, method, path, big):
    body = {"reason": "typo", "weekly_points": 10} if method != "get" else None
    response = getattr(api_as(org.admin), method)(path.format(big), **({"json": body} if body else {}))
    _envelope(response, 404)


@pytest.mark.parametrize("big", [*BIG, -(2**31) - 1])
@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/teams", {"name": "New"}, "parent_id"),
        ("/users", {"email": "new@example.com", "name": "New", "role": "employee"}, "team_id"),
        ("/awards", {"points": 5, "reason": "Thanks"}, "user_id"),
        ("/mentorships", {"mentee_id": 0}, "mentor_id"),
        ("/honors", {"title": "Best", "period_key": "2026-11"}, "user_id"),
        (
            "/challenges",
            {
                "title": "T",
                "event_type": "loan_signed",
                "target": 5,
                "pool": 100,
                "starts_at": NOW,
                "ends_at": "2026-12-02T09:00:00+08:00",
            },
            "team_id",
        ),
    ],
)
def test_an_id_beyond_any_integer_column_in_a_body_is_a_422(org, api_as, path, body, field, big):
    if path == "/mentorships":
        body = {"mentee_id": org.bob.id}
    before = (_count(Team), _count(User), _count(LedgerEntry))
    error = _envelope(api_as(org.admin).post(path, {**body, field: big}), 422)
    assert field in error["fields"]
    assert (_count(Team), _count(User), _count(LedgerEntry)) == before


@pytest.mark.parametrize("field", ["user_id", "participants"])
@pytest.mark.parametrize("big", BIG)
def test_an_event_for_a_user_id_beyond_any_integer_column_is_invalid_not_a_crash(org, api_as, field, big):
    event = {"external_id": "e1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW}
    event[field] = [big] if field == "participants" else big
    admin = api_as(org.admin)
    error = _envelope(admin.post("/events", event), 422)
    assert field in error["fields"]
    batch = admin.post("/events", {"events": [event]})
    assert batch.status_code == 200
    assert batch.json["items"][0]["status"] == "invalid"
    assert _count(Event) == 0


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/challenges", {"target": 2**31}, "target"),
        ("/challenges", {"pool": 10**20}, "pool"),
        ("/badges", {"threshold": 2**31}, "threshold"),
    ],
)
def test_counts_and_pools_beyond_an_integer_column_are_a_422(org, api_as, path, body, field):
    base = {
        "/challenges": {
            "team_id": org.wealth.id,
            "title": "T",
            "event_type": "loan_signed",
            "target": 5,
            "pool": 100,
            "starts_at": NOW,
            "ends_at": "2026-12-02T09:00:00+08:00",
        },
        "/badges": {"name": "Closer", "event_type": "loan_signed", "threshold": 3},
    }[path]
    error = _envelope(api_as(org.admin).post(path, {**base, **body}), 422)
    assert field in error["fields"]


@pytest.mark.parametrize("value", [1.5, 2.0, True])
@pytest.mark.parametrize("field", ["user_id", "quantity"])
def test_an_event_with_a_float_or_boolean_for_an_integer_is_refused(org, api_as, field, value):
    event = {"external_id": "e1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW, field: value}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert field in error["fields"]
    assert _count(Event) == 0


def test_an_event_time_without_an_offset_is_a_422(org, api_as):
    event = {"external_id": "naive", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2026-11-02T09:00:00"}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert "occurred_at" in error["fields"]
    assert _count(Event) == 0 and _count(LedgerEntry) == 0


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+00:00",
        "0999-06-01T00:00:00+00:00",
        "1000-01-01T00:00:00+00:00",
        "1970-01-01T00:00:00Z",
        "1999-12-31T23:59:59+00:00",
        "2000-01-01T07:59:59+08:00",
    ],
)
def test_an_event_before_2000_is_a_422_and_pays_nothing(org, api_as, moment):
    event = {"external_id": "old", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": moment}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert "occurred_at" in error["fields"]
    assert _count(Event) == 0 and _count(LedgerEntry) == 0


def test_an_event_on_the_first_moment_of_2000_is_accepted(org, api_as):
    event = {"external_id": "y2k", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2000-01-01T00:00:00Z"}
    assert api_as(org.admin).post("/events", event).status_code == 201
    assert _count(Event) == 1


@pytest.mark.parametrize("moment", ["0999-06-01T00:00:00+00:00", "0001-01-01T00:00:00+00:00", "2026-11-02T09:00:00"])
def test_an_ancient_or_naive_item_in_a_batch_is_invalid_alone(org, api_as, moment):
    good = {"external_id": "good", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW}
    bad = {"external_id": "bad", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": moment}
    response = api_as(org.admin).post("/events", {"events": [good, bad]})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    items = response.get_json()["items"]
    assert [i["status"] for i in items] == ["created", "invalid"]
    assert "occurred_at" in items[1]["error"]["fields"]
    assert db.session.scalars(sa.select(Event.external_id)).all() == ["good"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00"])
def test_an_event_time_before_utc_begins_is_a_422(org, api_as, moment):
    event = {"external_id": "e1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": moment}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert "occurred_at" in error["fields"]
    assert _count(Event) == 0


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_challenge_time_outside_utc_is_a_422(org, api_as, field, moment):
    body = {
        "team_id": org.wealth.id,
        "title": "T",
        "event_type": "loan_signed",
        "target": 5,
        "pool": 100,
        "starts_at": NOW,
        "ends_at": "2026-12-02T09:00:00+08:00",
        field: moment,
    }
    error = _envelope(api_as(org.admin).post("/challenges", body), 422)
    assert field in error["fields"]
    assert _count(Challenge) == 0


@pytest.mark.parametrize("path", ["/auth/token", "/rules", "/awards", "/rewards", "/redemptions", "/push/subscriptions"])
def test_json_nested_too_deeply_is_a_400(org, api_as, path):
    caller = api_as(org.admin)
    response = caller.client.post(
        f"/api/v1{path}",
        data="[" * 100_000,
        headers={**caller._headers(None), "Content-Type": "application/json"},
    )
    _envelope(response, 400)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/teams", {"name": "A\x00B"}, "name"),
        ("/awards", {"points": 5, "reason": "nul\x00"}, "reason"),
        ("/rules", {"event_type": "x_y", "name": "\x00", "points": 5}, "name"),
        ("/events", {"external_id": "\x00", "type": "loan_signed", "occurred_at": NOW}, "external_id"),
        ("/badges", {"name": "B", "description": "\x00", "event_type": "loan_signed", "threshold": 3}, "description"),
    ],
)
def test_a_nul_character_in_a_string_is_a_422(org, api_as, path, body, field):
    if path in ("/awards", "/events"):
        body = {**body, "user_id": org.alice.id}
    error = _envelope(api_as(org.admin).post(path, body), 422)
    assert field in error["fields"]


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/me/ledger", "/me/redemptions"])
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("2026-01-01T00:00:00+00:00", 10**20),
        _cursor("2026-01-01T00:00:00", 1),
        _cursor("0001-01-01T00:00:00+14:00", 1),
        _cursor(5, 1),
    ],
)
def test_a_cursor_this_server_never_gave_out_is_a_422(org, api_as, path, cursor):
    factories.give_points(org.alice, 10)
    error = _envelope(api_as(org.alice).get(f"{path}?cursor={cursor}"), 422)
    assert "cursor" in error["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "period=year&period_key=0001",
        "period=week&period_key=9999-W52",
        "period=month&period_key=2026-13",
        "team_id=2147483648",
        "team_id=100000000000000000000",
    ],
)
def test_leaderboard_keys_at_the_calendar_edges_and_huge_team_ids_are_4xx(org, api_as, query):
    response = api_as(org.alice).get(f"/leaderboard?{query}")
    assert 400 <= response.status_code < 500
    _envelope(response, response.status_code)


def test_an_event_with_an_offset_still_earns(org, api_as):
    admin = api_as(org.admin)
    admin.post("/rules", {"event_type": "loan_signed", "name": "Loan signed", "points": 10})
    at = dt.datetime.now(dt.timezone.utc).isoformat()
    response = admin.post("/events", {"external_id": "ok", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": at})
    assert response.status_code == 201, response.json
    assert [(a["user_id"], a["points"]) for a in response.json["items"][0]["awards"]] == [(org.alice.id, 10)]


def test_the_openapi_document_gives_every_bound_as_a_number(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    bad = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems") and (
                    isinstance(value, bool) or not isinstance(value, (int, float))
                ):
                    bad.append(f"{path}.{key}={value!r}")
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)

    walk(response.get_json(), "")
    assert not bad


@pytest.mark.parametrize("field", ["available_from", "available_until"])
def test_a_reward_availability_time_without_an_offset_is_a_422(org, api_as, field):
    from pointsapp.models import Reward

    body = {"name": "Day off", "kind": "leave_day", "cost": 100, field: "2026-12-01T09:00:00"}
    error = _envelope(api_as(org.admin).post("/rewards", body), 422)
    assert field in error["fields"]
    assert _count(Reward) == 0


@pytest.mark.parametrize("external_id", ["rv-nl\n", " crm-1", "   "])
def test_an_external_id_with_whitespace_at_an_end_is_a_422_not_stored_stripped(org, api_as, external_id):
    event = {"external_id": external_id, "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert "external_id" in error["fields"]
    assert _count(Event) == 0


def test_a_bad_participant_is_named_in_a_readable_sentence(org, api_as):
    event = {"external_id": "p1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW, "participants": ["x"]}
    error = _envelope(api_as(org.admin).post("/events", event), 422)
    assert error["fields"]["participants"] == ["[0]: Not a valid integer."] and "{" not in error["message"]
    batch = api_as(org.admin).post("/events", {"events": [event]}).get_json()["items"][0]["error"]
    assert batch["fields"]["participants"] == ["[0]: Not a valid integer."] and "{" not in batch["message"]
    assert _count(Event) == 0


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("0001-01", "validation_error"),
        ("0999-06", "validation_error"),
        ("9999-12", "period_not_ended"),
        ("9999", "period_not_ended"),
    ],
)
def test_an_honour_for_a_period_at_the_calendars_edge_is_refused(org, api_as, key, code):
    from pointsapp.models import Honor

    error = _envelope(api_as(org.admin).post("/honors", {"user_id": org.alice.id, "title": "Best", "period_key": key}), 422)
    assert error["code"] == code and "period_key" in error["fields"]
    assert _count(Honor) == 0


def test_leave_asked_for_more_than_a_year_ahead_is_refused_and_holds_nothing(org, api_as):
    from pointsapp.models import Redemption, Reward

    factories.give_points(org.alice, 1000)
    reward = Reward(name="Leave", kind="leave_day", cost=10, description="")
    db.session.add(reward)
    db.session.commit()
    body = {"reward_id": reward.id, "starts_on": "9999-12-31", "ends_on": "9999-12-31"}
    error = _envelope(api_as(org.alice).post("/redemptions", body), 422)
    assert "starts_on" in error["fields"]
    assert _count(Redemption) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1  # the points given, nothing held


@pytest.mark.parametrize("day", ["0001-01-01", "1900-06-01", "9999-12-31"])
def test_an_implausible_hire_date_is_a_422(org, api_as, day):
    body = {"email": "new.hire@demo.bank", "name": "New", "role": "employee", "team_id": org.wealth.id, "hired_on": day}
    error = _envelope(api_as(org.admin).post("/users", body), 422)
    assert "hired_on" in error["fields"]
    assert db.session.scalar(sa.select(User.id).where(User.email == "new.hire@demo.bank")) is None


def test_a_goal_is_computed_for_someone_hired_at_the_calendars_edge():
    from pointsapp.goals import staged_target

    today = dt.date(2026, 11, 29)
    assert staged_target(90, dt.date(9999, 12, 31), today) == 30  # not started: month one, no overflow
    assert staged_target(90, dt.date(2026, 11, 1), today) == 30
    assert staged_target(90, dt.date(2026, 10, 1), today) == 60
    assert staged_target(90, dt.date(2026, 9, 1), today) == 90
