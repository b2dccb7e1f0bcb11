"""In-app notifications, settings, scheduled reminders, and the PWA files."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa

from pointsapp import goals, leaderboard, notify
from pointsapp.extensions import db
from pointsapp.models import Notification, NotificationPreference
from tests.conftest import csrf_token, login

FRIDAY_3PM_SHANGHAI = dt.datetime(2026, 3, 6, 7, 0, tzinfo=dt.timezone.utc)
THURSDAY_3PM_SHANGHAI = dt.datetime(2026, 3, 5, 7, 0, tzinfo=dt.timezone.utc)


def test_the_list_shows_my_notifications_with_the_unread_count(client, org):
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 120, "reason": "Pension plan sold"})
    notify.queue(org.alice.id, "badge", "badge_earned", {"name": "Loan star"})
    notify.queue(org.bob.id, "award", "points_awarded", {"points": 999})
    db.session.commit()
    login(client, org.alice)

    html = client.get("/notifications").get_data(as_text=True)

    assert "You earned 120 points" in html and "Pension plan sold" in html and "New badge: Loan star" in html
    assert "999" not in html
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


def _fake_goals(monkeypatch, remaining: dict[int, int]):
    monkeypatch.setattr(goals, "goal_status", lambda user: goals.GoalStatus(100, 100 - remaining.get(user.id, 0), remaining.get(user.id, 0)))


def test_friday_afternoon_queues_one_goal_reminder_per_user_short_of_the_goal(monkeypatch, org):
    _fake_goals(monkeypatch, {org.alice.id: 10, org.carol.id: 30})
    notify.update_preferences(org.carol, {"awards": True}, None, None)  # reminders off
    db.session.commit()

    queued = notify.schedule_reminders(FRIDAY_3PM_SHANGHAI)
    again = notify.schedule_reminders(FRIDAY_3PM_SHANGHAI + dt.timedelta(minutes=30))
    db.session.commit()

    assert (queued, again) == (1, 0)
    row = db.session.scalar(sa.select(Notification))
    assert (row.user_id, row.kind, row.template, row.dedupe_key) == (org.alice.id, "reminder", "goal_reminder", f"goal:{org.alice.id}:2026-W10")
    assert notify.render(row)[1].startswith("10 points short of your weekly goal")


def test_no_reminders_outside_the_friday_afternoon_window(monkeypatch, org):
    _fake_goals(monkeypatch, {org.alice.id: 10})
    monkeypatch.setattr(leaderboard, "standing", lambda user, period="week": None)
    friday_morning = FRIDAY_3PM_SHANGHAI - dt.timedelta(hours=5)
    saturday = FRIDAY_3PM_SHANGHAI + dt.timedelta(days=1)

    assert notify.schedule_reminders(friday_morning) == 0
    assert notify.schedule_reminders(saturday) == 0


def test_thursday_afternoon_nudges_those_close_to_the_top_3(monkeypatch, org):
    standings = {
        org.alice.id: leaderboard.Standing(rank=5, points=80, gap_to_next=5, gap_to_top3=15),
        org.bob.id: leaderboard.Standing(rank=2, points=200, gap_to_next=10, gap_to_top3=0),
        org.carol.id: leaderboard.Standing(rank=9, points=10, gap_to_next=5, gap_to_top3=400),
    }
    monkeypatch.setattr(leaderboard, "standing", lambda user, period="week": standings.get(user.id))

    assert notify.schedule_reminders(THURSDAY_3PM_SHANGHAI) == 1
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
