"""Manager analytics: weekly trends, activity mix, top performers, attrition risk, CSV export.

Scope
-----
A lead sees the team they lead and every team under it; an admin sees any team,
or the whole company at once (``team_id`` None). The people counted are the
scope's active, non-admin members (leads included: their points count for the
team too); deactivated accounts drop out of every figure.

Sources
-------
Weekly points come from the ``PeriodTotal`` week rollups (net of clawbacks,
spending excluded). The activity mix comes from ``LedgerEntry`` (points by entry
kind; a reversal counts against the kind it reverses) and ``Event`` (events and
points by event type; reversed events are not counted). Each figure is one
aggregate query over the whole scope, never a query per member or per week.
Weeks are ISO weeks in the organisation's time zone; the range ends with the
current, still running week.

Attrition risk
--------------
Judged on completed weeks only (the current week is still running): the last
4 completed weeks ("recent") and the 8 before them ("earlier"). A member is
flagged when

* ``drop`` — their recent weekly average is below half of their earlier weekly
  average (and the earlier average was above zero);
* ``silent`` — they earned nothing in each of the last 3 completed weeks while
  colleagues in the scope earned points in those weeks;
* ``goal`` — they missed their weekly goal in each of the last 4 completed weeks
  (today's goal, with new-hire staging as of each week; a goal of 0 is never missed).

Weeks that began before a member's hire date (``hired_on``) are not held against
them. Only employees are judged: leads' points count for their team, but many
leads earn little of their own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from pointsapp import names, policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.exports import to_csv
from pointsapp.extensions import db
from pointsapp.goals import staged_target
from pointsapp.limits import get_by_id
from pointsapp.models import Event, Goal, LedgerEntry, PeriodTotal, Rule, Team, User
from pointsapp.models.ledger import SPEND_KINDS
from pointsapp.models.org import team_subtree_ids
from pointsapp.periods import local, org_timezone, period_key, utcnow

RANGES = (4, 12, 26)
DEFAULT_RANGE = 12
RECENT_WEEKS, EARLIER_WEEKS, SILENT_WEEKS, GOAL_WEEKS = 4, 8, 3, 4
DROP_RATIO = 0.5
HISTORY_WEEKS = RECENT_WEEKS + EARLIER_WEEKS  # completed weeks the risk rules look at
TOP_COUNT = 5


@dataclasses.dataclass
class Week:
    key: str
    start: dt.date  # the Monday
    points: int = 0
    active_members: int = 0  # members with points above zero that week


@dataclasses.dataclass
class Member:
    user_id: int
    name: str
    email: str
    role: str
    team_id: int | None
    team_name: str
    hired_on: dt.date | None
    tenure_months: int | None
    weekly: list[int]  # points per week of the range, oldest first
    total: int  # points in the range
    previous_total: int  # points in the same number of weeks before the range
    this_week: int
    base_goal: int  # today's goal before new-hire staging (set by the lead, else the role's default)
    weekly_goal: int  # this week's goal, after new-hire staging
    goal_misses: int  # of the last GOAL_WEEKS completed weeks
    recent_avg: float
    earlier_avg: float | None  # None: no earlier weeks after the hire date
    last_points_week: str | None  # the latest week with points, within the weeks looked at
    risks: list[dict] = dataclasses.field(default_factory=list)  # [{code, message}]

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


@dataclasses.dataclass
class MixRow:
    key: str  # an entry kind or an event type
    label: str
    points: int
    count: int  # entries, or events
    quantity: int = 0  # events only: summed quantity


@dataclasses.dataclass
class TeamRow:
    team_id: int
    name: str
    members: int
    total: int
    this_week: int


@dataclasses.dataclass
class Dashboard:
    team: Team | None  # None: the whole company
    scope_name: str
    weeks: int
    teams: list[tuple[Team, int]]  # (team, depth) the viewer may choose from
    trend: list[Week]
    total: int
    previous_total: int
    change_percent: int | None
    member_count: int
    active_members: int
    mix_by_kind: list[MixRow]
    mix_by_type: list[MixRow]
    top: list[Member]
    members: list[Member]
    at_risk: list[Member]
    by_team: list[TeamRow]

    @property
    def avg_per_member_week(self) -> float:
        if not self.member_count or not self.weeks:
            return 0.0
        return round(self.total / self.member_count / self.weeks, 1)

    @property
    def is_empty(self) -> bool:
        return not self.members


# --- scope -----------------------------------------------------------------------


def visible_teams(actor: User) -> list[tuple[Team, int]]:
    """The teams the actor may open, in tree order with their depth."""
    policy.require(policy.can_view_analytics(actor), _("Team analytics are for team leads and administrators."))
    stmt = sa.select(Team).order_by(Team.name, Team.id)
    if not policy.is_admin(actor):
        stmt = stmt.where(Team.id.in_(policy.managed_team_ids(actor) or {-1}))
    teams = list(db.session.scalars(stmt))
    ids = {t.id for t in teams}
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id if team.parent_id in ids else None, []).append(team)
    ordered: list[tuple[Team, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for team in children.get(parent, []):
            ordered.append((team, depth))
            walk(team.id, depth + 1)

    walk(None, 0)
    return ordered


def resolve_scope(actor: User, team_id: int | None) -> tuple[Team | None, set[int] | None]:
    """The team asked for (None: whole company, admins only) and its subtree's ids."""
    if team_id is None and not policy.is_admin(actor):
        team_id = actor.team_id
    if team_id is None:
        policy.require(policy.can_view_analytics(actor), _("Team analytics are for team leads and administrators."))
        return None, (None if policy.is_admin(actor) else set())
    team = get_by_id(Team, team_id)
    if team is None:
        raise NotFound(_("There is no team %(id)s.", id=team_id))
    policy.require(policy.can_view_analytics(actor, team.id), _("You can only see the analytics of the teams you lead."))
    return team, team_subtree_ids(team.id)


