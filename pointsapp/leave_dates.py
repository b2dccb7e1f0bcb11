"""Dates of leave and remote-day redemptions: which days are asked for, never in the past, never twice.

A redemption of a dated kind may carry its first and last day (inclusive, the
organisation's calendar); the number of days is then the quantity. Another
pending or approved dated redemption of the same person that shares a day is
refused. Callers hold the reward's lock and lock the person's wallet row here,
so two overlapping requests cannot both pass the check.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Redemption, Reward, Wallet
from pointsapp.periods import local, utcnow

DATED_KINDS = ("leave_day", "remote_day")
MAX_DAYS = 30
MAX_DAYS_AHEAD = 366  # leave is asked for within the coming year; 9999-12-31 is a typo, not a plan
LIVE_STATUSES = ("pending", "approved")


class DatesOverlap(ValidationFailed):
    """The days asked for overlap another leave or remote-day request of the same person."""

    code = "dates_overlap"


def days_of(starts_on: dt.date, ends_on: dt.date) -> int:
    return (ends_on - starts_on).days + 1


def check_days(
    reward: Reward, starts_on: dt.date | None, ends_on: dt.date | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """The (first, last) day asked for, checked: a dated kind, from today to MAX_DAYS_AHEAD, in order, at most MAX_DAYS."""
    if reward.kind not in DATED_KINDS:
        raise ValidationFailed(
            _("Only leave and remote days take dates."), fields={"starts_on": [_("Only leave and remote days take dates.")]}
        )
    if starts_on is None:
        raise ValidationFailed(_("Choose the first day."), fields={"starts_on": [_("Choose the first day.")]})
    ends_on = ends_on or starts_on
    today = today or local(utcnow()).date()
    if starts_on < today:
        raise ValidationFailed(_("The first day cannot be in the past."), fields={"starts_on": [_("Pick today or a later day.")]})
    if (starts_on - today).days > MAX_DAYS_AHEAD:
        raise ValidationFailed(
            _("The first day can be at most %(days)d days ahead.", days=MAX_DAYS_AHEAD),
            fields={"starts_on": [_("At most %(days)d days ahead.", days=MAX_DAYS_AHEAD)]},
        )
    if ends_on < starts_on:
        raise ValidationFailed(
            _("The last day cannot be before the first day."), fields={"ends_on": [_("Pick the first day or a later one.")]}
        )
    if days_of(starts_on, ends_on) > MAX_DAYS:
        raise ValidationFailed(
            _("Ask for at most %(max)d days at once.", max=MAX_DAYS),
            fields={"ends_on": [_("At most %(max)d days.", max=MAX_DAYS)]},
        )
    return starts_on, ends_on


def overlapping(user_id: int, starts_on: dt.date, ends_on: dt.date) -> Redemption | None:
    """A live leave or remote-day request of the person that shares a day with these, if any."""
    return db.session.scalar(
        sa.select(Redemption)
        .join(Reward, Reward.id == Redemption.reward_id)
        .where(
            Redemption.user_id == user_id,
            Redemption.status.in_(LIVE_STATUSES),
            Reward.kind.in_(DATED_KINDS),
            Redemption.starts_on <= ends_on,
            Redemption.ends_on >= starts_on,
        )
        .limit(1)
    )


def overlap_message(clash: Redemption) -> str:
    return _(
        "You already asked for %(first)s to %(last)s; choose days that do not overlap.",
        first=clash.starts_on.isoformat(),
        last=clash.ends_on.isoformat(),
    )


def refuse_overlap(user_id: int, starts_on: dt.date, ends_on: dt.date) -> None:
    """Lock the person's wallet row, then refuse days that a live leave or remote-day request already covers."""
    db.session.execute(sa.select(Wallet.user_id).where(Wallet.user_id == user_id).with_for_update())
    if (clash := overlapping(user_id, starts_on, ends_on)) is not None:
        message = overlap_message(clash)
        raise DatesOverlap(message, fields={"starts_on": [message]})
