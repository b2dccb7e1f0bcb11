"""Weekly goals: role defaults, lead-set targets, new-hire staging, the wallet ring."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp import goals
from pointsapp.extensions import db
from pointsapp.models import Goal
from pointsapp.periods import local, utcnow
from tests import factories
from tests.conftest import csrf_token, login

TODAY = local(utcnow()).date()


def test_my_goal_defaults_to_my_roles_target_and_counts_this_week(org, api_as):
    factories.give_points(org.alice, 30)
    factories.give_points(org.alice, 500, effective_at=utcnow() - dt.timedelta(days=30))  # an earlier week
    assert api_as(org.alice).get("/me/goal").json == {"weekly_points": 100, "earned": 30, "remaining": 70}
    assert api_as(org.wealth_lead).get("/me/goal").json == {"weekly_points": 60, "earned": 0, "remaining": 60}


def test_remaining_never_goes_below_zero(org, api_as):
    factories.give_points(org.alice, 130)
    assert api_as(org.alice).get("/me/goal").json == {"weekly_points": 100, "earned": 130, "remaining": 0}


def test_a_lead_sets_a_members_weekly_goal(org, api_as):
    response = api_as(org.wealth_lead).put(f"/users/{org.alice.id}/goal", {"weekly_points": 150})
    assert response.status_code == 200, response.json
    assert response.json["weekly_points"] == 150 and response.json["user_id"] == org.alice.id
    assert response.json["set_by_id"] == org.wealth_lead.id
    assert api_as(org.alice).get("/me/goal").json == {"weekly_points": 150, "earned": 0, "remaining": 150}
    assert api_as(org.admin).put(f"/users/{org.alice.id}/goal", {"weekly_points": 90}).status_code == 200
    assert db.session.get(Goal, org.alice.id, populate_existing=True).weekly_points == 90


def test_only_the_members_lead_or_an_admin_sets_a_goal(org, api_as):
    assert api_as(org.loans_lead).put(f"/users/{org.alice.id}/goal", {"weekly_points": 10}).status_code == 403
    assert api_as(org.alice).put(f"/users/{org.alice.id}/goal", {"weekly_points": 10}).status_code == 403
    assert api_as(org.wealth_lead).put(f"/users/{org.wealth_lead.id}/goal", {"weekly_points": 1}).status_code == 403
    bad = api_as(org.wealth_lead).put(f"/users/{org.alice.id}/goal", {"weekly_points": -1})
    assert bad.status_code == 422 and "weekly_points" in bad.json["error"]["fields"]
    assert api_as(org.wealth_lead).put(f"/users/{org.alice.id}/goal", {"weekly_points": "many"}).status_code == 422
    assert api_as(org.admin).put("/users/99999/goal", {"weekly_points": 10}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Goal)) == 0


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [(0, 33), (20, 33), (45, 67), (75, 100), (400, 100)],
)
def test_new_hires_are_staged_by_month(org, api_as, days_ago, expected):
    hire = factories.user("employee", org.wealth, hired_on=TODAY - dt.timedelta(days=days_ago))
    assert api_as(hire).get("/me/goal").json["weekly_points"] == expected


def test_staging_follows_calendar_months_and_rounds_to_the_nearest_point():
    hired = dt.date(2026, 1, 31)
    assert goals.staged_target(100, hired, dt.date(2026, 2, 27)) == 33
    assert goals.staged_target(100, hired, dt.date(2026, 2, 28)) == 67  # 31 Jan + 1 month → 28 Feb
    assert goals.staged_target(100, hired, dt.date(2026, 3, 30)) == 67
    assert goals.staged_target(100, hired, dt.date(2026, 3, 31)) == 100
    assert goals.staged_target(101, hired, dt.date(2026, 2, 1)) == 34
    assert goals.staged_target(100, None, dt.date(2026, 2, 1)) == 100


def test_a_lead_set_goal_is_staged_for_a_new_hire_too(org, api_as):
    hire = factories.user("employee", org.wealth, hired_on=TODAY - dt.timedelta(days=3))
    api_as(org.wealth_lead).put(f"/users/{hire.id}/goal", {"weekly_points": 90})
    assert api_as(hire).get("/me/goal").json == {"weekly_points": 30, "earned": 0, "remaining": 30}


def test_the_wallet_shows_the_goal_ring_level_and_rank(org, client):
    factories.give_points(org.bob, 300)
    factories.give_points(org.carol, 250)
    factories.give_points(org.wealth_lead, 200)
    factories.give_points(org.alice, 45)
    login(client, org.alice)
    html = client.get("/wallet").get_data(as_text=True)
    assert "55 points to go this week" in html
    assert 'class="ring"' in html and "--pct: 45" in html
    assert "Bronze" in html and "455 points to Silver" in html
    assert "155 points to the top 3" in html


def test_the_goals_page_lets_a_lead_set_goals(org, client):
    login(client, org.wealth_lead)
    html = client.get("/goals").get_data(as_text=True)
    assert "Alice" in html and "Bob" in html and "Carol" not in html
    token = csrf_token(client, "/goals")
    saved = client.post("/goals", data={"csrf_token": token, "user_id": org.bob.id, "weekly_points": "120"})
    assert saved.status_code == 302
    assert db.session.get(Goal, org.bob.id).weekly_points == 120
    refused = client.post("/goals", data={"csrf_token": token, "user_id": org.carol.id, "weekly_points": "120"})
    assert refused.status_code == 422 and db.session.get(Goal, org.carol.id) is None
    alice = client.application.test_client()
    login(alice, org.alice)
    assert alice.get("/goals").status_code == 403
