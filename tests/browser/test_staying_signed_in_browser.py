"""A phone that changes network (a new X-Forwarded-For behind the load balancer) stays signed in."""

from __future__ import annotations

import pytest

from pointsapp.extensions import db, login_manager
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, serve, sign_in
from tests.conftest import make_test_app

pytestmark = pytest.mark.browser


@pytest.fixture()
def proxied_server(app):
    """The app as deployed behind one proxy (TRUSTED_PROXIES=1), on 127.0.0.1."""
    proxied = make_test_app(TRUSTED_PROXIES=1)
    try:
        with serve(proxied) as base_url:
            yield base_url
    finally:
        with proxied.app_context():
            db.engine.dispose()


def _walk_between_networks(base_url, user) -> str:
    """Sign in on Wi-Fi, reopen the wallet on 4G; return the path the browser ends on."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = chromium.new_context(base_url=base_url, viewport=PHONE)
            context.set_default_timeout(10_000)
            context.set_extra_http_headers({"X-Forwarded-For": "127.0.0.2"})
            page = context.new_page()
            sign_in(page, user)
            context.set_extra_http_headers({"X-Forwarded-For": "127.0.0.3"})
            page.goto("/more")
            path = page.evaluate("location.pathname")
            if path == "/more":
                assert user.email in page.inner_text("main")
            return path
        finally:
            chromium.close()


def test_the_phone_stays_signed_in_when_its_address_changes(org, proxied_server):
    assert _walk_between_networks(proxied_server, org.alice) == "/more"


def test_strong_session_protection_would_have_signed_it_out(org, proxied_server, monkeypatch):
    """The control: the same walk under Flask-Login's "strong" protection lands on the login page."""
    monkeypatch.setattr(login_manager, "session_protection", "strong")
    assert _walk_between_networks(proxied_server, org.alice) == "/login"
