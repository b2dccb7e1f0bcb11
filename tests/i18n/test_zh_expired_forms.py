"""A form sent without its session (cookies cleared, a phone that slept for days) says so in the reader's language."""

from __future__ import annotations

from tests import factories
from tests.conftest import csrf_token, login
from tests.i18n.test_zh_pages import ZH, english_words

EXPIRED_ZH = "表单已过期"


def test_a_login_without_its_session_shows_the_login_form_again_with_a_chinese_message(app, org):
    client = app.test_client()
    token = csrf_token(client)
    client.delete_cookie("session")
    response = client.post(
        "/login", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token}, headers=ZH
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert EXPIRED_ZH in page and 'name="password"' in page and org.alice.email in page
    assert english_words(page) == []
    assert "/wallet" not in page.split("<main", 1)[-1]  # no way into pages that need a sign-in
    again = client.post(  # the page it shows carries a fresh token: sending it again signs in
        "/login",
        data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": csrf_token(client)},
        headers=ZH,
    )
    assert again.status_code == 302


def test_another_form_sent_without_a_session_by_someone_signed_out_links_to_the_login(app):
    client = app.test_client()
    response = client.post("/logout", data={"csrf_token": "stale"}, headers=ZH)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    main = page.split("<main", 1)[-1]
    assert EXPIRED_ZH in main and "CSRF" not in main
    assert 'href="/login"' in main and "返回我的积分" not in page
    assert english_words(page) == []


def test_a_signed_in_reader_sending_a_stale_form_is_told_to_reload_in_english_too(app, org):
    client = login(app.test_client(), org.alice)
    response = client.post(
        "/notifications/settings", data={"csrf_token": "stale"}, headers={"Referer": "/notifications/settings"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    main = page.split("<main", 1)[-1]
    assert "The form expired — reload the page and try again." in main and "CSRF" not in main
    assert 'href="/wallet"' in main
