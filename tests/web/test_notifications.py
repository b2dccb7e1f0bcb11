"""In-app notifications and their settings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pointsapp import notify
from pointsapp.extensions import db
from pointsapp.models import Notification, NotificationPreference
from tests.conftest import csrf_token, login


def test_the_list_shows_my_notifications_with_the_unread_count(client, org):
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 120, "reason": "Pension plan sold"})
    notify.queue(org.alice.id, "badge", "badge_earned", {"name": "Loan star"})
    notify.queue(org.bob.id, "award", "points_awarded", {"points": 999})
    db.session.commit()
    login(client, org.alice)

    html = client.get("/notifications").get_data(as_text=True)

    assert "You earned 120 points" in html and "Pension plan sold" in html and "New badge: Loan star" in html
    assert "You earned 999 points" not in html  # Bob's notification
    assert '<span class="count">2</span>' in html
    assert "Mark all as read (2)" in html


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, org):
    mine = notify.queue(org.alice.id, "award", "points_awarded", {"points": 5}, url="/wallet")
    theirs = notify.queue(org.bob.id, "award", "points_awarded", {"points": 5})
    db.session.commit()
    login(client, org.alice)
    token = csrf_token(client, "/notifications")

    response = client.post(f"/notifications/{mine.id}/read", data={"csrf_token": token})
    refused = client.post(f"/notifications/{theirs.id}/read", data={"csrf_token": token})

    assert response.status_code == 302 and response.headers["Location"] == "/wallet"
    assert refused.status_code == 404
    read = dict(db.session.execute(sa.select(Notification.id, Notification.read_at)).all())
    assert read[mine.id] is not None and read[theirs.id] is None


def test_mark_all_as_read_clears_the_bell(client, org):
    for points in (1, 2, 3):
        notify.queue(org.alice.id, "award", "points_awarded", {"points": points})
    db.session.commit()
    login(client, org.alice)

    response = client.post(
        "/notifications/read-all", data={"csrf_token": csrf_token(client, "/notifications")}, follow_redirects=True
    )

    html = response.get_data(as_text=True)
    assert "3 notifications marked as read." in html and 'class="count"' not in html
    assert notify.unread_count(org.alice) == 0


def test_an_empty_list_says_what_will_appear(client, org):
    login(client, org.alice)
    assert "No notifications yet." in client.get("/notifications").get_data(as_text=True)


def test_settings_save_kinds_and_quiet_hours(client, org):
    login(client, org.alice)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Turn on notifications" in page and "js/push.js" in page

    response = client.post(
        "/notifications/settings",
        data={
            "csrf_token": csrf_token(client, "/notifications/settings"),
            "awards": "1",
            "redemptions": "1",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
    )

    assert response.status_code == 302
    prefs = db.session.get(NotificationPreference, org.alice.id)
    assert (prefs.awards, prefs.redemptions, prefs.reminders, prefs.rank_nudges) == (True, True, False, False)
    assert (prefs.quiet_start, prefs.quiet_end) == (dt.time(22, 0), dt.time(7, 0))


def test_half_set_quiet_hours_are_refused_and_nothing_saved(client, org):
    login(client, org.alice)
    response = client.post(
        "/notifications/settings",
        data={
            "csrf_token": csrf_token(client, "/notifications/settings"),
            "quiet_start": "22:00",
        },
    )

    assert response.status_code == 422
    assert "Required when the other quiet-hours time is set." in response.get_data(as_text=True)
    assert db.session.get(NotificationPreference, org.alice.id) is None


def test_quiet_hours_are_off_until_set_and_wrap_midnight(org):
    prefs = notify.preferences(org.alice.id)
    late = dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.timezone.utc)  # 23:30 Shanghai
    assert notify.quiet_until(prefs, late) is None
    prefs.quiet_start, prefs.quiet_end = dt.time(22, 0), dt.time(7, 0)
    assert notify.quiet_until(prefs, late) == dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.timezone.utc)
    early = dt.datetime(2026, 3, 4, 21, 0, tzinfo=dt.timezone.utc)  # 05:00 Shanghai, same night
    assert notify.quiet_until(prefs, early) == dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.timezone.utc)
    noon = dt.datetime(2026, 3, 4, 4, 0, tzinfo=dt.timezone.utc)
    assert notify.quiet_until(prefs, noon) is None


def _this_week_at(weekday: int, hour: int) -> dt.datetime:
    """This ISO week's ``weekday`` (Monday 0) at ``hour``:00 in Shanghai, as UTC."""
    shanghai = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(shanghai).date()
    day = today - dt.timedelta(days=today.weekday() - weekday)
    return dt.datetime.combine(day, dt.time(hour), shanghai).astimezone(dt.timezone.utc)
