"""The notification outbox: rows written in the transaction of the change they announce.

Delivery (Web Push) happens later, in the push worker; a slow push service
never slows or rolls back the change itself.
"""

from __future__ import annotations

from pointsapp.extensions import db
from pointsapp.models import Notification


def queue(
    user_id: int,
    kind: str,
    template: str,
    params: dict | None = None,
    *,
    url: str = "/",
    dedupe_key: str | None = None,
) -> Notification:
    """Queue a notification for a user; rendered in their language when delivered."""
    notification = Notification(
        user_id=user_id, kind=kind, template=template, params=params or {}, url=url, dedupe_key=dedupe_key
    )
    db.session.add(notification)
    db.session.flush()
    return notification
