"""Notification settings in a browser: one notification button at a time, the app's font everywhere."""

from __future__ import annotations

import pytest

from pointsapp import notify
from pointsapp.extensions import db
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_notification_settings_show_one_button_and_notifications_use_the_app_font(page, org):
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 10, "reason": "Great work"}, url="/wallet")
    db.session.commit()
    sign_in(page, org.alice)
    page.goto("/notifications/settings")
    page.wait_for_timeout(300)  # push.js has checked this browser's subscription
    assert page.is_visible("[data-push-on]") and not page.is_visible("[data-push-off]")
    page.goto("/notifications")
    fonts = page.evaluate(
        "() => [getComputedStyle(document.body).fontFamily, getComputedStyle(document.querySelector('.notification .title')).fontFamily]"
    )
    assert fonts[0] == fonts[1], fonts
