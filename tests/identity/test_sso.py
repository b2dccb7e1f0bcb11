"""Single sign-on against a real OpenID provider (oidc-provider on 127.0.0.1), through the login flow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from pointsapp.extensions import db
from tests import factories
from tests.conftest import csrf_token, make_test_app
from tests.oidc_provider import CLIENT_SECRET, through_provider

SIGNED_IN_AS = "/more"


@pytest.fixture()
def sso_app(oidc_issuer):
    """``sso_app(client_id=..., **settings)`` → an app signing in through the provider; its connections close afterwards."""
    made = []

    def make(client_id="pointsapp", **settings):
        app = make_test_app(
            OIDC_ISSUER=oidc_issuer, OIDC_CLIENT_ID=client_id, OIDC_CLIENT_SECRET=CLIENT_SECRET, OIDC_NAME="Huaxia ID", **settings
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture()
def app_sso(sso_app):
    return sso_app()


@pytest.fixture()
def chen(org):
    return factories.user("employee", org.wealth, email="chen.jing@bank.example", name="Chen Jing")


def start(client, path="/auth/oidc/login"):
    response = client.get(path)
    assert response.status_code == 302
    return response.headers["Location"]


def back(client, url):
    """Follow the provider's redirect back into the app (the test client serves http://localhost)."""
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def signed_in_email(client):
    response = client.get(SIGNED_IN_AS)
    return response.status_code == 200 and response.get_data(as_text=True)


def test_the_login_page_offers_the_identity_provider(app_sso, app):
    page = app_sso.test_client().get("/login").get_data(as_text=True)
    assert "Sign in with Huaxia ID" in page and 'href="/auth/oidc/login' in page
    assert "Sign in with" not in app.test_client().get("/login").get_data(as_text=True)  # not configured: not offered
    assert app.test_client().get("/auth/oidc/login").status_code == 404


def test_signing_in_through_the_provider_lands_on_the_wallet(app_sso, chen, oidc_issuer):
    client = app_sso.test_client()
    authorize = start(client)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{oidc_issuer}/auth")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["pointsapp"]
    callback = through_provider(authorize, "chen")
    assert callback.startswith("http://localhost/auth/oidc/callback?code=")
    response = back(client, callback)
    assert response.status_code == 302 and response.headers["Location"].endswith("/wallet")
    assert client.get("/wallet").status_code == 200
    assert chen.email in signed_in_email(client)


def test_next_is_kept_across_the_provider(app_sso, chen):
    client = app_sso.test_client()
    response = back(client, through_provider(start(client, "/auth/oidc/login?next=/rewards"), "chen"))
    assert response.headers["Location"].endswith("/rewards")


def _refused(client, response, message):
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert message in page
    assert client.get("/wallet").status_code == 302  # nobody signed in


def test_a_bad_state_signs_nobody_in(app_sso, chen):
    client = app_sso.test_client()
    callback = through_provider(start(client), "chen")
    forged = callback.replace("state=", "state=forged")
    _refused(client, back(client, forged), "Single sign-on did not complete.")


def test_a_replayed_code_signs_nobody_in(app_sso, chen):
    """The same answer twice, with everything it needs (state, nonce, PKCE verifier): the provider refuses the used code."""
    first = app_sso.test_client()
    callback = through_provider(start(first), "chen")
    copied = first.get_cookie("session").value  # the session as it was before the answer came back
    assert back(first, callback).headers["Location"].endswith("/wallet")
    replayer = app_sso.test_client()
    replayer.set_cookie("session", copied)
    _refused(replayer, back(replayer, callback), "Single sign-on did not complete.")


def test_a_code_issued_to_another_client_signs_nobody_in(sso_app, app_sso, chen):
    """Another audience: a code the provider issued to the client ``intruder`` is refused by pointsapp's exchange."""
    intruder = sso_app(client_id="intruder").test_client()
    callback = through_provider(start(intruder), "chen")  # the intruder's code, for chen
    victim = app_sso.test_client()
    state = parse_qs(urlsplit(start(victim)).query)["state"][0]
    code = parse_qs(urlsplit(callback).query)["code"][0]
    _refused(
        victim, back(victim, f"http://localhost/auth/oidc/callback?code={code}&state={state}"), "Single sign-on did not complete."
    )


def test_an_unverified_email_signs_nobody_in(app_sso, org):
    factories.user("employee", org.wealth, email="lin.na@bank.example", name="Lin Na")
    client = app_sso.test_client()
    _refused(client, back(client, through_provider(start(client), "unverified")), "has not verified your email")


def test_nobody_is_created_by_signing_in(app_sso, org):
    from pointsapp.models import User

    client = app_sso.test_client()
    _refused(client, back(client, through_provider(start(client), "stranger")), "There is no active account for")
    db.session.remove()
    assert db.session.query(User).filter_by(email="stranger@bank.example").count() == 0


def test_a_deactivated_user_cannot_sign_in_through_the_provider(app_sso, chen, api_as, org):
    assert api_as(org.admin).patch(f"/users/{chen.id}", {"active": False}).status_code == 200
    client = app_sso.test_client()
    _refused(client, back(client, through_provider(start(client), "chen")), "There is no active account for")


def csrf_token_of(client) -> str:
    """The page's CSRF token (the login page keeps it in its head even without the password form)."""
    return csrf_token(client, "/login")


def test_password_login_can_be_switched_off(sso_app, org):
    app = sso_app(PASSWORD_LOGIN=False)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert 'type="password"' not in page and "Sign in with Huaxia ID" in page
    response = client.post(
        "/login", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": csrf_token_of(client)}
    )
    assert response.status_code == 403 and "Password sign-in is switched off" in response.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"email": org.alice.email, "password": factories.PASSWORD})
    assert api.status_code == 403 and api.json["error"]["code"] == "password_login_disabled"
    assert client.get("/wallet").status_code == 302
