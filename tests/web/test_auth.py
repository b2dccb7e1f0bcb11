"""Login and logout pages."""

from __future__ import annotations

from tests import factories
from tests.conftest import csrf_token, login


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_renews_the_session_and_logout_ends_it(org, client):
    token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = client.post("/login", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get("/wallet").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/wallet")})
    assert client.get("/wallet").status_code == 302


def test_wrong_password_rerenders_the_form_with_a_message(org, client):
    token = csrf_token(client)
    response = client.post("/login", data={"email": org.alice.email, "password": "wrong wrong wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "The email or password is wrong." in response.get_data(as_text=True)


def test_login_never_redirects_to_another_host(org, client):
    token = csrf_token(client)
    response = client.post(
        "/login?next=//evil.example/x", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/wallet"


def test_a_session_outlives_a_key_rotation_through_the_fallbacks_and_not_a_key_dropped(org, app, client):
    """Session cookies are checked with the keys in force now, though their serializer is built once per set of keys."""
    login(client, org.alice)
    assert client.get("/wallet").status_code == 200
    old_key = app.secret_key
    app.secret_key = app.config["SECRET_KEY"] = "a-rotated-key-for-this-test-only"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/wallet").status_code == 200  # signed with the old key, still accepted
    app.config["SECRET_KEY_FALLBACKS"] = []
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]  # the old key is gone: so is the session
