"""Notifications: the outbox, what each message says, preferences, subscriptions, reminders.

A notification is a row written in the transaction of the change it
announces (``queue``); the push worker (``outbox.deliver_due``) sends it
afterwards, so a slow push service never slows or rolls back the change
itself. The same rows are the in-app notification list, for users who never
turn push on. Messages are stored as a template id and parameters and are
rendered in the reader's language when shown or sent.
"""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from pointsapp import bulk, names, pagination, periods, push
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Badge, Notification, NotificationPreference, PushSubscription, Redemption, User
from pointsapp.models.notify import PushDelivery

log = logging.getLogger(__name__)

# Notification kind -> the preference column that switches its push on or off.
PREFERENCE_OF_KIND = {
    "award": "awards",
    "redemption": "redemptions",
    "challenge": "challenges",
    "badge": "badges",
    "reminder": "reminders",
    "rank_nudge": "rank_nudges",
}
PREFERENCE_FIELDS = tuple(PREFERENCE_OF_KIND.values())
CHANNEL_FIELDS = ("web_push", "wecom")  # where notifications go; both on until the user says otherwise
MAX_SUBSCRIPTIONS_PER_USER = 10
PAGE_SIZE = 20


# --- the outbox -----------------------------------------------------------------


def queue(
    user_id: int,
    kind: str,
    template: str,
    params: dict | None = None,
    *,
    url: str = "/",
    dedupe_key: str | None = None,
) -> Notification:
    """Queue a notification for a user; rendered in their language when delivered.

    With a ``dedupe_key`` the notification is queued once: a second call (even
    a concurrent one) returns the first row and leaves the caller's
    transaction intact.
    """
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Notification).where(Notification.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    notification = Notification(
        user_id=user_id, kind=kind, template=template, params=params or {}, url=url, dedupe_key=dedupe_key
    )
    if dedupe_key is None:
        db.session.add(notification)
        db.session.flush()
        return notification
    try:
        with db.session.begin_nested():
            db.session.add(notification)
    except sa.exc.IntegrityError:
        return db.session.scalar(sa.select(Notification).where(Notification.dedupe_key == dedupe_key))
    return notification


def queue_many(kind: str, template: str, items: list[tuple[int, dict]], *, url: str = "/") -> None:
    """Queue one notification per (user_id, params) in one multi-row insert (an ingestion batch).

    A Core insert on the table, not the ORM's bulk insert: no objects are wanted
    back. Every column a default would fill is given, so none is computed row by row.
    """
    if items:
        now = periods.utcnow()
        _NOTIFICATION_ROWS.execute([(user_id, kind, template, params, url, "queued", 0, now) for user_id, params in items])


_NOTIFICATION_ROWS = bulk.Many.insert(
    Notification.__table__, ("user_id", "kind", "template", "params", "url", "status", "attempts", "created_at")
)


# --- what each message says -----------------------------------------------------


def _with_reason(text: str, params: dict) -> str:
    reason = params.get("reason")
    return _("%(text)s Reason: %(reason)s", text=text, reason=reason) if reason else text


def _points_awarded(p: dict) -> tuple[str, str]:
    reason = names.reason_text(p.get("reason") or "")
    return _("You earned %(points)s points", points=p["points"]), reason or _("Open your wallet to see it.")


def _badge_name(p: dict) -> str:
    """The badge's name in the reader's language (the stored one is the base name)."""
    badge = None if names.reads_base_language() or not p.get("badge_id") else db.session.get(Badge, p["badge_id"])
    return names.localized(badge) if badge is not None else p["name"]


def _reward_name(p: dict) -> str:
    """The reward's name in the reader's language (the stored one is the base name)."""
    wanted = not names.reads_base_language() and p.get("redemption_id")
    redemption = db.session.get(Redemption, p["redemption_id"]) if wanted else None
    return names.localized(redemption.reward) if redemption is not None else p["reward"]


def _redemption(decision: str):
    def render(p: dict) -> tuple[str, str]:
        p = p | {"reward": _reward_name(p)}
        if decision == "approved":
            return _("Reward approved"), _with_reason(_("%(reward)s is yours. Enjoy it!", reward=p["reward"]), p)
        if decision == "rejected":
            title = _("Reward not approved")
            return title, _with_reason(_("%(reward)s was not approved; your points are back.", reward=p["reward"]), p)
        title = _("Reward request expired")
        return title, _("%(reward)s expired before a decision; your points are back.", reward=p["reward"])

    return render


def _title(p: dict) -> str:
    """A challenge's title in the reader's language (``titles`` by language), else the base title."""
    return (p.get("titles") or {}).get(names.reader_language()) or p["title"]


def _challenge_launched(p: dict) -> tuple[str, str]:
    body = _("A new team challenge is on. Let's go!")
    if p.get("points"):
        body = _("A new team challenge is on: %(points)s points for the team. Let's go!", points=p["points"])
    return _("Challenge launched: %(title)s", title=_title(p)), body


def _challenge_closed(p: dict) -> tuple[str, str]:
    body = _("The challenge is over. See how the team did.")
    if p.get("points"):
        body = _("The challenge is over. Your share: %(points)s points.", points=p["points"])
    return _("Challenge closed: %(title)s", title=_title(p)), body


def _challenge_restated(p: dict) -> tuple[str, str]:
    if p.get("status") == "failed":
        body = _("A correction put the team below target: your %(before)s points from the pool are reversed.", before=p["before"])
    else:
        body = _(
            "A correction changed the split: your share is now %(after)s points (was %(before)s).",
            after=p["after"],
            before=p["before"],
        )
    return _("Challenge restated: %(title)s", title=_title(p)), _with_reason(body, p)


def _goal_reminder(p: dict) -> tuple[str, str]:
    if p.get("action"):
        body = _(
            "%(remaining)s points short of your weekly goal — one more %(action)s does it.",
            remaining=p["remaining"],
            action=p["action"],
        )
    else:
        body = _("%(remaining)s points short of your weekly goal — you can still make it.", remaining=p["remaining"])
    return _("Your weekly goal"), body


MESSAGES = {
    "points_awarded": _points_awarded,
    "redemption_approved": _redemption("approved"),
    "redemption_rejected": _redemption("rejected"),
    "redemption_expired": _redemption("expired"),
    "challenge_launched": _challenge_launched,
    "challenge_closed": _challenge_closed,
    "challenge_restated": _challenge_restated,
    "badge_earned": lambda p: (_("New badge: %(name)s", name=_badge_name(p)), _("You earned a badge. Well done!")),
    "honour_awarded": lambda p: (_("Honour: %(title)s", title=p["title"]), _("You have been honoured. Congratulations!")),
    "goal_reminder": _goal_reminder,
    "rank_nudge": lambda p: (_("Almost in the top 3"), _("%(gap)s points from the top 3 this week.", gap=p["gap"])),
}


def render(notification: Notification) -> tuple[str, str]:
    """Return (title, body) of a notification in the current language."""
    renderer = MESSAGES.get(notification.template)
    try:
        if renderer is not None:
            return renderer(notification.params or {})
    except (KeyError, TypeError, ValueError):
        log.warning("notification %s: bad params for %s", notification.id, notification.template)
    return _("pointsapp"), _("You have a new notification.")


def render_for(notification: Notification, user: User) -> tuple[str, str]:
    """Return (title, body) in the recipient's own language (English unless they chose another)."""
    locale = user.locale if user.locale in current_app.config["LANGUAGES"] else "en"
    with force_locale(locale):
        return render(notification)


# --- in-app list ----------------------------------------------------------------


def notifications_page(user: User, cursor: str | None, limit: int = PAGE_SIZE):
    """Return (notifications, next_cursor) of a user, newest first."""
    stmt = sa.select(Notification).where(Notification.user_id == user.id)
    return pagination.keyset_page(stmt, Notification, limit=limit, cursor=cursor)


def unread_count(user: User) -> int:
    """Count a user's unread notifications (every page's layout shows it: read from the index alone, at the driver's pace)."""
    return _UNREAD.first(user.id)[0]


def unread_of(user_id) -> sa.ColumnElement[bool]:
    """The notifications of ``user_id`` (a value, a parameter or a column) not yet read: what every unread count counts."""
    table = Notification.__table__
    return sa.and_(table.c.user_id == user_id, table.c.read_at.is_(None))


_UNREAD = bulk.Lookup(sa.select(sa.func.count()).where(unread_of(sa.bindparam("user_id"))), ("user_id",))


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of my notifications as read (404 for anyone else's)."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(_("There is no such notification."))
    if notification.read_at is None:
        notification.read_at = periods.utcnow()
    return notification


def mark_all_read(user: User) -> int:
    """Mark all my notifications as read; return how many were unread."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=periods.utcnow())
    )
    return result.rowcount


# --- preferences and quiet hours ------------------------------------------------


def preferences(user_id: int) -> NotificationPreference:
    """Return a user's preferences (the defaults, unsaved, when they never set any)."""
    row = db.session.get(NotificationPreference, user_id)
    if row is None:
        row = NotificationPreference(user_id=user_id, **{name: True for name in PREFERENCE_FIELDS + CHANNEL_FIELDS})
    return row


def update_preferences(
    user: User,
    kinds: dict[str, bool],
    quiet_start: dt.time | None,
    quiet_end: dt.time | None,
    channels: dict[str, bool] | None = None,
) -> NotificationPreference:
    """Save which kinds I want pushed, on which channels, and my quiet hours (both times, or neither)."""
    if (quiet_start is None) != (quiet_end is None):
        missing = "quiet_end" if quiet_end is None else "quiet_start"
        raise ValidationFailed(
            _("Give both the start and the end of your quiet hours, or neither."),
            fields={missing: [_("Required when the other quiet-hours time is set.")]},
        )
    if quiet_start is not None and quiet_start == quiet_end:
        raise ValidationFailed(
            _("Quiet hours must start and end at different times."),
            fields={"quiet_end": [_("Must differ from the start.")]},
        )
    row = db.session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id)
        db.session.add(row)
    for name in PREFERENCE_FIELDS:
        setattr(row, name, bool(kinds.get(name, False)))
    for name in CHANNEL_FIELDS:
        if channels is not None:
            setattr(row, name, bool(channels.get(name, False)))
        elif getattr(row, name) is None:  # a new row keeps both channels on
            setattr(row, name, True)
    row.quiet_start, row.quiet_end = quiet_start, quiet_end
    db.session.flush()
    return row


def wants_push(prefs: NotificationPreference, kind: str) -> bool:
    column = PREFERENCE_OF_KIND.get(kind)
    return column is None or bool(getattr(prefs, column))


def quiet_until(prefs: NotificationPreference, now: dt.datetime) -> dt.datetime | None:
    """When the quiet hours around ``now`` end (UTC), or None when it is not quiet now."""
    start, end = prefs.quiet_start, prefs.quiet_end
    if start is None or end is None or start == end:
        return None
    tz = periods.org_timezone()
    local = periods.local(now, tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        quiet = start <= clock < end
    else:  # over midnight, e.g. 22:00–07:00
        quiet = clock >= start or clock < end
    if not quiet:
        return None
    day = local.date() if clock < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tz).astimezone(dt.timezone.utc)


# --- subscriptions --------------------------------------------------------------


def subscribe(
    user: User, endpoint: str, p256dh: str, auth: str, *, expiration_ms: int | None = None, user_agent: str | None = None
) -> tuple[PushSubscription, bool]:
    """Save this browser's push subscription for me; return (subscription, created)."""
    problem = push.endpoint_problem(endpoint, current_app.config.get("PUSH_ENDPOINT_ALLOWLIST"))
    if problem:
        raise ValidationFailed(problem, fields={"endpoint": [problem]})
    if problems := push.key_problems(p256dh, auth):
        raise ValidationFailed(_("The subscription keys are not valid."), fields={"keys": problems})
    expires_at = None
    if expiration_ms:
        expires_at = dt.datetime.fromtimestamp(expiration_ms / 1000, dt.timezone.utc)
    row = db.session.scalar(sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint))
    created = row is None
    if created:
        row = PushSubscription(endpoint=endpoint)
        db.session.add(row)
    # One browser, one owner: whoever subscribes it last receives its pushes.
    row.user_id, row.p256dh, row.auth, row.expires_at = user.id, p256dh, auth, expires_at
    row.user_agent = (user_agent or "")[:200] or None
    db.session.flush()
    _trim_subscriptions(user.id)
    return row, created


def _trim_subscriptions(user_id: int) -> None:
    """Keep a user's newest subscriptions only: old phones never unsubscribe."""
    stale = db.session.scalars(
        sa.select(PushSubscription.id)
        .where(PushSubscription.user_id == user_id)
        .order_by(PushSubscription.id.desc())
        .offset(MAX_SUBSCRIPTIONS_PER_USER)
    ).all()
    for subscription_id in stale:
        delete_subscription(subscription_id)


def unsubscribe(user: User, endpoint: str) -> bool:
    """Forget my subscription for this endpoint; return whether there was one."""
    row = db.session.scalar(
        sa.select(PushSubscription).where(PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id)
    )
    if row is None:
        return False
    delete_subscription(row.id)
    return True


def delete_subscription(subscription_id: int) -> None:
    """Delete a subscription and its delivery records."""
    db.session.execute(sa.delete(PushDelivery).where(PushDelivery.subscription_id == subscription_id))
    db.session.execute(sa.delete(PushSubscription).where(PushSubscription.id == subscription_id))


def subscriptions_of(user: User) -> list[PushSubscription]:
    return list(db.session.scalars(sa.select(PushSubscription).where(PushSubscription.user_id == user.id)))
