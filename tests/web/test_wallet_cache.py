"""The wallet page's cached content: reused while nothing it shows has changed, never stale for my own data."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from pointsapp import goals, ledger, page_cache, vetoes
from pointsapp.extensions import db
from pointsapp.models import Veto, Wallet
from pointsapp.periods import utcnow
from pointsapp.web import wallet as wallet_page
from tests import factories
from tests.conftest import login, make_test_app


def _version(user) -> int:
    return db.session.scalar(sa.select(Wallet.version).where(Wallet.user_id == user.id))


@pytest.fixture()
def renders(monkeypatch):
    """How many times the wallet's content was built afresh (not taken from the cache)."""
    calls = []
    original = wallet_page.page_parts

    def counting(user):
        calls.append(user.id)
        return original(user)

    monkeypatch.setattr(wallet_page, "page_parts", counting)
    return calls


def test_the_ledger_raises_the_wallet_version_with_every_entry_and_hold(org):
    start = _version(org.alice)
    ledger.post(org.alice.id, 100, kind="manual_award", reason="Opening balance")
    assert _version(org.alice) == start + 1
    ledger.post_many(
        [ledger.Posting(org.alice.id, 5, "manual_award", "One"), ledger.Posting(org.bob.id, 7, "manual_award", "Two")]
    )
    assert _version(org.alice) == start + 2 and _version(org.bob) == 1
    hold = ledger.place_hold(org.alice.id, 30, reason="Remote day")
    assert _version(org.alice) == start + 3
    ledger.release_hold(hold.id)
    assert _version(org.alice) == start + 4
    hold = ledger.place_hold(org.alice.id, 20, reason="Book")
    ledger.capture_hold(hold.id, actor_id=None, reason="Redeemed: Book")
    assert _version(org.alice) == start + 7  # placed, closed, then the redemption entry
    db.session.commit()


def test_a_second_view_reuses_the_content_and_a_new_entry_shows_at_once(org, client, renders):
    factories.give_points(org.alice, 130, reason="Quality loan signed")
    login(client, org.alice)
    first = client.get("/wallet").get_data(as_text=True)
    second = client.get("/wallet").get_data(as_text=True)
    assert len(renders) == 1 and "Quality loan signed" in second and '<p class="big ">130</p>' in second
    assert first.split("<main", 1)[1] == second.split("<main", 1)[1]

    factories.give_points(org.alice, 20, reason="Client revisit")
    third = client.get("/wallet").get_data(as_text=True)
    assert len(renders) == 2 and "Client revisit" in third and '<p class="big ">150</p>' in third

    hold = ledger.place_hold(org.alice.id, 50, reason="Remote day")
    db.session.commit()
    held = client.get("/wallet").get_data(as_text=True)
    assert "<dt>Held</dt><dd>50</dd>" in held and '<p class="big ">100</p>' in held
    ledger.release_hold(hold.id)
    db.session.commit()
    assert '<p class="big ">150</p>' in client.get("/wallet").get_data(as_text=True)


def test_a_change_shows_at_once_in_every_worker(org, app):
    """Two apps stand for two workers (or hosts), each with its own cache: the version in the database keys both."""
    other = make_test_app()
    factories.give_points(org.alice, 40, reason="Opening balance")
    clients = [login(app.test_client(), org.alice), login(other.test_client(), org.alice)]
    for client in clients:
        assert '<p class="big ">40</p>' in client.get("/wallet").get_data(as_text=True)
    with other.app_context():  # the change is made through the other worker
        ledger.post(org.alice.id, 25, kind="manual_award", reason="New client")
        db.session.commit()
    for client in clients:
        html = client.get("/wallet").get_data(as_text=True)
        assert '<p class="big ">65</p>' in html and "New client" in html


