"""Honour titles: named by admins, or by the monthly "Best customer manager" run.

A title is held once per (user, title, period_key), and only for a period that
has ended (``period_not_ended`` otherwise). Users under a compliance veto for
the period get no honour; a breach found later revokes it (``revoked_at``). ``award_best_managers`` names, in each
team, the employee with the most points in the period (from the rollups);
when several share the top score they are all named. A team that already
has the title for the period is skipped, so running it twice changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, challenges, earning, notify, policy
from pointsapp.errors import Duplicate, NotFound, PeriodNotEnded, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import Challenge, Honor, PeriodTotal, User
from pointsapp.periods import PERIODS, period_bounds, period_of_key, utcnow

BEST_MANAGER = "Best customer manager"
TEAM_CONTRIBUTION = "Team contribution"


def require_period_ended(key: str) -> None:
    """Refuse honours for a week, month, quarter or year that is not over (PeriodNotEnded)."""
    kind = period_of_key(key)
    if kind is None:
        return
    try:
        start, end = period_bounds(kind, key)
    except ValueError:  # at the calendar's edges: 9999-12 ends after it (so it has not ended), 0001-01 starts before it
        if int(key[:4]) < 9999:
            raise _out_of_range(key) from None
        end = None
    else:
        if start < earning.EARLIEST_OCCURRED_AT:  # no event can fall in it, as none may be posted before then
            raise _out_of_range(key)
    if end is None or end > utcnow():
        raise PeriodNotEnded(
            _("%(key)s has not ended yet; honours are given once the period is over.", key=key),
            fields={"period_key": [_("Not over yet.")]},
        )


def _out_of_range(key: str) -> ValidationFailed:
    return ValidationFailed(
        _("%(key)s is before 2000, when the points records begin.", key=key), fields={"period_key": [_("Out of range.")]}
    )


def _vetoed(user_id: int, key: str) -> bool:
    kind = period_of_key(key)
    return kind is not None and user_id in earning.vetoed_user_ids(kind, key)


def _grant(user: User, title: str, key: str, *, actor: User | None, team_id: int | None) -> Honor:
    honor = Honor(user_id=user.id, title=title, period_key=key, team_id=team_id, awarded_by_id=actor.id if actor else None)
    try:
        with db.session.begin_nested():
            db.session.add(honor)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Duplicate(_("%(name)s already holds '%(title)s' for %(key)s.", name=user.name, title=title, key=key)) from None
    audit.record(
        actor, "honor.created", "honor", honor.id, {"user_id": user.id, "title": title, "period_key": key, "team_id": team_id}
    )
    notify.queue(
        user.id,
        "badge",
        "honour_awarded",
        {"title": title, "period_key": key},
        url="/badges",
        dedupe_key=f"honor:{honor.id}",
    )
    return honor


def award_honor(actor: User, *, user_id: int, title: str, period_key: str) -> Honor:
    """Give a member an honour title for a period (admin)."""
    policy.require(policy.can_award_honors(actor), _("Only administrators can award honour titles."))
    user = get_by_id(User, user_id)
    if user is None:
        raise NotFound(
            _("There is no user %(user_id)s.", user_id=user_id), fields={"user_id": [_("No user %(user_id)s.", user_id=user_id)]}
        )
    title, period_key = (title or "").strip(), (period_key or "").strip()
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = [_("Give the title, e.g. Best customer manager.")]
    if not period_key or len(period_key) > 10:
        fields["period_key"] = [_("Give the period, e.g. 2026-11 (at most 10 characters).")]
    if fields:
        raise ValidationFailed("The honour is not valid: " + " ".join(v[0] for v in fields.values()), fields=fields)
    require_period_ended(period_key)
    if _vetoed(user.id, period_key):
        raise ValidationFailed(
            _(
                "%(name)s is under a compliance veto for %(period_key)s and cannot be honoured.",
                name=user.name,
                period_key=period_key,
            ),
            fields={"user_id": [_("Under a compliance veto for this period.")]},
        )
    return _grant(user, title[:120], period_key, actor=actor, team_id=user.team_id)


def award_best_managers(period: str, key: str, *, actor: User | None = None) -> list[Honor]:
    """Name each team's Best customer manager for the period (once per period)."""
    if period not in PERIODS:
        raise ValidationFailed(_("Unknown period '%(period)s'; use one of: %(value)s.", period=period, value=", ".join(PERIODS)))
    try:
        period_bounds(period, key)
    except ValueError:
        raise ValidationFailed(
            _("'%(key)s' is not a %(period)s key (e.g. 2026-11 for a month).", key=key, period=period)
        ) from None
    require_period_ended(key)
    vetoed = earning.vetoed_user_ids(period, key)
    done_teams = set(db.session.scalars(sa.select(Honor.team_id).where(Honor.title == BEST_MANAGER, Honor.period_key == key)))
    rows = db.session.execute(
        sa.select(User, PeriodTotal.points)
        .join(PeriodTotal, PeriodTotal.user_id == User.id)
        .where(
            PeriodTotal.period == period,
            PeriodTotal.period_key == key,
            PeriodTotal.points > 0,
            User.role == "employee",
            User.is_active_account.is_(True),
            User.team_id.is_not(None),
        )
        .order_by(User.team_id, PeriodTotal.points.desc(), User.id)
    ).all()
    best: dict[int, list[tuple[User, int]]] = {}
    for user, points in rows:
        if user.id in vetoed or user.team_id in done_teams:
            continue
        top = best.setdefault(user.team_id, [])
        if not top or top[0][1] == points:
            top.append((user, points))
    honours = []
    for team_id in sorted(best):
        for user, _points in best[team_id]:
            honours.append(_grant(user, BEST_MANAGER, key, actor=actor, team_id=team_id))
    return honours


def honour_top_contributors(actor: User, challenge_id: int) -> list[Honor]:
    """Name the top two contributors of a closed challenge "Team contribution" (its lead)."""
    result = challenges.get_challenge(actor, challenge_id)
    policy.require(policy.can_manage_challenge(actor, result.team_id), _("Only the team's lead or an admin can do this."))
    if result.status == "active":
        raise ValidationFailed(_("Close the challenge first; its contributions are not final yet."))
    key = f"C{challenge_id}"[:10]
    if db.session.scalar(sa.select(Honor.id).where(Honor.title == TEAM_CONTRIBUTION, Honor.period_key == key)):
        raise Duplicate(_("The top contributors of this challenge have already been honoured."))
    vetoed = challenges.vetoed_during(db.session.get(Challenge, challenge_id))
    top = [c for c in result.contributions if c["value"] > 0 and c["user_id"] not in vetoed][:2]
    if not top:
        raise ValidationFailed(_("Nobody contributed to this challenge."))
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_([c["user_id"] for c in top])))}
    return [_grant(users[c["user_id"]], TEAM_CONTRIBUTION, key, actor=actor, team_id=result.team_id) for c in top]
