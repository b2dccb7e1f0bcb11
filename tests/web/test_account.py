"""My account: password and language."""

from __future__ import annotations

from tests import factories
from tests.conftest import csrf_token, login


def test_changing_my_password_signs_out_other_devices(org, client, app):
    other_device = app.test_client()
    login(other_device, org.alice)
    login(client, org.alice)
    token = csrf_token(client, "/account")
    wrong = client.post("/account", data={"current": "not it at all", "new": "a brand new password", "csrf_token": token})
    assert wrong.status_code == 422 and "The current password is wrong." in wrong.get_data(as_text=True)
    short = client.post("/account", data={"current": factories.PASSWORD, "new": "short", "csrf_token": token})
    assert short.status_code == 422 and "12 characters" in short.get_data(as_text=True)
    ok = client.post("/account", data={"current": factories.PASSWORD, "new": "a brand new password", "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/wallet").status_code == 200
    assert other_device.get("/wallet").status_code == 302
    assert api_login(app, org.alice.email, "a brand new password") == 200


def api_login(app, email, password):
    return app.test_client().post("/api/v1/auth/token", json={"email": email, "password": password}).status_code