def _in_scope(user_col, team_ids: set[int] | None):
    """Members in scope: active, not admins, in one of the teams (any team when None)."""
    clauses = [User.id == user_col, User.is_active_account.is_(True), User.role != "admin"]
    if team_ids is not None:
        clauses.append(User.team_id.in_(team_ids or {-1}))
    return sa.and_(*clauses)


# --- weeks -----------------------------------------------------------------------


def week_keys(count: int, now: dt.datetime | None = None) -> list[tuple[str, dt.date]]:
    """The last ``count`` ISO weeks in the org time zone, oldest first, ending with this week."""
    tz = org_timezone()
    today = local(now or utcnow(), tz).date()
    weeks = []
    for back in range(count - 1, -1, -1):
        moment = dt.datetime.combine(today - dt.timedelta(days=7 * back), dt.time(12), tz)
        day = moment.date()
        weeks.append((period_key("week", moment, tz), day - dt.timedelta(days=day.weekday())))
    return weeks


def _tenure_months(hired_on: dt.date | None, today: dt.date) -> int | None:
    if hired_on is None or hired_on > today:
        return None
    return (today.year - hired_on.year) * 12 + today.month - hired_on.month - (today.day < hired_on.day)


# --- the dashboard -----------------------------------------------------------------


def dashboard(actor: User, team_id: int | None = None, weeks: int = DEFAULT_RANGE) -> Dashboard:
    """Trends, activity mix, top performers and attrition risk for a team the actor may see."""
    if weeks not in RANGES:
        raise ValidationFailed(_("Choose a range of 4, 12 or 26 weeks."), fields={"weeks": [_("One of: 4, 12, 26.")]})
    team, team_ids = resolve_scope(actor, team_id)
    teams = visible_teams(actor)
    span = max(2 * weeks, HISTORY_WEEKS + 1)  # the range, the range before it, and the risk history
    calendar = week_keys(span)
    keys = [key for key, _start in calendar]
    rows = db.session.execute(
        sa.select(User, Team)
        .outerjoin(Team, Team.id == User.team_id)
        .where(_in_scope(User.id, team_ids))
        .order_by(User.name, User.id)
    ).all()
    points = _weekly_points(team_ids, keys)
    members = _members(rows, points, calendar, weeks, _goals(team_ids))
    _flag_risks(members, points, calendar)

    trend = [Week(key, start) for key, start in calendar[-weeks:]]
    for week in trend:
        week.points = sum(points.get((m.user_id, week.key), 0) for m in members)
        week.active_members = sum(1 for m in members if points.get((m.user_id, week.key), 0) > 0)
    total = sum(w.points for w in trend)
    previous = sum(m.previous_total for m in members)
    start = calendar[-weeks][1]
    since = dt.datetime.combine(start, dt.time(), org_timezone()).astimezone(dt.timezone.utc)
    return Dashboard(
        team=team,
        scope_name=names.localized(team) if team else _("All teams"),
        weeks=weeks,
        teams=teams,
        trend=trend,
        total=total,
        previous_total=previous,
        change_percent=round((total - previous) * 100 / previous) if previous > 0 else None,
        member_count=len(members),
        active_members=sum(1 for m in members if any(p > 0 for p in m.weekly)),
        mix_by_kind=_mix_by_kind(team_ids, since) if members else [],
        mix_by_type=_mix_by_type(team_ids, since) if members else [],
        top=sorted((m for m in members if m.total > 0), key=lambda m: (-m.total, m.name, m.user_id))[:TOP_COUNT],
        members=members,
        at_risk=sorted((m for m in members if m.risks), key=lambda m: (-len(m.risks), m.recent_avg, m.name)),
        by_team=_by_team(members) if team is None or len(team_ids or ()) > 1 else [],
    )


