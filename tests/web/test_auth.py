"""Login and logout pages."""

from __future__ import annotations

from tests import factories
from tests.conftest import csrf_token


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
