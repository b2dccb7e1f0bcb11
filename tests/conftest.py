"""Fixtures: an app on SQLite (or TEST_DATABASE_URL), clients, callers, and the ledger check.

After every test the ledger invariant is checked (Σ entries = balance,
held = open holds, rollups match, nothing below zero that should not be) and
every table is emptied.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
import re
import tempfile
import threading
from pathlib import Path

import pytest

_INSTANCE = tempfile.mkdtemp(prefix="pointsapp-test-")
os.environ.setdefault("POINTSAPP_INSTANCE", _INSTANCE)

from flask import has_app_context  # noqa: E402
from flask.globals import _cv_app  # noqa: E402
from flask.testing import FlaskClient, FlaskCliRunner  # noqa: E402

from pointsapp import create_app, ledger  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models.authority import AUDIT_GUARD_DROPS, AUDIT_GUARDS  # noqa: E402
from tests import factories  # noqa: E402

DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{Path(_INSTANCE) / 'test.db'}"
ON_POSTGRES = DATABASE_URL.startswith("postgresql")


class Client(FlaskClient):
    """A test client whose every request runs in its own app context and session.

    The test's own app context stays pushed for factories and assertions; each
    request gets a fresh one (as in production), so nothing leaks between the
    two through ``g`` or the session.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            db.session.remove()  # end the test's transaction so the request never waits on it
        token = _cv_app.set(None)
        kwargs.setdefault("buffered", True)  # read the body and close it (a file response would stay open)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


class CliRunner(FlaskCliRunner):
    """A CLI runner whose every command starts with no app context pushed, as ``flask`` does from a shell.

    The test's own app context is set aside for the invocation, so a command
    that does not push its own fails here exactly as it would for an operator.
    """

    def invoke(self, *args, **kwargs):
        if has_app_context():
            db.session.remove()  # end the test's transaction so the command never waits on it
        return contextvars.Context().run(super().invoke, *args, **kwargs)  # no context variable is set in there


def make_test_app(**overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": DATABASE_URL,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "PUSH_ENDPOINT_ALLOWLIST": None,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = Client
    app.test_cli_runner_class = CliRunner
    _APPS.append(app)
    return app


_APPS: list = []  # every app a test made, so that their connection pools are closed at the end


@pytest.fixture(scope="session", autouse=True)
def _close_every_pool():
    """Close the pooled connections of every test app before the interpreter drops them (a ResourceWarning)."""
    yield
    for made in _APPS:
        with made.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="session")
def app():
    app = make_test_app()
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


@pytest.fixture(autouse=True)
def _ctx_and_ledger_check(request, app):
    """Push an app context for the test; afterwards check the ledger and empty the tables."""
    ctx = app.app_context()
    ctx.push()
    try:
        yield
        db.session.remove()
        problems = ledger.check_ledger()
        assert not problems, "ledger invariant broken:\n" + "\n".join(problems)
    finally:
        db.session.remove()
        _empty_tables()
        ctx.pop()


def _empty_tables() -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if ON_POSTGRES:
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            # Audit records are append-only (triggers refuse DELETE): lift the guard to empty the table, then restore it.
            for statement in AUDIT_GUARD_DROPS["sqlite"]:
                conn.exec_driver_sql(statement)
            for table in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
            for statement in AUDIT_GUARDS["sqlite"]:
                conn.exec_driver_sql(statement)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def cli(app):
    return app.test_cli_runner()


class ApiClient:
    """JSON calls with a bearer token: ``api.post("/awards", {...})`` → response."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token
        self.client = app.test_client()

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, path, headers=None, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(headers), **kwargs)

    def put(self, path, json=None, headers=None, **kwargs):
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(headers), **kwargs)

    def delete(self, path, json=None, headers=None, **kwargs):
        return self.client.delete(f"/api/v1{path}", json=json, headers=self._headers(headers), **kwargs)


@pytest.fixture()
def api_as(app):
    """``api_as(user)`` → an ApiClient with a fresh token of that user (or integration)."""

    def make(principal=None):
        if principal is None:
            return ApiClient(app, None)
        return ApiClient(app, factories.token_for(principal))

    return make


@pytest.fixture()
def org():
    """A small organisation: company → branch → two teams, leads, members, an admin."""
    return factories.small_org()


_CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page hands to its forms."""
    html = client.get(path).get_data(as_text=True)
    match = _CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, user, password: str = factories.PASSWORD):
    """Sign a browser client in as ``user`` (who must have a password)."""
    token = csrf_token(client)
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def run_concurrently(fn, count: int) -> list:
    """Run ``fn(i)`` in ``count`` threads released together; return the results in order."""
    db.session.remove()
    barrier = threading.Barrier(count)

    def task(i):
        barrier.wait()
        return fn(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(task, range(count)))
