"""The wallet page: balance, entries, load-more, language."""

from __future__ import annotations

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import User
from tests import factories
from tests.conftest import csrf_token, login


def test_a_new_advisor_sees_the_empty_state(org, client):
    html = login(client, org.alice).get("/wallet").get_data(as_text=True)
    assert "No points yet." in html


def test_the_wallet_shows_balance_held_and_entries_with_reasons(org, client):
    factories.give_points(org.alice, 130, reason="Quality loan signed", actor_id=org.wealth_lead.id)
    ledger.place_hold(org.alice.id, 30, reason="Remote day")
    db.session.commit()
    html = login(client, org.alice).get("/wallet").get_data(as_text=True)
    assert '<p class="big ">100</p>' in html  # available
    assert "<dt>Held</dt><dd>30</dd>" in html
    assert "Quality loan signed" in html and "+130" in html and "by Wealth Lead" in html


def test_load_more_returns_the_next_entries_as_a_fragment(org, client):
    for n in range(25):
        factories.give_points(org.alice, n + 1, reason=f"Revisit {n + 1}")
    login(client, org.alice)
    page = client.get("/wallet").get_data(as_text=True)
    assert "Revisit 25" in page and "Revisit 5" not in page and "Load more" in page
    import re

    cursor = re.search(r'/wallet/entries\?cursor=([^"&]+)"', page).group(1)
    fragment = client.get(f"/wallet/entries?cursor={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Revisit 5" in fragment and "Revisit 1<" in fragment and "Load more" not in fragment


def test_the_wallet_is_in_chinese_for_a_chinese_browser(org, client):
    login(client, org.alice)
    html = client.get("/wallet", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "可用积分" in html and 'lang="zh-Hans"' in html


def test_the_users_own_language_setting_wins_over_the_browser(org, client):
    login(client, org.alice)
    client.post("/language", data={"locale": "zh", "csrf_token": csrf_token(client, "/wallet")})
    assert db.session.get(User, org.alice.id).locale == "zh"
    html = client.get("/wallet", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "可用积分" in html
