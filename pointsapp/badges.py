"""Threshold badges: awarded the moment a user's events reach a badge's threshold.

A badge counts a user's events of one ``event_type`` (summing ``quantity``,
reversed events excluded) within one period (week / month / quarter / year of
the event's ``occurred_at``, in the organisation's time zone) or ever. The
check runs as an earning event listener, in the transaction that stores the
event, so the award commits (or rolls back) with it. ``BadgeAward`` is unique
per (badge, user, period_key) — "" for "ever" — so a badge is earned at most
once per period even when two events race.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, names, notify, policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Badge, BadgeAward, Event, Honor, User
from pointsapp.periods import PERIODS, period_bounds, period_key, utcnow

MAX_THRESHOLD = 1_000_000_000  # fits a 32-bit INTEGER column


def create_badge(
    actor: User,
    *,
    name: str,
    description: str = "",
    event_type: str,
    threshold: int,
    period: str | None = None,
    translations: dict | None = None,
) -> Badge:
    """Define a threshold badge (admin)."""
    policy.require(policy.can_manage_badges(actor), _("Only administrators can define badges."))
    fields: dict[str, list[str]] = {}
    name, event_type = (name or "").strip(), (event_type or "").strip()
    if not name:
        fields["name"] = [_("Give the badge a name.")]
    if not event_type:
        fields["event_type"] = [_("Choose which events count.")]
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 < threshold <= MAX_THRESHOLD:
        fields["threshold"] = [
            _("The threshold must be a whole number from 1 to %(MAX_THRESHOLD)s.", MAX_THRESHOLD=MAX_THRESHOLD)
        ]
    if period not in (None, "", *PERIODS):
        fields["period"] = [_("Must be one of: %(value)s, or empty for ever.", value=", ".join(PERIODS))]
    if fields:
        raise ValidationFailed("The badge is not valid: " + " ".join(v[0] for v in fields.values()), fields=fields)
    translations = names.clean_translations(translations)
    badge = Badge(
        name=name[:120],
        description=(description or "").strip()[:500],
        event_type=event_type[:64],
        translations=translations,
        threshold=threshold,
        period=period or None,
        active=True,
    )
    db.session.add(badge)
    db.session.flush()
    audit.record(
        actor,
        "badge.created",
        "badge",
        badge.id,
        {"name": badge.name, "event_type": badge.event_type, "threshold": threshold, "period": badge.period},
    )
    return badge


def list_badges() -> list[Badge]:
    return list(db.session.scalars(sa.select(Badge).where(Badge.active.is_(True)).order_by(Badge.id)))


def _window(badge: Badge, moment: dt.datetime) -> tuple[str, dt.datetime | None, dt.datetime | None]:
    if not badge.period:
        return "", None, None
    key = period_key(badge.period, moment)
    start, end = period_bounds(badge.period, key)
    return key, start, end


def _count(user_id: int, event_type: str, start: dt.datetime | None, end: dt.datetime | None) -> int:
    stmt = sa.select(sa.func.coalesce(sa.func.sum(Event.quantity), 0)).where(
        Event.user_id == user_id, Event.type == event_type, Event.reversed_at.is_(None)
    )
    if start is not None:
        stmt = stmt.where(Event.occurred_at >= start, Event.occurred_at < end)
    return int(db.session.scalar(stmt) or 0)


def check_event(event: Event) -> list[BadgeAward]:
    """Award every badge this event's user has just reached (an earning event listener)."""
    if event.reversed_at is not None:
        return []
    awarded = []
    badges = db.session.scalars(sa.select(Badge).where(Badge.event_type == event.type, Badge.active.is_(True)).order_by(Badge.id))
    for badge in badges:
        key, start, end = _window(badge, event.occurred_at)
        already = db.session.scalar(
            sa.select(BadgeAward.id).where(
                BadgeAward.badge_id == badge.id, BadgeAward.user_id == event.user_id, BadgeAward.period_key == key
            )
        )
        if already is not None or _count(event.user_id, event.type, start, end) < badge.threshold:
            continue
        award = BadgeAward(badge_id=badge.id, user_id=event.user_id, period_key=key, event_id=event.id, awarded_at=utcnow())
        try:
            with db.session.begin_nested():
                db.session.add(award)
                db.session.flush()
        except sa.exc.IntegrityError:
            continue  # a concurrent event awarded it first
        notify.queue(
            event.user_id,
            "badge",
            "badge_earned",
            {"badge_id": badge.id, "name": badge.name, "period_key": key},
            url="/badges",
            dedupe_key=f"badge:{badge.id}:{event.user_id}:{key}",
        )
        awarded.append(award)
    return awarded


def types_with_badges(event_types: set[str]) -> set[str]:
    """The event types among these that an active badge counts (one query)."""
    if not event_types:
        return set()
    return set(db.session.scalars(sa.select(Badge.event_type).where(Badge.event_type.in_(event_types), Badge.active.is_(True))))


def check_events(events: list[Event]) -> list[BadgeAward]:
    """Award the badges a batch of events reached; one query finds the types that have badges at all."""
    with_badges = types_with_badges({event.type for event in events})
    return [award for event in events if event.type in with_badges for award in check_event(event)]


# --- reading ---------------------------------------------------------------------


def user_badges(actor: User, user_id: int) -> list[dict]:
    """Badges and honours a user has earned, newest first (anyone may look)."""
    if db.session.get(User, user_id) is None:
        raise NotFound(_("There is no user %(user_id)s.", user_id=user_id))
    rows = [
        {"badge_id": badge_id, "name": name, "awarded_at": awarded_at, "period_key": key, "kind": "badge"}
        for badge_id, name, awarded_at, key in db.session.execute(
            sa.select(BadgeAward.badge_id, Badge.name, BadgeAward.awarded_at, BadgeAward.period_key)
            .join(Badge, Badge.id == BadgeAward.badge_id)
            .where(BadgeAward.user_id == user_id)
        )
    ]
    rows += [
        {"badge_id": None, "name": title, "awarded_at": awarded_at, "period_key": key, "kind": "honor"}
        for title, awarded_at, key in db.session.execute(
            sa.select(Honor.title, Honor.awarded_at, Honor.period_key).where(Honor.user_id == user_id, Honor.revoked_at.is_(None))
        )
    ]
    return sorted(rows, key=lambda row: row["awarded_at"], reverse=True)


@dataclasses.dataclass(frozen=True)
class BadgeProgress:
    badge: Badge
    value: int
    earned: bool  # in the current period (or ever)
    times_earned: int

    @property
    def percent(self) -> int:
        return min(100, self.value * 100 // self.badge.threshold)


def progress_for(user: User) -> list[BadgeProgress]:
    """Every active badge with my count in the current period and whether I have it."""
    badges = list_badges()
    if not badges:
        return []
    now = utcnow()
    counts: dict[tuple[str, str | None], int] = {}
    for badge in badges:
        combo = (badge.event_type, badge.period)
        if combo not in counts:  # one query per (event type, period), not per badge
            _key, start, end = _window(badge, now)
            counts[combo] = _count(user.id, badge.event_type, start, end)
    awards = db.session.execute(sa.select(BadgeAward.badge_id, BadgeAward.period_key).where(BadgeAward.user_id == user.id)).all()
    result = []
    for badge in badges:
        key = _window(badge, now)[0]
        mine = [k for bid, k in awards if bid == badge.id]
        result.append(BadgeProgress(badge, counts[(badge.event_type, badge.period)], key in mine, len(mine)))
    return sorted(result, key=lambda p: (not p.earned, -p.percent, p.badge.id))
