"""Team budgets: the monthly points a team's leads may give out, in awards and challenge pools.

Design overview
---------------
* A team's monthly budget is the one an admin set (``TeamBudget``), else the
  setting ``TEAM_MONTHLY_BUDGET``. What it gave out in a month is a
  ``BudgetUsage`` row per (team, month), months cut in the organisation's
  time zone; a new month starts at zero.
* ``draw`` is one conditional update,
  ``UPDATE budget_usage SET used = used + :p WHERE ... AND used + :p <= budget``:
  a row count of 0 means refused (``BudgetExhausted``). Like the wallet, that is
  race-free on PostgreSQL under Read Committed (the row lock serialises
  draws, and the condition is re-checked on the new row) and on SQLite (write
  transactions start with ``BEGIN IMMEDIATE``).
* A challenge's pool is reserved (``reserve``) when the challenge is created,
  in that month, and given back (``release``) when it fails or pays nobody;
  the ``BudgetReservation`` row remembers the month, so a later release goes
  back to the month the reservation came from. ``release`` is a conditional
  update on the reservation too: a pool is never given back twice.
* Only leads draw: admins' awards and challenges, and the system, draw nothing
  (``policy.draws_budget``). Deductions never draw or give back.
* Lowering a budget below what is used leaves ``used`` alone; ``remaining``
  is then 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from pointsapp import audit, names, policy
from pointsapp.errors import BudgetExhausted, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import BudgetReservation, BudgetUsage, Challenge, Team, TeamBudget, User
from pointsapp.periods import period_key, utcnow

MAX_BUDGET = 1_000_000_000


@dataclasses.dataclass(frozen=True)
class BudgetView:
    team_id: int
    team_name: str
    period_key: str
    monthly_points: int
    used: int
    is_default: bool  # no admin set one: the setting applies

    @property
    def remaining(self) -> int:
        return max(0, self.monthly_points - self.used)


def month_key(at: dt.datetime | None = None) -> str:
    """The budget month of a moment (now by default), e.g. "2026-11"."""
    return period_key("month", at or utcnow())


def default_budget() -> int:
    return int(current_app.config["TEAM_MONTHLY_BUDGET"])


def budget_of(team_id: int, at: dt.datetime | None = None) -> BudgetView:
    """A team's budget, used and remaining for the month of ``at`` (now by default)."""
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(_("There is no team %(id)s.", id=team_id))
    key = month_key(at)
    setting = db.session.get(TeamBudget, team_id, populate_existing=True)
    used = db.session.scalar(sa.select(BudgetUsage.used).where(BudgetUsage.team_id == team_id, BudgetUsage.period_key == key))
    return BudgetView(
        team_id=team_id,
        team_name=names.localized(team),
        period_key=key,
        monthly_points=setting.monthly_points if setting else default_budget(),
        used=int(used or 0),
        is_default=setting is None,
    )


def get_budget(actor: User, team_id: int) -> BudgetView:
    """A team's budget this month, for its leads and admins."""
    if db.session.get(Team, team_id) is None:
        raise NotFound(_("There is no team %(id)s.", id=team_id))
    policy.require(policy.can_view_budget(actor, team_id), _("Only the team's leads and admins can see its budget."))
    return budget_of(team_id)


def budgets_for(actor: User, team_ids) -> dict[int, BudgetView]:
    """This month's budget of each team, for a lead whose awards and pools draw from them (admins: none)."""
    if not policy.draws_budget(actor):
        return {}
    return {team_id: budget_of(team_id) for team_id in sorted(set(team_ids)) if team_id is not None}


def all_budgets(actor: User) -> list[BudgetView]:
    """Every team's budget, used and remaining this month (admins), by team name."""
    policy.require(policy.can_set_budget(actor), _("Only admins can see every team's budget."))
    key = month_key()
    settings = dict(db.session.execute(sa.select(TeamBudget.team_id, TeamBudget.monthly_points)).all())
    used = dict(db.session.execute(sa.select(BudgetUsage.team_id, BudgetUsage.used).where(BudgetUsage.period_key == key)).all())
    teams = db.session.scalars(sa.select(Team).order_by(Team.name, Team.id)).all()
    fallback = default_budget()
    return [
        BudgetView(
            team_id=t.id,
            team_name=names.localized(t),
            period_key=key,
            monthly_points=settings.get(t.id, fallback),
            used=int(used.get(t.id, 0)),
            is_default=t.id not in settings,
        )
        for t in teams
    ]


