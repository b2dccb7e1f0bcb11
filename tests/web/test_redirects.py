"""Redirects after a form go to a path on this site only (event reversal, login, logout)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pointsapp import rules
from pointsapp.extensions import db
from pointsapp.models import Event
from tests import factories
from tests.conftest import csrf_token, login

HOSTILE = [
    "https://evil.example/x",
    "//evil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "evil.example",
]


def _event_id(org, api_as) -> int:
    rules.seed_default_rules()
    db.session.commit()
    api_as(org.admin).post(
        "/events",
        {"external_id": "a", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2026-11-02T09:00:00+08:00"},
    )
    return db.session.scalar(sa.select(Event.id).where(Event.external_id == "a"))


@pytest.mark.parametrize("target", HOSTILE)
def test_reversing_an_event_never_redirects_to_another_host(org, client, api_as, target):
    event_id = _event_id(org, api_as)
    login(client, org.admin)
    token = csrf_token(client, "/admin/events")
    response = client.post(
        f"/admin/events/{event_id}/reverse", data={"csrf_token": token, "reason": "Loan cancelled", "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/events"
    db.session.remove()
    assert db.session.get(Event, event_id).reversed_at is not None  # the reversal itself went through


def test_reversing_an_event_returns_to_a_local_next(org, client, api_as):
    event_id = _event_id(org, api_as)
    login(client, org.admin)
    token = csrf_token(client, "/admin/events")
    response = client.post(
        f"/admin/events/{event_id}/reverse",
        data={"csrf_token": token, "reason": "Loan cancelled", "next": f"/admin/events/{event_id}?x=1"},
    )
    assert response.headers["Location"] == f"/admin/events/{event_id}?x=1"


@pytest.mark.parametrize("target", HOSTILE)
def test_login_never_redirects_to_another_host(org, client, target):
    token = csrf_token(client)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/wallet"