def test_a_goal_set_by_the_lead_and_a_veto_show_at_once(org, client):
    login(client, org.alice)
    assert "/ 100 points" in client.get("/wallet").get_data(as_text=True)  # the default employee goal
    goals.set_goal(org.wealth_lead, org.alice.id, 250)
    db.session.commit()
    assert "/ 250 points" in client.get("/wallet").get_data(as_text=True)

    veto = Veto(user_id=org.alice.id, period="quarter", period_key="2026-Q4", reason="Mis-selling", created_at=utcnow())
    db.session.add(veto)
    db.session.commit()
    assert "Reason: Mis-selling" in client.get("/wallet").get_data(as_text=True)
    vetoes.lift_veto(org.admin, veto.id, "Cleared on review")
    db.session.commit()
    assert "Reason: Mis-selling" not in client.get("/wallet").get_data(as_text=True)


def test_the_language_and_the_unread_count_are_never_taken_from_another_view(org, client):
    factories.give_points(org.alice, 10)
    login(client, org.alice)
    assert "Available" in client.get("/wallet", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "可用积分" in client.get("/wallet", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Available" in client.get("/wallet", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_other_peoples_points_reach_my_rank_within_the_configured_time(org, client, monkeypatch):
    factories.give_points(org.alice, 50)
    factories.give_points(org.bob, 40)
    login(client, org.alice)
    assert "You are in first place." in client.get("/wallet").get_data(as_text=True)
    factories.give_points(org.bob, 30)  # Bob overtakes Alice: not her ledger, so her page may stay as it was for a while
    now = page_cache.time.monotonic()
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: now + app_seconds(client))
    html = client.get("/wallet").get_data(as_text=True)
    assert "You are in first place." not in html and "#2" in html


def app_seconds(client) -> float:
    return client.application.config["WALLET_PAGE_SECONDS"]


def test_the_timed_cache_forgets_the_least_recently_used_and_the_expired(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock[0])
    cache = page_cache.TimedCache(size=2, seconds=30)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    clock[0] += 30
    assert cache.get("a") is None and cache.get("c") is None
    off = page_cache.TimedCache(size=10, seconds=0)
    off.put("a", 1)
    assert off.get("a") is None


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_a_kept_page_carries_a_csrf_token_of_its_own_session(org, app):
    factories.give_points(org.alice, 10)
    first, second = login(app.test_client(), org.alice), login(app.test_client(), org.alice)
    for _ in range(2):
        mine, theirs = first.get("/wallet").get_data(as_text=True), second.get("/wallet").get_data(as_text=True)
    assert _csrf(mine) != _csrf(theirs)
    for client, html in ((first, mine), (second, theirs)):
        answer = client.post("/language", data={"locale": "zh", "next": "/wallet", "csrf_token": _csrf(html)})
        assert answer.status_code == 302
    assert second.post("/language", data={"locale": "en", "csrf_token": _csrf(mine)}).status_code == 400


def test_a_waiting_message_shows_on_a_kept_page_once(org, client):
    login(client, org.alice)
    client.get("/wallet")
    client.get("/wallet")
    with client.session_transaction() as kept:
        kept["_flashes"] = [("success", "Your redemption was sent.")]
    assert "Your redemption was sent." in client.get("/wallet").get_data(as_text=True)
    assert "Your redemption was sent." not in client.get("/wallet").get_data(as_text=True)


def test_a_request_waiting_for_my_decision_and_my_own_request_show_at_once(org, app):
    from pointsapp import rewards
    from tests.web.test_rewards import make_reward

    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    lead, alice = login(app.test_client(), org.wealth_lead), login(app.test_client(), org.alice)
    for client in (lead, alice, lead, alice):
        assert "waiting for approval" not in client.get("/wallet").get_data(as_text=True)
    assert "waits for your decision" not in lead.get("/wallet").get_data(as_text=True)
    rewards.redeem(org.alice, reward.id)  # a change to Alice's wallet, none to the lead's
    db.session.commit()
    assert "1 reward request waits for your decision" in lead.get("/wallet").get_data(as_text=True)
    assert "1 of your redemptions is waiting for approval" in alice.get("/wallet").get_data(as_text=True)