def set_budget(actor: User, team_id: int, monthly_points: int) -> BudgetView:
    """Set a team's monthly budget (admins); what is already used this month stays used."""
    policy.require(policy.can_set_budget(actor), _("Only admins can set team budgets."))
    if db.session.get(Team, team_id) is None:
        raise NotFound(_("There is no team %(id)s.", id=team_id))
    if not isinstance(monthly_points, int) or isinstance(monthly_points, bool) or not 0 <= monthly_points <= MAX_BUDGET:
        raise ValidationFailed(
            _("The monthly budget must be a whole number from 0 to %(max)s.", max=f"{MAX_BUDGET:,}"),
            fields={"monthly_points": [_("A whole number from 0 to %(max)s.", max=f"{MAX_BUDGET:,}")]},
        )
    before = budget_of(team_id)
    row = db.session.get(TeamBudget, team_id)
    if row is None:
        db.session.add(TeamBudget(team_id=team_id, monthly_points=monthly_points, set_by_id=actor.id, updated_at=utcnow()))
    else:
        row.monthly_points, row.set_by_id, row.updated_at = monthly_points, actor.id, utcnow()
    db.session.flush()
    audit.record(
        actor,
        "budget.set",
        "team",
        team_id,
        {
            "monthly_points": monthly_points,
            "previous": before.monthly_points,
            "was_default": before.is_default,
            "period_key": before.period_key,
            "used": before.used,
        },
    )
    return budget_of(team_id)


# --- drawing and giving back ---------------------------------------------------------


def _ensure_usage_row(team_id: int, key: str) -> None:
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(BudgetUsage.__table__).values(team_id=team_id, period_key=key, used=0).on_conflict_do_nothing())


def draw(team_id: int, points: int, *, at: dt.datetime | None = None) -> BudgetView:
    """Take ``points`` from the team's budget for the month of ``at``; BudgetExhausted if it does not cover them."""
    if points <= 0:
        raise ValueError("draw a positive number of points")
    key = month_key(at)
    _ensure_usage_row(team_id, key)
    limit = sa.func.coalesce(
        sa.select(TeamBudget.monthly_points).where(TeamBudget.team_id == team_id).scalar_subquery(),
        default_budget(),
    )
    drawn = db.session.execute(
        sa.update(BudgetUsage)
        .where(BudgetUsage.team_id == team_id, BudgetUsage.period_key == key, BudgetUsage.used + points <= limit)
        .values(used=BudgetUsage.used + points)
        .execution_options(synchronize_session=False)
    ).rowcount
    view = budget_of(team_id, at)
    if drawn != 1:
        raise BudgetExhausted(
            _(
                "The budget of %(team)s has %(remaining)s points left this month; %(points)s points are more than that.",
                team=view.team_name,
                remaining=f"{view.remaining:,}",
                points=f"{points:,}",
            ),
            remaining=view.remaining,
            period_key=key,
        )
    return view


def give_back(team_id: int, key: str, points: int) -> None:
    """Return ``points`` to the team's budget of month ``key`` (never below zero used)."""
    if points <= 0:
        return
    db.session.execute(
        sa.update(BudgetUsage)
        .where(BudgetUsage.team_id == team_id, BudgetUsage.period_key == key)
        .values(used=sa.case((BudgetUsage.used >= points, BudgetUsage.used - points), else_=0))
        .execution_options(synchronize_session=False)
    )


def draw_for_award(actor: User, recipient: User, points: int) -> BudgetView | None:
    """A lead's positive award draws from the recipient's team budget; admins' and deductions draw nothing."""
    if points <= 0 or recipient.team_id is None or not policy.draws_budget(actor):
        return None
    return draw(recipient.team_id, points)


def reserve(actor: User | None, team_id: int, pool: int) -> str | None:
    """Draw a new challenge's pool from its team's budget (leads only); return the month drawn from, else None.

    Call before inserting the challenge, then ``record_reservation`` once it has an id.
    """
    if not policy.draws_budget(actor):
        return None
    return draw(team_id, pool).period_key


def record_reservation(challenge: Challenge, key: str | None) -> BudgetReservation | None:
    """Remember which month a challenge's pool was reserved from, so ``release`` can give it back there."""
    if key is None:
        return None
    row = BudgetReservation(
        challenge_id=challenge.id,
        team_id=challenge.team_id,
        period_key=key,
        points=challenge.pool,
        returned=0,
        created_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return row


def release(challenge_id: int, points: int | None = None) -> int:
    """Give a challenge's reserved pool (or ``points`` of it) back to its team budget; return what went back.

    For a challenge that failed, paid nobody, or was restated to failed. A challenge
    that reserved nothing (an admin's), or whose pool already went back, gives back 0.
    """
    row = db.session.get(BudgetReservation, challenge_id, populate_existing=True)
    if row is None:
        return 0
    amount = row.points - row.returned if points is None else points
    if amount <= 0:
        return 0
    table = BudgetReservation.__table__
    updated = db.session.execute(
        sa.update(table)
        .where(table.c.challenge_id == challenge_id, table.c.returned + amount <= table.c.points)
        .values(returned=table.c.returned + amount)
    ).rowcount
    if updated != 1:
        return 0  # a racing release gave it back first
    give_back(row.team_id, row.period_key, amount)
    db.session.refresh(row)
    return amount
