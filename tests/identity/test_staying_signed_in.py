"""Staying signed in on a phone: a new network address keeps the session; password changes and leaving end it."""

from __future__ import annotations

from pointsapp.extensions import db
from tests import factories
from tests.conftest import csrf_token

WIFI, MOBILE = "127.0.0.2", "127.0.0.3"


def sign_in(client, user, *, remember: bool, address: str = WIFI):
    token = csrf_token(client)
    data = {"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "1"
    response = client.post("/login", data=data, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def test_a_session_survives_a_change_of_address(org, client):
    sign_in(client, org.alice, remember=False)
    response = client.get("/more", environ_base={"REMOTE_ADDR": MOBILE})
    assert response.status_code == 200
    assert org.alice.email in response.get_data(as_text=True)


def test_the_remember_cookie_alone_signs_the_phone_in_from_another_address(org, app):
    client = app.test_client()
    sign_in(client, org.alice, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None
    fresh = app.test_client()  # the browser was closed: only the remember cookie is left
    fresh.set_cookie("remember_token", remember.value)
    response = fresh.get("/more", environ_base={"REMOTE_ADDR": MOBILE})
    assert response.status_code == 200 and org.alice.email in response.get_data(as_text=True)


def test_a_password_change_rotates_the_remember_cookie(org, app):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, org.alice, remember=True)
    sign_in(laptop, org.alice, remember=True)
    old = laptop.get_cookie("remember_token").value
    token = csrf_token(laptop, "/account")
    new_password = "another long passphrase"
    response = laptop.post("/account", data={"current": factories.PASSWORD, "new": new_password, "csrf_token": token})
    assert response.status_code == 302
    rotated = laptop.get_cookie("remember_token").value
    assert rotated != old
    assert laptop.get("/wallet").status_code == 200  # the device that changed it stays signed in
    stale = app.test_client()
    stale.set_cookie("remember_token", old)
    assert stale.get("/wallet").status_code == 302  # the old cookie no longer signs anyone in
    renewed = app.test_client()
    renewed.set_cookie("remember_token", rotated)
    assert renewed.get("/wallet").status_code == 200
    assert phone.get("/wallet").status_code == 302  # the other device was signed out


def test_deactivation_ends_the_session_and_clears_the_remember_cookie(org, app, api_as):
    phone = app.test_client()
    sign_in(phone, org.alice, remember=True)
    assert phone.get("/wallet").status_code == 200
    assert api_as(org.admin).patch(f"/users/{org.alice.id}", {"active": False}).status_code == 200
    response = phone.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert phone.get_cookie("remember_token") is None  # deleted by the response
    db.session.remove()
