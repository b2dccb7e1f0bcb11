"""Weekly goals. Interface other areas rely on:

``goal_status(user) -> GoalStatus(weekly_points, earned, remaining)`` for the
current week, after new-hire staging.

A member's weekly target is what their lead set (a ``Goal`` row), else the
default for their role (setting ``DEFAULT_WEEKLY_GOALS``). New hires (users
with ``hired_on``) are staged by calendar months counted from that date, on
today's date in the organisation's time zone: in their first month one third
of the target, in the second two thirds, from the third month on the full
target. Thirds are rounded to the nearest whole point (100 → 33, then 67).
Earned is this week's ``PeriodTotal`` rollup.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from pointsapp import policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import Goal, PeriodTotal, User
from pointsapp.periods import current_key, local, utcnow

MAX_WEEKLY_POINTS = 1_000_000


@dataclasses.dataclass(frozen=True)
class GoalStatus:
    weekly_points: int
    earned: int
    remaining: int

    @property
    def percent(self) -> int:
        if self.weekly_points <= 0:
            return 100
        return min(100, max(0, self.earned * 100 // self.weekly_points))


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def staged_target(target: int, hired_on: dt.date | None, today: dt.date) -> int:
    """The target after new-hire staging: 1/3 in month one, 2/3 in month two, then full."""
    if hired_on is None:
        return target
    if today <= hired_on:  # not started yet: month one (a far-off date is never added to, so never overflows)
        thirds = 1
    elif today >= add_months(hired_on, 2):
        return target
    else:
        thirds = 1 if today < add_months(hired_on, 1) else 2
    return (target * thirds + 1) // 3  # nearest whole point; a third is never exactly .5


def goal_status(user) -> GoalStatus:
    """This week's effective target, points earned this week and what remains."""
    return statuses([user])[user.id]


def statuses(users: list[User]) -> dict[int, GoalStatus]:
    """This week's goal status of many users at once (two queries, whatever their number)."""
    ids = [user.id for user in users]
    if not ids:
        return {}
    set_points = dict(db.session.execute(sa.select(Goal.user_id, Goal.weekly_points).where(Goal.user_id.in_(ids))).all())
    earned = dict(
        db.session.execute(
            sa.select(PeriodTotal.user_id, PeriodTotal.points).where(
                PeriodTotal.user_id.in_(ids), PeriodTotal.period == "week", PeriodTotal.period_key == current_key("week")
            )
        ).all()
    )
    defaults = current_app.config["DEFAULT_WEEKLY_GOALS"]
    today = local(utcnow()).date()
    result = {}
    for user in users:
        target = staged_target(set_points.get(user.id, int(defaults.get(user.role, 0))), user.hired_on, today)
        got = earned.get(user.id, 0)
        result[user.id] = GoalStatus(weekly_points=target, earned=got, remaining=max(0, target - got))
    return result


def set_goal(actor: User, user_id: int, weekly_points: int) -> Goal:
    """Set a member's weekly target (their lead or an admin)."""
    target = get_by_id(User, user_id)
    if target is None:
        raise NotFound(_("There is no user %(user_id)s.", user_id=user_id))
    policy.require(policy.can_set_goal(actor, target), _("Only the member's lead or an admin can set their weekly goal."))
    if not isinstance(weekly_points, int) or isinstance(weekly_points, bool) or not 0 <= weekly_points <= MAX_WEEKLY_POINTS:
        raise ValidationFailed(
            _("The weekly goal must be a whole number of points, 0 or more."),
            fields={"weekly_points": [_("Between 0 and %(MAX_WEEKLY_POINTS)s.", MAX_WEEKLY_POINTS=MAX_WEEKLY_POINTS)]},
        )
    goal = db.session.get(Goal, user_id)
    if goal is None:
        goal = Goal(user_id=user_id, weekly_points=weekly_points)
        db.session.add(goal)
    goal.weekly_points = weekly_points
    goal.set_by_id = actor.id
    goal.updated_at = utcnow()
    db.session.flush()
    return goal


@dataclasses.dataclass(frozen=True)
class MemberGoal:
    user: User
    set_points: int | None  # None: the role default applies
    status: GoalStatus


def team_goals(actor: User) -> list[MemberGoal]:
    """Every member the actor may set a goal for, with this week's status."""
    stmt = sa.select(User).where(User.is_active_account.is_(True), User.role != "admin").order_by(User.name)
    if not policy.is_admin(actor):
        stmt = stmt.where(User.team_id.in_(policy.managed_team_ids(actor) or {-1}))
    members = [u for u in db.session.scalars(stmt) if policy.can_set_goal(actor, u)]
    if not members:
        return []
    ids = [m.id for m in members]
    set_points = dict(db.session.execute(sa.select(Goal.user_id, Goal.weekly_points).where(Goal.user_id.in_(ids))).all())
    status = statuses(members)
    return [MemberGoal(member, set_points.get(member.id), status[member.id]) for member in members]
