"""A challenge window is a sprint: times carry an offset, start within a year of now, last at most a year."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp import challenges
from pointsapp.extensions import db
from pointsapp.models import Challenge
from tests import factories
from tests.conftest import csrf_token, login

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(microsecond=0)


def _body(org, **changes):
    return {
        "team_id": org.wealth.id,
        "title": "Sprint",
        "event_type": "loan_signed",
        "target": 5,
        "pool": 100,
        "starts_at": (NOW - dt.timedelta(days=1)).isoformat(),
        "ends_at": (NOW + dt.timedelta(days=13)).isoformat(),
    } | changes


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Challenge))


@pytest.mark.parametrize(
    "field, moment",
    [
        ("ends_at", "9999-12-31T23:59:59+00:00"),
        ("starts_at", "0001-01-01T00:00:00+00:00"),
        ("starts_at", (NOW - dt.timedelta(days=400)).isoformat()),
        ("starts_at", (NOW + dt.timedelta(days=400)).isoformat()),
        ("ends_at", (NOW + dt.timedelta(days=400)).isoformat()),
        ("starts_at", (NOW - dt.timedelta(days=1)).replace(tzinfo=None).isoformat()),
        ("ends_at", (NOW + dt.timedelta(days=3)).replace(tzinfo=None).isoformat()),
    ],
)
def test_an_unreasonable_or_naive_window_is_a_422_and_launches_nothing(org, api_as, field, moment):
    response = api_as(org.wealth_lead).post("/challenges", _body(org, **{field: moment}))
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    error = response.get_json()["error"]
    assert error["code"] and error["message"] and field in error["fields"]
    assert _count() == 0


def test_a_window_at_the_limits_is_accepted(org, api_as):
    starts = NOW - challenges.MAX_START_AGO + dt.timedelta(hours=1)
    body = _body(org, starts_at=starts.isoformat(), ends_at=(starts + challenges.MAX_LENGTH).isoformat())
    response = api_as(org.wealth_lead).post("/challenges", body)
    assert response.status_code == 201, response.get_data(as_text=True)[:500]


def test_an_event_type_with_a_trailing_newline_is_refused_as_events_refuse_it(org, api_as):
    response = api_as(org.wealth_lead).post("/challenges", _body(org, event_type="loan_signed\n"))
    assert response.status_code == 422
    assert "event_type" in response.get_json()["error"]["fields"]
    assert _count() == 0


def test_a_challenge_ending_at_the_calendars_edge_still_shows(org, client):
    """Rows stored before the window was bounded still render: the date filter never raises."""
    db.session.add(
        Challenge(
            team_id=org.wealth.id,
            title="Forever",
            event_type="loan_signed",
            target=5,
            pool=100,
            starts_at=NOW - dt.timedelta(days=1),
            ends_at=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
            status="active",
            progress=0,
            created_by_id=org.admin.id,
        )
    )
    db.session.commit()
    challenge_id = db.session.scalar(sa.select(Challenge.id))
    login(client, org.alice)
    page = client.get(f"/challenges/{challenge_id}")
    assert page.status_code == 200 and "9999" in page.get_data(as_text=True)
    assert client.get("/challenges").status_code == 200


@pytest.mark.parametrize(
    "field, value", [("starts_at", "0001-01-01T00:00"), ("ends_at", "9999-12-31T23:59"), ("starts_at", "2000-01-01T09:00")]
)
def test_the_web_launcher_refuses_an_unreasonable_window(org, client, field, value):
    factories.recorded_event(org.bob, "fund.sold", NOW - dt.timedelta(days=30))  # the launcher takes types it has seen
    login(client, org.wealth_lead)
    good = factories.challenge_form(org.wealth, csrf_token=csrf_token(client, "/challenges/new"))
    response = client.post("/challenges/new", data=good | {field: value})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert _count() == 0
    assert client.post("/challenges/new", data=good).status_code == 302  # the window was what was refused


@pytest.mark.parametrize("team_id", ["x", "", "0"])
def test_the_web_launcher_says_the_team_choice_is_invalid(org, client, team_id):
    login(client, org.wealth_lead)
    form = factories.challenge_form(org.wealth, team_id=team_id, csrf_token=csrf_token(client, "/challenges/new"))
    response = client.post("/challenges/new", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Choose a team from the list." in html and "team 0" not in html
    assert _count() == 0
