"""The installable app: manifest, icons and service worker."""

from __future__ import annotations

import json

from tests.conftest import csrf_token, login
from tests.factories import PASSWORD


def test_the_manifest_is_served_and_installable(client):
    response = client.get("/manifest.json")

    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data())
    assert manifest["display"] == "standalone" and manifest["start_url"].startswith("/")
    assert {"name", "short_name", "description", "theme_color", "background_color"} <= manifest.keys()
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        png = client.get(icon["src"])
        assert png.status_code == 200 and png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"
        width = int.from_bytes(png.get_data()[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_the_manifest_has_a_chinese_name(client):
    manifest = json.loads(client.get("/manifest.json?lang=zh").get_data())
    assert manifest["short_name"] == "积分" and manifest["lang"] == "zh-Hans"


def test_the_service_worker_is_served_at_the_root_uncached_and_versioned(client):
    response = client.get("/sw.js")

    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response.headers["Cache-Control"]
    source = response.get_data(as_text=True)
    assert "__VERSION__" not in source and 'const VERSION = "' in source
    assert "skipWaiting" in source and "clients.claim" in source and "caches.delete" in source


def test_pages_link_the_manifest(client, org):
    login(client, org.alice)
    assert '<link rel="manifest" href="/manifest.json">' in client.get("/wallet").get_data(as_text=True)


def test_the_offline_page_is_served_in_the_asked_language_without_anyones_data(client, org):
    chinese = client.get("/offline?lang=zh", headers={"Accept-Language": "en"})
    assert chinese.status_code == 200 and chinese.headers["Content-Language"] == "zh"
    text = chinese.get_data(as_text=True)
    assert '<html lang="zh-Hans" data-offline-at="">' in text
    assert "您已离线" in text and "打开我的积分钱包" in text and "You are offline" not in text
    english = client.get("/offline?lang=en", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "You are offline" in english and "Open my wallet" in english and "您已离线" not in english
    # Without ?lang= (or with one we do not speak) the reader's language decides.
    assert "您已离线" in client.get("/offline?lang=fr", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "You are offline" in client.get("/offline").get_data(as_text=True)
    # The worker precaches it for every visitor: no CSRF token, no name, no points.
    login(client, org.alice)
    mine = client.get("/offline?lang=en").get_data(as_text=True)
    assert "csrf" not in mine and org.alice.name not in mine


def test_what_the_service_worker_fetches_in_the_background_never_replaces_the_session_cookie(app, client, org):
    # The worker precaches the offline pages while the person signs in; a fetch sent
    # with the cookie of the login page and answered after the sign-in must not set
    # that older cookie again (it used to, marked "not fresh", and signed them out).
    token = csrf_token(client)
    before_sign_in = client.get_cookie("session").value
    background = app.test_client()
    background.set_cookie("session", before_sign_in)
    signed_in = client.post("/login", data={"email": org.alice.email, "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302 and client.get_cookie("session").value != before_sign_in

    for path in ("/offline?lang=zh", "/offline?lang=en", "/sw.js", "/manifest.json"):
        response = background.get(path)
        assert response.status_code == 200 and response.headers.getlist("Set-Cookie") == [], path
    assert background.get_cookie("session").value == before_sign_in
    # Nor does it delete a remember cookie for the stale session it carries (Flask-Login would).
    stale = app.session_interface.get_signing_serializer(app).dumps({"_remember": "clear"})
    background.set_cookie("session", stale)
    background.set_cookie("remember_token", "kept-by-the-newer-sign-in")
    assert background.get("/offline?lang=en").headers.getlist("Set-Cookie") == []
    elsewhere = app.test_client()
    elsewhere.set_cookie("session", stale)
    elsewhere.set_cookie("remember_token", "kept-by-the-newer-sign-in")
    deleted = elsewhere.get("/login").headers.getlist("Set-Cookie")
    assert any(c.startswith("remember_token=;") for c in deleted), deleted  # what a page of a session does
    # Pages that belong to a session still set it (a new CSRF token for a fresh visitor).
    assert "session=" in app.test_client().get("/login").headers.get("Set-Cookie", "")
    assert client.get("/wallet").status_code == 200


def test_the_service_worker_precaches_the_offline_page_in_every_language_and_pages_tell_it_theirs(client):
    source = client.get("/sw.js").get_data(as_text=True)
    assert "__LANGUAGES__" not in source and 'const LANGUAGES = ["en", "zh"];' in source
    assert '"/offline?lang=" + lang' in source and "LANGUAGE_KEY" in source
    assert "You are offline" not in source  # the text comes from the server, per language
    app_js = client.get("/static/js/app.js").get_data(as_text=True)
    assert 'register("/sw.js"' in app_js and "postMessage({ language: lang })" in app_js
