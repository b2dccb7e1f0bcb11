"""Scheduled reminders: the Friday goal reminder and the Thursday top-3 nudge."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from pointsapp import notify, periods, reminders
from pointsapp.extensions import db
from pointsapp.models import Notification
from tests import factories


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
