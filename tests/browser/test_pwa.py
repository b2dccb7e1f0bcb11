"""The installable app in headless Chromium: manifest, service worker, offline wallet."""

from __future__ import annotations

import pytest

from pointsapp.extensions import db
from tests import factories

pytestmark = pytest.mark.browser


def test_the_wallet_installs_and_reloads_offline_with_the_banner(page, org):
    factories.give_points(org.alice, 345, "Wealth product sold")
    page.goto("/login")
    page.fill("input[name=email]", org.alice.email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/wallet")

    manifest_url = page.eval_on_selector('link[rel="manifest"]', "link => link.href")
    manifest = page.evaluate("url => fetch(url).then(r => r.json())", manifest_url)
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/wallet?source=pwa"
    assert page.evaluate("url => fetch(url).then(r => r.ok)", manifest["icons"][1]["src"])

    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope.endswith("/")
    page.reload()  # the first load predates the worker; from now on it controls the page
    assert page.evaluate("!!navigator.serviceWorker.controller")
    assert page.locator("#offline-banner").is_hidden()
    assert "345" in page.locator(".balance .big").inner_text()

    page.context.set_offline(True)
    page.reload()

    assert "345" in page.locator(".balance .big").inner_text()
    banner = page.locator("#offline-banner")
    banner.wait_for(state="visible")
    assert "Offline — last updated at" in banner.inner_text()
    assert page.locator("#offline-banner time").get_attribute("datetime").startswith("20")
    page.context.set_offline(False)


def test_settings_page_is_ready_to_turn_notifications_on(page, org):
    page.goto("/login")
    page.fill("input[name=email]", org.alice.email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/wallet")
    page.goto("/notifications/settings")

    page.wait_for_function("document.getElementById('push-controls').dataset.state !== 'checking'")
    state = page.get_attribute("#push-controls", "data-state")
    assert state in ("off", "denied")
    assert page.locator("[data-push-on]").is_visible()
    key = page.evaluate("fetch('/api/v1/push/vapid-public-key').then(r => r.json()).then(b => b.public_key)")
    assert len(key) == 87


def test_a_chinese_reader_offline_gets_the_offline_page_in_chinese(page, org):
    org.alice.locale = "zh"
    db.session.commit()
    page.goto("/login")
    page.fill("input[name=email]", org.alice.email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/wallet")
    page.evaluate("navigator.serviceWorker.ready")
    page.reload()  # from now on the worker controls the page, which tells it its language
    page.wait_for_function("caches.match('/offline/language').then(r => r ? r.text() : '').then(t => t === 'zh')")
    assert page.evaluate("!!navigator.serviceWorker.controller")

    page.context.set_offline(True)
    page.goto("/rewards")  # never opened: the worker has only its offline page

    assert page.locator("h1").inner_text() == "您已离线"
    assert page.evaluate("document.documentElement.lang") == "zh-Hans"
    assert "打开我的积分钱包" in page.locator("main").inner_text()
    assert "offline" not in page.locator("main").inner_text().lower()
    page.context.set_offline(False)
