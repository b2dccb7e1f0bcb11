"""Live points: an open wallet asks a cheap endpoint for news and shows new entries with a toast."""

from __future__ import annotations

import re

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Rule
from tests import factories
from tests.conftest import login


def _poll_url(html: str) -> str:
    return re.search(r'id="live" hidden hx-get="([^"]+)"', html)[1].replace("&amp;", "&")


def test_the_live_endpoint_answers_204_until_points_arrive_then_the_new_parts_and_a_toast(client):
    rules.seed_default_rules()
    member = factories.user("employee", password=factories.PASSWORD, locale="zh")
    factories.give_points(member, 100)
    page = login(client, member).get("/wallet").get_data(as_text=True)
    poll = _poll_url(page)
    assert 'hx-trigger="every 5s"' in page
    quiet = client.get(poll)
    assert quiet.status_code == 204 and quiet.get_data() == b""
    rule = db.session.scalar(db.select(Rule).where(Rule.event_type == "loan_signed"))
    ledger.post(member.id, 30, kind="event_award", reason=rule.name, rule_id=rule.id)
    db.session.commit()
    news = client.get(poll)
    html = news.get_data(as_text=True)
    assert news.status_code == 200
    assert '<p class="toast plus">+30 贷款签约</p>' in html
    assert 'id="balance"' in html and 'hx-swap-oob="true"' in html and ">130<" in html
    assert 'hx-swap-oob="afterbegin:#entries"' in html and "贷款签约" in html
    next_poll = _poll_url(html)
    assert next_poll != poll and client.get(next_poll).status_code == 204


def test_a_hold_changes_the_live_state_without_a_toast(client):
    member = factories.user("employee", password=factories.PASSWORD)
    factories.give_points(member, 100)
    poll = _poll_url(login(client, member).get("/wallet").get_data(as_text=True))
    ledger.place_hold(member.id, 40, reason="Reward requested")
    db.session.commit()
    html = client.get(poll).get_data(as_text=True)
    assert "toast" not in html.replace('id="toasts"', "") and ">60<" in html  # available went down
    ledger.release_hold(db.session.scalar(db.select(ledger.Hold.id)))
    db.session.commit()


def test_the_live_endpoint_needs_a_login(client):
    response = client.get("/wallet/live?after=0&held=0")
    assert response.status_code in (302, 401)
