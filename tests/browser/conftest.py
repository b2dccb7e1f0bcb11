"""Browser fixtures: the app on a real 127.0.0.1 server and Debian's Chromium at phone size."""

from __future__ import annotations

import contextlib
import threading

import pytest
from werkzeug.serving import make_server

from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}


@contextlib.contextmanager
def serve(app):
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture()
def live_server(app):
    """Serve the test app on 127.0.0.1 (a free port) for the test's duration."""
    with serve(app) as base_url:
        yield base_url


@pytest.fixture()
def browser(live_server):
    """``browser()`` → a new phone-sized page in its own context (its own cookies)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        contexts = []

        def new_page():
            context = chromium.new_context(base_url=live_server, viewport=PHONE)
            context.set_default_timeout(10_000)
            contexts.append(context)
            return context.new_page()

        try:
            yield new_page
        finally:
            for context in contexts:
                context.close()
            chromium.close()


@pytest.fixture()
def page(browser):
    return browser()


def sign_in(page, user, password: str = factories.PASSWORD):
    page.goto("/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/wallet")
