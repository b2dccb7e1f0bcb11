"""Web Push adapter: VAPID keys, subscription checks, and sending one message.

The only module that imports pywebpush. Everything here is about the wire:
which endpoints we may POST to (never an address a user chose), which keys
are valid P-256 points, and what a push service's answer means. What a message
says, preferences and reminders live in ``notify.py``; the worker's loop
(``deliver_due``) is at the end of this module: it leases due rows, writes a
``PushDelivery`` row per subscription *before* sending (the unique pair makes
a second copy impossible), and settles each notification after the attempt.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import email.utils
import json
import logging
import os
import random
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

log = logging.getLogger(__name__)

# Hosts of the public push services a browser may hand out (exact host, or a
# suffix starting with a dot).
PUBLIC_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    ".push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)
MAX_ENDPOINT_LENGTH = 1024
SEND_TIMEOUT_SECONDS = 10
VAPID_KEY_FILE = "vapid_private_key"


# --- base64url ------------------------------------------------------------------


def b64url_decode(value: str) -> bytes:
    """Decode URL-safe base64 with or without padding; ValueError when it is not."""
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- VAPID keys -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey
    public_key: str  # URL-safe base64 of the uncompressed point

    def __repr__(self) -> str:  # never let the private key reach a log line
        return f"VapidKeys(public_key={self.public_key!r})"


def _private_raw(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def _public_raw(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url_encode(point)


def _load_private(value: str) -> ec.EllipticCurvePrivateKey:
    """A raw 32-byte scalar (base64url, as web-push tools print it) or a base64 DER key."""
    return Vapid.from_string(private_key=value.strip()).private_key


def _key_file_private(instance_path: str) -> str:
    """Read the generated key, or create it once (0600) — safe when two processes race."""
    path = Path(instance_path) / VAPID_KEY_FILE
    if not path.exists():
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{VAPID_KEY_FILE}.{secrets.token_hex(6)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_private_raw(ec.generate_private_key(ec.SECP256R1())) + "\n")
        try:
            os.link(temporary, path)  # atomic: the first process wins, the others read its key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def vapid_keys() -> VapidKeys:
    """Return this deployment's VAPID keys: from the settings, else generated into instance/."""
    app = current_app._get_current_object()
    cached = app.extensions.get("pointsapp_vapid")
    if cached is not None:
        return cached
    configured = app.config.get("VAPID_PRIVATE_KEY")
    private = _load_private(configured or _key_file_private(app.instance_path))
    public = _public_raw(private)
    expected = app.config.get("VAPID_PUBLIC_KEY")
    if expected and b64url_decode(expected) != b64url_decode(public):
        raise RuntimeError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    if expected and not configured:
        raise RuntimeError("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY.")
    keys = app.extensions["pointsapp_vapid"] = VapidKeys(private, public)
    return keys


# --- subscription checks --------------------------------------------------------


def _origin_parts(url: str) -> tuple[str, str, int, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not parts.hostname or parts.username or parts.password:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port, parts.path or "/"


def _matches_prefix(endpoint: str, prefix: str) -> bool:
    """Scheme, host and port equal, and the path under the prefix's (no ``host.evil`` tricks)."""
    got, allowed = _origin_parts(endpoint), _origin_parts(prefix)
    if got is None or allowed is None or got[:3] != allowed[:3]:
        return False
    base = allowed[3] if allowed[3].endswith("/") else allowed[3] + "/"
    return got[3] == allowed[3] or got[3].startswith(base)


def endpoint_problem(endpoint: object, allowlist: list[str] | None) -> str | None:
    """Why this endpoint is refused, or None when the server may POST to it."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        return "An endpoint URL is required."
    if len(endpoint) > MAX_ENDPOINT_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in endpoint):
        return "This is not a push endpoint URL."
    if allowlist and any(_matches_prefix(endpoint, prefix) for prefix in allowlist):
        return None
    parts = _origin_parts(endpoint)
    if parts is None or parts[0] != "https" or parts[2] != 443:
        return "Only https:// endpoints of a public push service are accepted."
    host = parts[1]
    if any(host == name or (name.startswith(".") and host.endswith(name)) for name in PUBLIC_PUSH_HOSTS):
        return None
    return "This endpoint does not belong to a known push service."


def key_problems(p256dh: object, auth: object) -> dict[str, list[str]]:
    """Field errors for the subscription's keys (empty when both are valid)."""
    problems: dict[str, list[str]] = {}
    try:
        point = b64url_decode(p256dh)  # type: ignore[arg-type]
        if len(point) != 65 or point[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        problems["p256dh"] = ["Must be a URL-safe base64 uncompressed P-256 public key (65 bytes)."]
    try:
        if len(b64url_decode(auth)) != 16:  # type: ignore[arg-type]
            raise ValueError
    except (ValueError, TypeError):
        problems["auth"] = ["Must be a URL-safe base64 16-byte authentication secret."]
    return problems


# --- sending --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PushResult:
    """What the push service answered; status 0 when it could not be reached."""

    status: int
    retry_after: int | None = None

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)

    @property
    def retryable(self) -> bool:
        return self.status == 0 or self.status == 429 or self.status >= 500


def _retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((moment - dt.datetime.now(dt.timezone.utc)).total_seconds()))


