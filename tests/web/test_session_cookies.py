"""Session cookies: a cookie read again is not verified again, yet a forged, expired or retired one is still refused."""

from __future__ import annotations

import datetime as dt
import time

from flask import request

from tests.conftest import login


def _signed_in(client) -> bool:
    response = client.get("/wallet")
    return response.status_code == 200


def _remembered_cookies(app) -> list[str]:
    """The cookie texts the app's session interface remembers as verified."""
    verified = app.session_interface._for_keys(app)[1]
    return list(verified._items)


def test_the_same_cookie_read_again_keeps_the_session(org, client):
    login(client, org.alice)
    assert [_signed_in(client) for _ in range(3)] == [True, True, True]


def test_a_forged_cookie_is_refused_after_the_genuine_one_was_read(org, app, client):
    login(client, org.alice)
    assert _signed_in(client)
    genuine = client.get_cookie("session").value
    forged = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")  # the signature's last characters changed
    client.set_cookie("session", forged)
    assert not _signed_in(client)
    client.set_cookie("session", genuine)
    assert _signed_in(client)


def test_a_cookie_older_than_the_sessions_lifetime_is_refused_though_it_was_read_before(org, app, client, monkeypatch):
    app.permanent_session_lifetime = dt.timedelta(minutes=30)
    login(client, org.alice)
    assert _signed_in(client)  # the first page adds its CSRF secret: a new cookie
    cookie = client.get_cookie("session").value
    assert _signed_in(client)  # that cookie read, verified and remembered
    assert client.get_cookie("session").value == cookie
    assert any(value == cookie for value in _remembered_cookies(app))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31 * 60)
    assert client.get_cookie("session").value == cookie
    assert not _signed_in(client)  # the remembered cookie, too old now
    client.set_cookie("session", cookie)
    monkeypatch.setattr(time, "time", lambda: now + 29 * 60)
    assert _signed_in(client)


def test_each_request_gets_its_own_copy_of_a_remembered_cookies_contents(org, app, client):
    login(client, org.alice)
    assert _signed_in(client)
    cookie = client.get_cookie("session").value
    headers = {"Cookie": f"session={cookie}"}
    with app.test_request_context("/wallet", headers=headers):
        first = app.session_interface.open_session(app, request)
        first["_user_id"] = "someone else"
        first.clear()
    with app.test_request_context("/wallet", headers=headers):
        again = app.session_interface.open_session(app, request)
        assert again.get("_user_id", "").startswith(f"{org.alice.id}:")
