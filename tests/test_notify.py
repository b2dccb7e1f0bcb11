"""The notification outbox: queueing once per dedupe key, rendering templates."""

from __future__ import annotations

import sqlalchemy as sa

from pointsapp import notify
from pointsapp.extensions import db
from pointsapp.models import Notification


def test_queue_with_a_dedupe_key_queues_once(org):
    first = notify.queue(org.alice.id, "reminder", "goal_reminder", {"remaining": 5}, dedupe_key="goal:x")
    second = notify.queue(org.alice.id, "reminder", "goal_reminder", {"remaining": 4}, dedupe_key="goal:x")
    db.session.commit()

    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1


def test_unknown_templates_render_a_generic_message(org):
    row = notify.queue(org.alice.id, "news", "no_such_template", {})
    broken = notify.queue(org.alice.id, "award", "points_awarded", {})
    assert notify.render(row) == ("pointsapp", "You have a new notification.")
    assert notify.render(broken) == ("pointsapp", "You have a new notification.")