def send(endpoint: str, p256dh: str, auth: str, payload: str, *, ttl: int, urgency: str) -> PushResult:
    """Encrypt (aes128gcm) and POST one message to a subscription, signed with our VAPID key."""
    keys = vapid_keys()
    vapid = Vapid(private_key=keys.private_key)
    # pywebpush writes "aud" and "exp" into the claims it is given: a fresh dict
    # per call, or one endpoint's audience would leak into the next one's token.
    claims = {"sub": current_app.config["VAPID_SUBJECT"]}
    try:
        response = webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=payload,
            vapid_private_key=vapid,
            vapid_claims=claims,
            ttl=ttl,
            timeout=SEND_TIMEOUT_SECONDS,
            headers={"Urgency": urgency},
        )
    except WebPushException as error:
        if error.response is None:
            log.warning("push to %s failed before an answer", urlsplit(endpoint).hostname)
            return PushResult(0)
        return PushResult(error.response.status_code, _retry_after(error.response.headers.get("Retry-After")))
    except requests.RequestException as error:
        log.warning("push service %s unreachable: %s", urlsplit(endpoint).hostname, type(error).__name__)
        return PushResult(0)
    return PushResult(response.status_code)


# --- the worker: deliver the outbox ---------------------------------------------

LEASE = dt.timedelta(minutes=5)
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

    def __str__(self) -> str:
        return ", ".join(f"{name} {value}" for name, value in dataclasses.asdict(self).items())


def build_payload(notification, user) -> str:
    """The JSON the service worker shows, in the recipient's language, at most 3,993 bytes."""
    from pointsapp import notify

    title, body = notify.render_for(notification, user)
    fields = {"title": title, "body": body}

    def encode() -> str:
        return json.dumps(
            {"id": notification.id, "kind": notification.kind, **fields, "url": notification.url,
             "tag": f"notification-{notification.id}"},
            ensure_ascii=False, separators=(",", ":"),
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
    from pointsapp.extensions import db
    from pointsapp.models import Notification

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
    from pointsapp.extensions import db
    from pointsapp.models import Notification

    report = DeliveryReport()
    clock = (lambda: now) if now is not None else _utcnow
    upto_id = db.session.scalar(sa.select(sa.func.max(Notification.id))) if once else None
    db.session.commit()
    while ids := claim_due(clock(), upto_id=upto_id):
        for notification_id in ids:
            try:
                _deliver_one(notification_id, clock(), report)
            except Exception:  # one bad row must not stop the queue
                db.session.rollback()
                log.exception("notification %s could not be delivered", notification_id)
                _finish(db.session.get(Notification, notification_id), clock(), report, retry=True, error="worker error")
                db.session.commit()
    return report


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _deliver_one(notification_id: int, now: dt.datetime, report: DeliveryReport) -> None:
    from pointsapp import notify
    from pointsapp.extensions import db
    from pointsapp.models import Notification, PushSubscription, User
    from pointsapp.models.notify import PushDelivery

    notification = db.session.get(Notification, notification_id)
    user = db.session.get(User, notification.user_id)
    prefs = notify.preferences(user.id)
    stale = STALE_AFTER.get(notification.kind)
    if not user.is_active_account or not notify.wants_push(prefs, notification.kind) or (
        stale and now - notification.created_at > stale
    ):
        report.skipped += 1
        return _finish(notification, now, report, retry=False)
    if until := notify.quiet_until(prefs, now):
        notification.next_attempt_at, notification.claimed_until = until, None
        report.deferred += 1
        return db.session.commit()
    done = sa.select(PushDelivery.subscription_id).where(PushDelivery.notification_id == notification.id)
    subscriptions = list(
        db.session.scalars(
            sa.select(PushSubscription)
            .where(PushSubscription.user_id == user.id, PushSubscription.id.not_in(done))
            .order_by(PushSubscription.id)
        )
    )
    payload = build_payload(notification, user)
    retry, retry_at = False, None
    for subscription in subscriptions:
        if subscription.expires_at is not None and subscription.expires_at <= now:
            notify.delete_subscription(subscription.id)
            db.session.commit()
            continue
        delivery = _claim_delivery(notification.id, subscription.id)
        if delivery is None:
            continue  # another worker has it
        result = send(
            subscription.endpoint, subscription.p256dh, subscription.auth, payload,
            ttl=TTL_SECONDS.get(notification.kind, DEFAULT_TTL_SECONDS),
            urgency=URGENCY.get(notification.kind, "low"),
        )
        if result.delivered:
            delivery.status, delivery.status_code = "sent", result.status
            db.session.execute(
                sa.update(PushSubscription).where(PushSubscription.id == subscription.id).values(last_success_at=now)
            )
            report.sent += 1
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


def _claim_delivery(notification_id: int, subscription_id: int):
    """Record (and commit) that this subscription is being sent this notification, or None if it was."""
    from pointsapp.extensions import db
    from pointsapp.models.notify import PushDelivery

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
    from pointsapp.extensions import db
    from pointsapp.models.notify import PushDelivery

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
        )
        notification.status = "sent" if sent else "skipped"
        notification.sent_at = now if sent else None
    db.session.commit()
