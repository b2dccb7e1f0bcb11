"""Web forms refuse text no database can store (a NUL), as the API does, and write nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import Badge, Challenge, LedgerEntry, Reward, Rule, Team
from tests import factories
from tests.conftest import csrf_token, login

NOW = dt.datetime.now(dt.timezone.utc)


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _challenge_form(org) -> dict:
    factories.recorded_event(org.bob, "fund.sold", NOW - dt.timedelta(days=30))  # the launcher takes types it has seen
    return factories.challenge_form(org.wealth, title="a\x00b")


@pytest.mark.parametrize(
    "path, model, form",
    [
        ("/challenges/new", Challenge, _challenge_form),
        ("/admin/awards", LedgerEntry, lambda org: {"user_id": str(org.alice.id), "points": "10", "reason": "nul\x00"}),
        ("/admin/teams", Team, lambda org: {"name": "Team\x00"}),
        ("/admin/rules", Rule, lambda org: {"event_type": "nul_rule", "name": "R\x00", "points": "5"}),
        ("/rewards/admin", Reward, lambda org: {"name": "R\x00", "kind": "other", "cost": "10"}),
        ("/admin/badges", Badge, lambda org: {"name": "B\x00", "event_type": "loan_signed", "threshold": "3"}),
    ],
)
def test_a_form_with_a_nul_is_refused_and_writes_nothing(org, client, path, model, form):
    user = org.wealth_lead if path == "/challenges/new" else org.admin
    login(client, user)
    before = _count(model)
    token = csrf_token(client, "/challenges/new" if path == "/challenges/new" else "/wallet")
    response = client.post(path, data=form(org) | {"csrf_token": token})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert _count(model) == before


def test_the_same_challenge_form_without_the_nul_launches(org, client):
    login(client, org.wealth_lead)
    form = _challenge_form(org) | {"title": "ab", "csrf_token": csrf_token(client, "/challenges/new")}
    response = client.post("/challenges/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Challenge.title)) == "ab"
