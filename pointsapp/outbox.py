"""The outbox worker: deliver queued notifications by Web Push and WeCom, exactly once per channel.

``deliver_due`` leases due notification rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's IMMEDIATE transactions serialise workers), writes a
``PushDelivery`` row per subscription *before* sending (the unique pair makes a
second copy impossible), sends through ``push.send`` and settles each
notification after the attempt: sent, retried later with backoff (5xx, 429
Retry-After), or failed after ``MAX_ATTEMPTS``; a subscription answered 404 or
410 is deleted. Preferences and quiet hours come from ``notify``.

The lease (``claimed_until``) is short, ``LEASE``, and renewed before each
notification of a batch and before each send, so a crashed worker's rows go to
another worker within a minute. A subscription whose endpoint no longer passes
the rules in force now (``PUSH_ENDPOINT_ALLOWLIST`` changed since it was saved)
is skipped, not contacted and kept, so restoring the rule brings it back.

WeCom goes the same way: a ``WecomDelivery`` row (one per notification) is
committed before ``wecom.send_text`` is called, so a worker that dies mid-send
never sends a second copy; a busy answer deletes the row and retries the
notification with the same backoff.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import random

import sqlalchemy as sa
from flask import current_app

from pointsapp import notify, push, wecom
from pointsapp.extensions import db
from pointsapp.models import Notification, PushSubscription, User
from pointsapp.models.notify import PushDelivery, WecomDelivery
from pointsapp.periods import utcnow

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)  # renewed while working; a crash delays a message by at most this
BATCH_SIZE = 50
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS, BACKOFF_MAX_SECONDS = 30, 3600
MAX_PAYLOAD_BYTES = 3993  # what every push service accepts after encryption overhead
URGENCY = {"redemption": "high", "award": "normal", "challenge": "normal", "reminder": "normal"}
TTL_SECONDS = {"reminder": 6 * 3600, "rank_nudge": 12 * 3600, "award": 24 * 3600}
DEFAULT_TTL_SECONDS = 3 * 24 * 3600
# A reminder that waited out someone's quiet hours into the next day is noise.
STALE_AFTER = {"reminder": dt.timedelta(hours=8), "rank_nudge": dt.timedelta(hours=12)}


@dataclasses.dataclass
class DeliveryReport:
    sent: int = 0
    gone: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    refused: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in dataclasses.asdict(self).items())


def build_payload(notification, user) -> str:
    """The JSON the service worker shows, in the recipient's language, at most 3,993 bytes."""

    title, body = notify.render_for(notification, user)
    fields = {"title": title, "body": body}

    def encode() -> str:
        return json.dumps(
            {
                "id": notification.id,
                "kind": notification.kind,
                **fields,
                "url": notification.url,
                "tag": f"notification-{notification.id}",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    payload = encode()
    for name in ("body", "title"):  # shorten the body first, the title only if that was not enough
        while len(payload.encode()) > MAX_PAYLOAD_BYTES and fields[name]:
            size = len(payload.encode())
            keep = max(0, len(fields[name]) * MAX_PAYLOAD_BYTES // size - 2)
            fields[name] = fields[name][:keep].rstrip("…") + "…" if keep else ""
            payload = encode()
    return payload


def claim_due(now: dt.datetime, *, upto_id: int | None = None, limit: int = BATCH_SIZE) -> list[int]:
    """Lease due notifications to this worker and commit; return their ids.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets workers claim disjoint rows.
    SQLite: the worker's transaction begins IMMEDIATE, so claims serialize.
    The lease outlives a crash only until ``claimed_until``.
    """

    stmt = (
        sa.select(Notification.id)
        .where(
            Notification.status == "queued",
            sa.or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            sa.or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if upto_id is not None:
        stmt = stmt.where(Notification.id <= upto_id)
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(sa.update(Notification).where(Notification.id.in_(ids)).values(claimed_until=now + LEASE))
    db.session.commit()
    return ids


def deliver_due(*, once: bool = False, now: dt.datetime | None = None) -> DeliveryReport:
    """Deliver every notification due now; with ``once``, only those queued when called."""

    report = DeliveryReport()
    clock = (lambda: now) if now is not None else utcnow
    upto_id = db.session.scalar(sa.select(sa.func.max(Notification.id))) if once else None
    db.session.commit()
    while ids := claim_due(clock(), upto_id=upto_id):
        for position, notification_id in enumerate(ids):
            rest = ids[position:]
            renew_lease(rest, clock())
            try:
                _deliver_one(notification_id, clock, report, keep_alive=lambda rest=rest: renew_lease(rest, clock()))
            except Exception:  # one bad row must not stop the queue
                db.session.rollback()
                log.exception("notification %s could not be delivered", notification_id)
                _finish(db.session.get(Notification, notification_id), clock(), report, retry=True, error="worker error")
                db.session.commit()
    return report


def renew_lease(ids: list[int], now: dt.datetime) -> None:
    """Extend this worker's lease on still-queued notifications by ``LEASE`` from now, and commit."""

    db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_(ids), Notification.status == "queued", Notification.claimed_until.is_not(None))
        .values(claimed_until=now + LEASE)
    )
    db.session.commit()


def _deliver_one(notification_id: int, clock, report: DeliveryReport, *, keep_alive) -> None:
    """Send one leased notification to each of its recipient's subscriptions (and WeCom), then settle it."""

    now = clock()

    notification = db.session.get(Notification, notification_id)
    user = db.session.get(User, notification.user_id)
    prefs = notify.preferences(user.id)
    stale = STALE_AFTER.get(notification.kind)
    if (
        not user.is_active_account
        or not notify.wants_push(prefs, notification.kind)
        or (stale and now - notification.created_at > stale)
    ):
        report.skipped += 1
        return _finish(notification, now, report, retry=False)
    if until := notify.quiet_until(prefs, now):
        notification.next_attempt_at, notification.claimed_until = until, None
        report.deferred += 1
        return db.session.commit()
    done = sa.select(PushDelivery.subscription_id).where(PushDelivery.notification_id == notification.id)
    subscriptions = (
        []
        if not prefs.web_push
        else list(
            db.session.scalars(
                sa.select(PushSubscription)
                .where(PushSubscription.user_id == user.id, PushSubscription.id.not_in(done))
                .order_by(PushSubscription.id)
            )
        )
    )
    payload = build_payload(notification, user) if subscriptions else ""
    retry, retry_at = False, None
    if prefs.wecom and user.wecom_userid and wecom.configured():
        retry = _deliver_wecom(notification, user, report)
    for subscription in subscriptions:
        if subscription.expires_at is not None and subscription.expires_at <= now:
            notify.delete_subscription(subscription.id)
            db.session.commit()
            continue
        if not push.allowed_now(subscription.endpoint):
            report.refused += 1  # saved under an older allowlist: skipped, never contacted
            log.warning("subscription %s no longer allowed by PUSH_ENDPOINT_ALLOWLIST; skipped", subscription.id)
            continue
        keep_alive()  # a send may take seconds: keep this batch's rows ours
        delivery = _claim_delivery(notification.id, subscription.id)
        if delivery is None:
            continue  # another worker has it
        result = push.send(
            subscription.endpoint,
            subscription.p256dh,
            subscription.auth,
            payload,
            ttl=TTL_SECONDS.get(notification.kind, DEFAULT_TTL_SECONDS),
            urgency=URGENCY.get(notification.kind, "low"),
        )
        if result.delivered:
            delivery.status, delivery.status_code = "sent", result.status
            db.session.execute(
                sa.update(PushSubscription).where(PushSubscription.id == subscription.id).values(last_success_at=now)
            )
            report.sent += 1
        elif result.refused:
            db.session.delete(delivery)
            report.refused += 1
        elif result.gone:
            notify.delete_subscription(subscription.id)
            report.gone += 1
        elif result.retryable:
            db.session.delete(delivery)  # not delivered: the next attempt may send it
            retry = True
            if result.retry_after is not None:
                later = now + dt.timedelta(seconds=min(result.retry_after, 24 * 3600))
                retry_at = max(retry_at or later, later)
        else:
            delivery.status, delivery.status_code = "failed", result.status
            log.warning("push service refused notification %s with %s", notification.id, result.status)
        db.session.commit()
    _finish(notification, now, report, retry=retry, retry_at=retry_at, error="push service busy" if retry else None)


def _deliver_wecom(notification, user, report: DeliveryReport) -> bool:
    """Send the notification to the user's WeCom account once; return whether to retry later."""

    delivery = WecomDelivery(notification_id=notification.id, wecom_userid=user.wecom_userid, status="sending")
    db.session.add(delivery)
    try:
        db.session.commit()  # before the call: a crash after this point never sends twice
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False  # sent (or being sent) already
    title, body = notify.render_for(notification, user)
    base = current_app.config.get("WECOM_APP_URL")
    result = wecom.send_text(user.wecom_userid, title, body, base.rstrip("/") + notification.url if base else None)
    retry = False
    if result.delivered:
        delivery.status, delivery.errcode, delivery.msgid = "sent", 0, result.msgid
        report.sent += 1
    elif result.retryable:
        db.session.delete(delivery)  # not delivered: the next attempt may send it
        retry = True
    else:
        delivery.status, delivery.errcode = "failed", result.errcode
        log.warning("WeCom refused notification %s with errcode %s", notification.id, result.errcode)
    db.session.commit()
    return retry


def _claim_delivery(notification_id: int, subscription_id: int):
    """Record (and commit) that this subscription is being sent this notification, or None if it was."""

    delivery = PushDelivery(notification_id=notification_id, subscription_id=subscription_id, status="sending")
    db.session.add(delivery)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return None
    return delivery


def _finish(notification, now, report, *, retry: bool, retry_at=None, error: str | None = None) -> None:
    """Settle a notification after an attempt: retry later, give up, or done."""

    notification.claimed_until = None
    if retry:
        notification.attempts += 1
        notification.last_error = error
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = "failed"
            report.failed += 1
        else:
            backoff = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (notification.attempts - 1))
            notification.next_attempt_at = retry_at or now + dt.timedelta(seconds=backoff * random.uniform(1, 1.2))
            report.retried += 1
    else:
        sent = db.session.scalar(
            sa.select(sa.func.count(PushDelivery.id)).where(
                PushDelivery.notification_id == notification.id, PushDelivery.status == "sent"
            )
        ) or db.session.scalar(
            sa.select(sa.func.count(WecomDelivery.id)).where(
                WecomDelivery.notification_id == notification.id, WecomDelivery.status == "sent"
            )
        )
        notification.status = "sent" if sent else "skipped"
        notification.sent_at = now if sent else None
    db.session.commit()
