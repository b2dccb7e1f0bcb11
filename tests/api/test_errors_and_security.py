"""The error envelope for every status, CSRF for browser sessions, rate limits, OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint

import pointsapp
from pointsapp.extensions import db, skips_the_limiter
from pointsapp.models import LedgerEntry
from tests import factories
from tests.conftest import csrf_token, login, make_test_app


def _assert_envelope(response, status, code):
    assert response.status_code == status
    assert response.is_json
    error = response.json["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_malformed_json_is_400(org, api_as):
    client = api_as(org.admin)
    response = client.client.post(
        "/api/v1/awards",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {client.token}"},
    )
    _assert_envelope(response, 400, "bad_request")


def test_unknown_api_path_is_404_and_wrong_method_405(org, api_as):
    _assert_envelope(api_as(org.alice).get("/no-such-thing"), 404, "not_found")
    _assert_envelope(api_as(org.alice).get("/awards"), 405, "method_not_allowed")


def test_a_body_that_is_not_an_object_is_422(org, api_as):
    _assert_envelope(api_as(org.admin).post("/awards", [1, 2, 3]), 422, "validation_error")


def test_an_unexpected_error_is_a_500_with_the_envelope_not_a_stack_trace(org, monkeypatch):
    app = make_test_app()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    boom = Blueprint("Boom", __name__)

    @boom.route("/boom")
    class Boom(MethodView):
        def get(self):
            raise RuntimeError("secret internals")

    from pointsapp.extensions import api as smorest

    with app.app_context():
        pass
    app.register_blueprint(boom, url_prefix="/api/v1")
    response = app.test_client().get("/api/v1/boom")
    error = _assert_envelope(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert smorest is not None and error["message"]


def test_session_callers_need_the_csrf_token_for_unsafe_api_calls(org, client):
    login(client, org.admin)
    payload = {"user_id": org.alice.id, "points": 5, "reason": "Session award"}
    refused = client.post("/api/v1/awards", json=payload)
    _assert_envelope(refused, 403, "csrf_failed")
    token = csrf_token(client, "/wallet")
    accepted = client.post("/api/v1/awards", json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    assert client.get("/api/v1/me").json["id"] == org.admin.id  # safe methods need no token
    assert db.session.query(LedgerEntry).count() == 1


def test_web_forms_without_the_csrf_token_are_refused(org, client):
    response = client.post("/login", data={"email": org.alice.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert "csrf" in response.get_data(as_text=True).lower()


@pytest.fixture()
def limited_app():
    return make_test_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")


def test_failed_token_requests_are_rate_limited_per_address_and_email(org, limited_app):
    client = limited_app.test_client()
    wrong = {"email": org.alice.email, "password": "not the password"}
    statuses = [client.post("/api/v1/auth/token", json=wrong).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = client.post("/api/v1/auth/token", json=wrong)
    _assert_envelope(limited, 429, "rate_limited")
    # Another account from the same address is not locked out by Alice's attempts.
    other = client.post("/api/v1/auth/token", json={"email": org.admin.email, "password": factories.PASSWORD})
    assert other.status_code == 200


def test_successful_logins_do_not_count_against_the_limit(org, limited_app):
    client = limited_app.test_client()
    good = {"email": org.alice.email, "password": factories.PASSWORD}
    assert [client.post("/api/v1/auth/token", json=good).status_code for _ in range(5)] == [200] * 5


def test_failed_web_logins_are_rate_limited(org, limited_app):
    client = limited_app.test_client()
    statuses = []
    for _ in range(4):
        token = csrf_token(client)
        statuses.append(
            client.post("/login", data={"email": org.alice.email, "password": "nope nope nope", "csrf_token": token}).status_code
        )
    assert statuses == [401, 401, 401, 429]


def test_openapi_document_is_public_and_lists_the_contract_paths(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token",
        "/api/v1/me",
        "/api/v1/me/wallet",
        "/api/v1/me/ledger",
        "/api/v1/teams",
        "/api/v1/users",
        "/api/v1/users/{user_id}",
        "/api/v1/users/{user_id}/wallet",
        "/api/v1/awards",
    ):
        assert path in spec["paths"], path
    award = spec["paths"]["/api/v1/awards"]["post"]
    assert award["summary"].startswith("Award")
    assert "201" in award["responses"]


def test_api_docs_page_renders_the_operations(client):
    html = client.get("/api/docs").get_data(as_text=True)
    assert "/api/v1/me/wallet" in html and "My balance, available and held points" in html


def test_pages_send_a_strict_content_security_policy(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("body", [[None, None], "alice", 5, None])
def test_a_token_request_whose_json_is_not_an_object_is_refused_while_limits_are_on(org, limited_app, body):
    """The rate limit's key reads the email from the body before validation does (found by schemathesis)."""
    response = limited_app.test_client().post("/api/v1/auth/token", json=body)
    assert response.status_code in (400, 422)
    assert set(response.json["error"]) >= {"code", "message"}


@pytest.fixture()
def address_limited_app():
    return make_test_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", LOGIN_ADDRESS_RATE_LIMIT="5 per minute")


def test_failed_token_requests_are_limited_per_address_across_emails(org, address_limited_app):
    client = address_limited_app.test_client()
    # One wrong guess each for many accounts never reaches the per-email limit, but the address runs out.
    statuses = [
        client.post("/api/v1/auth/token", json={"email": f"guess{n}@example.com", "password": "not the password"}).status_code
        for n in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    limited = client.post("/api/v1/auth/token", json={"email": org.admin.email, "password": factories.PASSWORD})
    _assert_envelope(limited, 429, "rate_limited")
    # Another address is not affected.
    other = client.post(
        "/api/v1/auth/token",
        json={"email": org.admin.email, "password": factories.PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert other.status_code == 200 and other.json["user"]["email"] == org.admin.email


def test_failed_web_logins_are_limited_per_address_across_emails(org, address_limited_app):
    client = address_limited_app.test_client()
    statuses = []
    for n in range(6):
        token = csrf_token(client)
        statuses.append(
            client.post(
                "/login", data={"email": f"guess{n}@example.com", "password": "nope nope nope", "csrf_token": token}
            ).status_code
        )
    assert statuses == [401] * 5 + [429]
    token = csrf_token(client)
    assert (
        client.post("/login", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token}).status_code
        == 429
    )


def test_only_the_views_with_a_limit_of_their_own_pass_through_the_limiter(limited_app):
    """Sign-in (form and API) is limited; every other request skips the limiter's search for limits."""
    cases = {
        ("POST", "/login"): False,
        ("GET", "/login"): False,  # the same view: its limits name their methods (POST)
        ("POST", "/api/v1/auth/token"): False,
        ("GET", "/wallet"): True,
        ("GET", "/api/v1/me/wallet"): True,
        ("POST", "/api/v1/events"): True,
        ("GET", "/no/such/page"): True,
    }
    seen = {}
    for method, path in cases:
        with limited_app.test_request_context(path, method=method):
            seen[(method, path)] = skips_the_limiter()
    assert seen == cases


def test_every_rate_limit_is_declared_through_rate_limit():
    """A limit set with ``limiter.limit`` or ``shared_limit`` itself would be skipped: its view would not be marked."""
    root = Path(pointsapp.__file__).parent
    direct = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if path.name != "extensions.py"
        and any(call in path.read_text(encoding="utf-8") for call in ("limiter.limit(", "limiter.shared_limit("))
    ]
    assert direct == []