def _weekly_points(team_ids: set[int] | None, keys: list[str]) -> dict[tuple[int, str], int]:
    result = db.session.execute(
        sa.select(PeriodTotal.user_id, PeriodTotal.period_key, PeriodTotal.points)
        .join(User, _in_scope(PeriodTotal.user_id, team_ids))
        .where(PeriodTotal.period == "week", PeriodTotal.period_key.in_(keys))
    )
    return {(user_id, key): value for user_id, key, value in result}


def _goals(team_ids: set[int] | None) -> dict[int, int]:
    """The weekly goals leads have set for the members in scope."""
    return dict(
        db.session.execute(sa.select(Goal.user_id, Goal.weekly_points).join(User, _in_scope(Goal.user_id, team_ids))).all()
    )


def _members(rows, points, calendar, weeks: int, goals: dict[int, int]) -> list[Member]:
    keys = [key for key, _start in calendar]
    today = local(utcnow()).date()
    defaults = current_app.config["DEFAULT_WEEKLY_GOALS"]
    members = []
    for user, team in rows:
        team_name = names.localized(team) if team is not None else ""
        series = [points.get((user.id, key), 0) for key in keys]
        positive = [key for key, value in zip(keys, series) if value > 0]
        base = goals.get(user.id, int(defaults.get(user.role, 0)))
        members.append(
            Member(
                user_id=user.id,
                name=user.name,
                email=user.email,
                role=user.role,
                team_id=user.team_id,
                team_name=team_name or "",
                hired_on=user.hired_on,
                tenure_months=_tenure_months(user.hired_on, today),
                weekly=series[-weeks:],
                total=sum(series[-weeks:]),
                previous_total=sum(series[-2 * weeks : -weeks]),
                this_week=series[-1],
                base_goal=base,
                weekly_goal=staged_target(base, user.hired_on, today),
                goal_misses=0,
                recent_avg=0.0,
                earlier_avg=None,
                last_points_week=positive[-1] if positive else None,
            )
        )
    return members


def _flag_risks(members: list[Member], points, calendar) -> None:
    """Apply the attrition-risk rules of the module docstring to each member."""
    completed = calendar[-HISTORY_WEEKS - 1 : -1]  # oldest first; the current week is left out
    recent, earlier, silent_weeks = completed[-RECENT_WEEKS:], completed[:EARLIER_WEEKS], completed[-SILENT_WEEKS:]
    silent_keys = {key for key, _start in silent_weeks}
    earned_in_silent = {uid for (uid, key), value in points.items() if key in silent_keys and value > 0}
    for m in members:

        def employed(weeks):
            return [(key, start) for key, start in weeks if m.hired_on is None or start >= m.hired_on]

        def average(weeks):
            weeks = employed(weeks)
            return round(sum(points.get((m.user_id, k), 0) for k, _s in weeks) / len(weeks), 1) if weeks else None

        m.recent_avg, m.earlier_avg = average(recent) or 0.0, average(earlier)
        goal_weeks = employed(completed[-GOAL_WEEKS:])
        m.goal_misses = sum(
            1
            for key, start in goal_weeks
            if (target := staged_target(m.base_goal, m.hired_on, start)) > 0 and points.get((m.user_id, key), 0) < target
        )
        if m.role != "employee":
            continue
        if m.earlier_avg is not None and m.earlier_avg > 0 and m.recent_avg < m.earlier_avg * DROP_RATIO:
            m.risks.append(
                {
                    "code": "drop",
                    "message": _(
                        "Averaged %(recent)s points a week over the last %(n)s weeks, down from %(earlier)s in the %(m)s weeks before.",
                        recent=_num(m.recent_avg),
                        n=RECENT_WEEKS,
                        earlier=_num(m.earlier_avg),
                        m=EARLIER_WEEKS,
                    ),
                }
            )
        colleagues_earned = bool(earned_in_silent - {m.user_id})
        if len(employed(silent_weeks)) == SILENT_WEEKS and m.user_id not in earned_in_silent and colleagues_earned:
            m.risks.append(
                {"code": "silent", "message": _("No points in the last %(n)s weeks while colleagues earned.", n=SILENT_WEEKS)}
            )
        if len(goal_weeks) == GOAL_WEEKS and m.goal_misses == GOAL_WEEKS:
            m.risks.append(
                {
                    "code": "goal",
                    "message": _(
                        "Missed the weekly goal (%(goal)s points) in each of the last %(n)s weeks.",
                        goal=m.base_goal,
                        n=GOAL_WEEKS,
                    ),
                }
            )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _mix_by_kind(team_ids: set[int] | None, since: dt.datetime) -> list[MixRow]:
    """Points by entry kind since ``since``; a reversal counts against the kind it reverses."""
    original = so.aliased(LedgerEntry)
    kind = sa.func.coalesce(original.kind, LedgerEntry.kind)
    result = db.session.execute(
        sa.select(kind, sa.func.sum(LedgerEntry.points), sa.func.count(LedgerEntry.id))
        .join(User, _in_scope(LedgerEntry.user_id, team_ids))
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(LedgerEntry.effective_at >= since, LedgerEntry.kind.not_in(SPEND_KINDS))
        .group_by(kind)
    )
    rows = [MixRow(key, key, int(total or 0), count) for key, total, count in result]
    return sorted((r for r in rows if r.points), key=lambda r: (-r.points, r.key))


