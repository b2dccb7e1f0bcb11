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


def _entry_at(user, reason: str, created: str, effective: str) -> None:
    """An entry posted at ``created`` that counts for ``effective`` (both UTC)."""
    import datetime as dt

    import sqlalchemy as sa

    from pointsapp.models import LedgerEntry

    factories.give_points(user, 10, reason=reason, effective_at=dt.datetime.fromisoformat(effective))
    db.session.execute(
        sa.update(LedgerEntry).where(LedgerEntry.reason == reason).values(created_at=dt.datetime.fromisoformat(created))
    )
    db.session.commit()


def test_counts_for_compares_the_organisations_calendar_days_not_utc(org, client):
    # Posted 04:00 on 25 Nov in Shanghai for 10:00 the same day: UTC sees two days, nobody else does.
    _entry_at(org.alice, "Same local day", "2026-11-24T20:00:00+00:00", "2026-11-25T02:00:00+00:00")
    # Posted 23:00 on 25 Nov in Shanghai for 01:00 on the 26th: one UTC day, two local ones.
    _entry_at(org.alice, "Next local day", "2026-11-25T15:00:00+00:00", "2026-11-25T17:00:00+00:00")
    html = login(client, org.alice).get("/wallet").get_data(as_text=True)
    items = {reason: html.split(reason, 1)[1].split("</li>", 1)[0] for reason in ("Same local day", "Next local day")}
    assert "counts for" not in items["Same local day"]
    assert "counts for Nov 26, 2026" in items["Next local day"]
    assert client.get("/wallet").get_data(as_text=True) == html  # the cached page says the same
