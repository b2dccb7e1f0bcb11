"""Scheduled nudges: the Friday weekly-goal reminder and the Thursday rank nudge.

Run by the scheduler (``flask push-worker``, ``flask run-jobs``) in the
organisation's time zone. Each is queued at most once per user and week (a
dedupe key on the notification) and only for users who want that kind; quiet
hours are applied at delivery.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from pointsapp import goals, leaderboard, notify, periods
from pointsapp.extensions import db
from pointsapp.models import Notification, NotificationPreference, Rule, User

# When the worker schedules reminders (org time zone): Friday afternoon for the
# weekly goal, Thursday afternoon for the rank nudge (a day to act on it).
GOAL_REMINDER_DAY, RANK_NUDGE_DAY = 4, 3  # Monday is 0
REMINDER_WINDOW = (dt.time(14, 0), dt.time(18, 0))
RANK_NUDGE_MAX_GAP = 50


def _in_window(local: dt.datetime, weekday: int) -> bool:
    return local.weekday() == weekday and REMINDER_WINDOW[0] <= local.time().replace(tzinfo=None) < REMINDER_WINDOW[1]


def _one_more_action(remaining: int) -> str | None:
    """The name of the cheapest active event rule that alone closes the gap."""
    return db.session.scalar(
        sa.select(Rule.name)
        .where(Rule.active.is_(True), Rule.kind == "event", Rule.valid_to.is_(None), Rule.points >= remaining)
        .order_by(Rule.points, Rule.id)
        .limit(1)
    )


def _path_of(endpoint: str, fallback: str) -> str:
    """The path of a page, also outside a request (the worker has none)."""
    try:
        return current_app.url_map.bind("localhost").build(endpoint)
    except Exception:  # the page's area may not be installed
        return fallback


def schedule_reminders(now: dt.datetime) -> int:
    """Queue the weekly-goal reminders (Friday afternoon) and rank nudges (Thursday afternoon).

    Each is queued at most once per user and week (a dedupe key) and only for
    users who want that kind; quiet hours are applied at delivery. Returns how
    many were queued.
    """
    local = periods.local(now)
    week = periods.period_key("week", now)
    jobs = []
    if _in_window(local, GOAL_REMINDER_DAY):
        jobs.append(("reminder", "goal"))
    if _in_window(local, RANK_NUDGE_DAY):
        jobs.append(("rank_nudge", "rank"))
    queued = 0
    for kind, prefix in jobs:
        done = set(
            db.session.scalars(sa.select(Notification.dedupe_key).where(Notification.dedupe_key.like(f"{prefix}:%:{week}")))
        )
        opted_out = set(
            db.session.scalars(
                sa.select(NotificationPreference.user_id).where(
                    getattr(NotificationPreference, notify.PREFERENCE_OF_KIND[kind]).is_(False)
                )
            )
        )
        users = list(db.session.scalars(sa.select(User).where(User.is_active_account.is_(True)).order_by(User.id)))
        # One query per job, not per user: goal statuses and standings in bulk.
        goal_of = goals.statuses(users) if kind == "reminder" else {}
        standing_of = leaderboard.standings("week") if kind == "rank_nudge" else {}
        for user in users:
            key = f"{prefix}:{user.id}:{week}"
            if key in done or user.id in opted_out:
                continue
            if kind == "reminder":
                status = goal_of[user.id]
                if status.weekly_points <= 0 or status.remaining <= 0:
                    continue
                params = {"remaining": status.remaining}
                if action := _one_more_action(status.remaining):
                    params["action"] = action
                notify.queue(user.id, kind, "goal_reminder", params, url="/wallet", dedupe_key=key)
            else:
                standing = standing_of.get(user.id)
                if standing is None or standing.rank <= 3 or not 0 < standing.gap_to_top3 <= RANK_NUDGE_MAX_GAP:
                    continue
                url = _path_of("recognition.leaderboard", "/")
                notify.queue(user.id, kind, "rank_nudge", {"gap": standing.gap_to_top3}, url=url, dedupe_key=key)
            queued += 1
    return queued