def _mix_by_type(team_ids: set[int] | None, since: dt.datetime) -> list[MixRow]:
    """Events (not reversed) and the points their awards kept, by event type, since ``since``."""
    original = so.aliased(LedgerEntry)
    awarded = db.session.execute(
        sa.select(Event.type, sa.func.sum(LedgerEntry.points))
        .join(Event, Event.id == LedgerEntry.event_id)
        .join(User, _in_scope(LedgerEntry.user_id, team_ids))
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(LedgerEntry.effective_at >= since, sa.func.coalesce(original.kind, LedgerEntry.kind) == "event_award")
        .group_by(Event.type)
    )
    counted = db.session.execute(
        sa.select(Event.type, sa.func.count(Event.id), sa.func.sum(Event.quantity))
        .join(User, _in_scope(Event.user_id, team_ids))
        .where(Event.occurred_at >= since, Event.reversed_at.is_(None))
        .group_by(Event.type)
    )
    rule_names = {
        rule.event_type: names.localized(rule)
        for rule in db.session.scalars(sa.select(Rule).where(Rule.active.is_(True), Rule.kind == "event"))
    }
    rows: dict[str, MixRow] = {}
    for event_type, total in awarded:
        rows[event_type] = MixRow(event_type, rule_names.get(event_type, event_type), int(total or 0), 0)
    for event_type, count, quantity in counted:
        row = rows.setdefault(event_type, MixRow(event_type, rule_names.get(event_type, event_type), 0, 0))
        row.count, row.quantity = count, int(quantity or 0)
    return sorted((r for r in rows.values() if r.points or r.count), key=lambda r: (-r.points, -r.quantity, r.key))


def _by_team(members: list[Member]) -> list[TeamRow]:
    rows: dict[int, TeamRow] = {}
    for m in members:
        if m.team_id is None:
            continue
        row = rows.setdefault(m.team_id, TeamRow(m.team_id, m.team_name, 0, 0, 0))
        row.members += 1
        row.total += m.total
        row.this_week += m.this_week
    return sorted(rows.values(), key=lambda r: (-r.total, r.name))


# --- export ------------------------------------------------------------------------


def export_csv(actor: User, team_id: int | None = None, weeks: int = DEFAULT_RANGE) -> tuple[str, str]:
    """The dashboard's member table as CSV; returns (filename, text)."""
    board = dashboard(actor, team_id, weeks)
    week_columns = [w.key for w in board.trend]
    columns = (
        "team",
        "name",
        "email",
        "role",
        "tenure_months",
        "weekly_goal",
        "points",
        "previous_points",
        "this_week",
        "recent_weekly_avg",
        "earlier_weekly_avg",
        "goal_misses",
        "last_points_week",
        "at_risk",
        "risk_reasons",
        *week_columns,
    )
    rows = []
    for m in board.members:
        row = {
            "team": m.team_name,
            "name": m.name,
            "email": m.email,
            "role": m.role,
            "tenure_months": "" if m.tenure_months is None else m.tenure_months,
            "weekly_goal": m.weekly_goal,
            "points": m.total,
            "previous_points": m.previous_total,
            "this_week": m.this_week,
            "recent_weekly_avg": _num(m.recent_avg),
            "earlier_weekly_avg": "" if m.earlier_avg is None else _num(m.earlier_avg),
            "goal_misses": m.goal_misses,
            "last_points_week": m.last_points_week or "",
            "at_risk": "yes" if m.at_risk else "no",
            "risk_reasons": "; ".join(r["code"] for r in m.risks),
        }
        row.update(zip(week_columns, m.weekly))
        rows.append(row)
    scope = f"team-{board.team.id}" if board.team else "all-teams"
    filename = f"analytics-{scope}-{board.trend[-1].key}-{weeks}w.csv"
    return filename, to_csv(columns, rows)
