"""In-app notifications, settings, scheduled reminders, and the PWA files."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pointsapp import notify, periods, reminders
from pointsapp.extensions import db
from pointsapp.models import Notification, NotificationPreference
from tests import factories
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

    response = client.post("/notifications/read-all", data={"csrf_token": csrf_token(client, "/notifications")}, follow_redirects=True)

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

    response = client.post("/notifications/settings", data={
        "csrf_token": csrf_token(client, "/notifications/settings"),
        "awards": "1", "redemptions": "1", "quiet_start": "22:00", "quiet_end": "07:00",
    })

    assert response.status_code == 302
    prefs = db.session.get(NotificationPreference, org.alice.id)
    assert (prefs.awards, prefs.redemptions, prefs.reminders, prefs.rank_nudges) == (True, True, False, False)
    assert (prefs.quiet_start, prefs.quiet_end) == (dt.time(22, 0), dt.time(7, 0))


def test_half_set_quiet_hours_are_refused_and_nothing_saved(client, org):
    login(client, org.alice)
    response = client.post("/notifications/settings", data={
        "csrf_token": csrf_token(client, "/notifications/settings"), "quiet_start": "22:00",
    })

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


def test_queue_with_a_dedupe_key_queues_once(org):
    first = notify.queue(org.alice.id, "reminder", "goal_reminder", {"remaining": 5}, dedupe_key="goal:x")
    second = notify.queue(org.alice.id, "reminder", "goal_reminder", {"remaining": 4}, dedupe_key="goal:x")
    db.session.commit()

    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


def _this_week_at(weekday: int, hour: int) -> dt.datetime:
    """This ISO week's ``weekday`` (Monday 0) at ``hour``:00 in Shanghai, as UTC."""
    shanghai = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(shanghai).date()
    day = today - dt.timedelta(days=today.weekday() - weekday)
    return dt.datetime.combine(day, dt.time(hour), shanghai).astimezone(dt.timezone.utc)


def test_friday_afternoon_queues_one_goal_reminder_per_user_short_of_the_goal(org):
    factories.give_points(org.alice, 90)  # employee default goal 100: 10 short
    factories.give_points(org.bob, 120)  # goal met: no reminder
    factories.give_points(org.carol, 70)
    notify.update_preferences(org.carol, {"awards": True}, None, None)  # reminders off
    db.session.commit()
    friday = _this_week_at(4, 15)

    queued = reminders.schedule_reminders(friday)
    again = reminders.schedule_reminders(friday + dt.timedelta(minutes=30))
    db.session.commit()

    # Alice and the three leads (default goal 60, nothing earned); never the admin, Bob or Carol.
    assert (queued, again) == (4, 0)
    recipients = set(db.session.scalars(sa.select(Notification.user_id)))
    assert recipients == {org.alice.id, org.branch_lead.id, org.wealth_lead.id, org.loans_lead.id}
    row = db.session.scalar(sa.select(Notification).where(Notification.user_id == org.alice.id))
    week = periods.period_key("week", friday)
    assert (row.kind, row.template, row.dedupe_key) == ("reminder", "goal_reminder", f"goal:{org.alice.id}:{week}")
    assert row.params["remaining"] == 10
    assert notify.render(row)[1].startswith("10 points short of your weekly goal")


def test_no_reminders_outside_the_friday_afternoon_window(org):
    factories.give_points(org.alice, 90)
    friday = _this_week_at(4, 15)
    assert reminders.schedule_reminders(friday - dt.timedelta(hours=5)) == 0
    assert reminders.schedule_reminders(friday + dt.timedelta(days=1)) == 0


def test_thursday_afternoon_nudges_those_close_to_the_top_3(org):
    factories.give_points(org.bob, 300)
    factories.give_points(org.carol, 250)
    factories.give_points(org.wealth_lead, 200)
    factories.give_points(org.alice, 185)  # 4th, 15 points from the top 3

    assert reminders.schedule_reminders(_this_week_at(3, 15)) == 1
    db.session.commit()

    row = db.session.scalar(sa.select(Notification))
    assert (row.user_id, row.kind, row.params) == (org.alice.id, "rank_nudge", {"gap": 15})
    assert notify.render(row)[1] == "15 points from the top 3 this week."


def test_unknown_templates_render_a_generic_message(org):
    row = notify.queue(org.alice.id, "news", "no_such_template", {})
    broken = notify.queue(org.alice.id, "award", "points_awarded", {})
    assert notify.render(row) == ("pointsapp", "You have a new notification.")
    assert notify.render(broken) == ("pointsapp", "You have a new notification.")


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
