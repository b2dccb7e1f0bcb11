"""Compliance vetoes: a breach bars the user from period rewards for its quarter.

Granularity: a veto covers the **quarter** (in the organisation's time zone) in
which the breach occurred, and therefore every month and week that overlaps that
quarter, and its year. ``vetoed_user_ids(period, key)`` answers for any period
that overlaps a vetoed quarter. Admins lift a veto with a recorded reason;
reversing the breach event lifts its veto too.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, policy
from pointsapp.errors import InvalidTransition, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Event, User, Veto
from pointsapp.periods import period_bounds, period_key, utcnow

VETO_PERIOD = "quarter"


def veto_for_event(event: Event, reason: str) -> Veto:
    """Veto the event's user for the quarter the breach occurred in."""
    veto = Veto(
        user_id=event.user_id,
        period=VETO_PERIOD,
        period_key=period_key(VETO_PERIOD, event.occurred_at),
        event_id=event.id,
        reason=reason[:500],
        created_at=utcnow(),
    )
    db.session.add(veto)
    db.session.flush()
    return veto


def overlapping_quarters(period: str, key: str) -> set[str]:
    """The quarter keys that overlap a period (a week can straddle two quarters)."""
    start, end = period_bounds(period, key)
    keys = {period_key(VETO_PERIOD, end - dt.timedelta(microseconds=1))}
    moment = start
    while moment < end:  # quarters are longer than 28 days, so none is skipped
        keys.add(period_key(VETO_PERIOD, moment))
        moment += dt.timedelta(days=28)
    return keys


def vetoed_user_ids(period: str, key: str) -> set[int]:
    """Users with an unlifted veto covering any part of the period."""
    try:
        quarters = overlapping_quarters(period, key)
    except ValueError:
        return set()
    return set(
        db.session.scalars(
            sa.select(Veto.user_id).where(Veto.period == VETO_PERIOD, Veto.period_key.in_(quarters), Veto.lifted_at.is_(None))
        )
    )


def active_vetoes(user_id: int) -> list[Veto]:
    """The user's unlifted vetoes, newest first."""
    return list(
        db.session.scalars(
            sa.select(Veto).where(Veto.user_id == user_id, Veto.lifted_at.is_(None)).order_by(Veto.created_at.desc())
        )
    )


def lift_veto(actor: User | None, veto_id: int, reason: str) -> Veto:
    """Lift a veto with a recorded reason (admins)."""
    if actor is not None:
        policy.require(policy.can_lift_veto(actor), _("Only administrators can lift a compliance veto."))
    if not (reason or "").strip():
        raise ValidationFailed(_("Say why the veto is lifted."), fields={"reason": [_("A reason is required.")]})
    veto = db.session.get(Veto, veto_id)
    if veto is None:
        raise NotFound(_("There is no such veto."))
    lifted = db.session.execute(
        sa.update(Veto)
        .where(Veto.id == veto_id, Veto.lifted_at.is_(None))
        .values(lifted_at=utcnow(), lifted_by_id=actor.id if actor else None, lift_reason=reason.strip()[:500])
    ).rowcount
    if lifted != 1:
        raise InvalidTransition(_("This veto has already been lifted."))
    db.session.refresh(veto)
    audit.record(
        actor,
        "veto.lifted",
        "veto",
        veto.id,
        {"user_id": veto.user_id, "period_key": veto.period_key, "reason": veto.lift_reason},
    )
    return veto


def lift_for_event(event_id: int, actor_id: int | None, reason: str) -> None:
    """Lift the vetoes a (now reversed) breach event created."""
    db.session.execute(
        sa.update(Veto)
        .where(Veto.event_id == event_id, Veto.lifted_at.is_(None))
        .values(lifted_at=utcnow(), lifted_by_id=actor_id, lift_reason=reason[:500])
    )
