"""Rewards: the catalog, and redeeming with held points and reserved stock.

Design overview
---------------
Redeeming is one transaction that takes its locks in a fixed order — the
reward row, then the wallet row — the same order decisions use (see
``pointsapp.redemptions``), so nothing deadlocks:

1. Lock the reward first (``FOR NO KEY UPDATE`` on PostgreSQL, taken before
   the redemption row's foreign key would take a share lock on it; SQLite's
   ``BEGIN IMMEDIATE`` already serialises writers). Under that lock check its
   window, the per-user yearly limit and the monthly budget, and look for a
   redemption with the same request token (the web confirm form's), so a
   double tap returns the first tap's redemption instead of redeeming twice.
   The unique ``(user_id, request_token)`` backs that up.
2. Reserve stock: ``UPDATE reward SET stock = stock - :q WHERE id = :id AND
   stock >= :q`` (NULL stock is unlimited); no row → ``OutOfStock``.
3. Hold the points: ``ledger.place_hold`` is a conditional update that never
   overdraws; refused → ``InsufficientPoints`` with the points missing.

Any refusal raises and the caller rolls back, so nothing changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, leave_dates, ledger, names, policy
from pointsapp.errors import DomainError, LimitReached, NotAllowed, NotFound, OutOfStock, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Redemption, RedemptionStep, Reward, User
from pointsapp.models.rewards import REWARD_KINDS
from pointsapp.periods import period_bounds, period_key, utcnow

# Redemptions that count against limits and budgets (cancelled/rejected/expired give them back).
COUNTING_STATUSES = ("pending", "approved")
MAX_QUANTITY = 100
MAX_REQUEST_TOKEN = 64  # redemption.request_token is VARCHAR(64)
MAX_COST = 10_000_000
MAX_STOCK = 1_000_000
MAX_CASH = decimal.Decimal("1000000000")  # fits Numeric(12, 2)
MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer cannot exist; looking them up would overflow
EDITABLE_FIELDS = (
    "name",
    "kind",
    "cost",
    "stock",
    "description",
    "cash_amount",
    "limit_per_year",
    "monthly_budget",
    "active",
    "available_from",
    "available_until",
    "translations",
)


class RewardUnavailable(ValidationFailed):
    """The reward is switched off or outside its active window."""

    code = "reward_unavailable"


class BudgetExhausted(LimitReached):
    """This month's budget for the reward is used up."""

    code = "budget_exhausted"


# --- catalog -------------------------------------------------------------------


def is_available(reward: Reward, at: dt.datetime | None = None) -> bool:
    """True when the reward is switched on and inside its active window."""
    at = at or utcnow()
    if not reward.active:
        return False
    if reward.available_from is not None and at < reward.available_from:
        return False
    return reward.available_until is None or at < reward.available_until


def list_rewards(*, only_available: bool = False) -> list[Reward]:
    """The catalog, available rewards first, cheapest first."""
    rewards = list(db.session.scalars(sa.select(Reward).order_by(Reward.active.desc(), Reward.cost, Reward.id)))
    if only_available:
        now = utcnow()
        rewards = [r for r in rewards if is_available(r, now)]
    return rewards


def get_reward(reward_id: int) -> Reward:
    """The reward with this id; NotFound otherwise."""
    reward = db.session.get(Reward, reward_id, populate_existing=True) if 0 < reward_id <= MAX_ID else None
    if reward is None:
        raise NotFound(_("There is no reward %(id)s.", id=reward_id), fields={"reward_id": [_("Unknown reward.")]})
    return reward


def create_reward(actor: User, data: dict) -> Reward:
    """Add a reward to the catalog."""
    policy.require(policy.can_manage_rewards(actor), _("Only administrators can manage the rewards catalog."))
    reward = Reward(description="", active=True, translations={})
    _apply(reward, {"description": "", "active": True} | data)
    db.session.add(reward)
    db.session.flush()
    audit.record(actor, "reward.created", "reward", reward.id, {"name": reward.name, "kind": reward.kind, "cost": reward.cost})
    return reward


def update_reward(actor: User, reward_id: int, data: dict) -> Reward:
    """Change some of a reward's fields (pending redemptions keep their price)."""
    policy.require(policy.can_manage_rewards(actor), _("Only administrators can manage the rewards catalog."))
    reward = get_reward(reward_id)
    _apply(reward, data)
    db.session.flush()
    audit.record(actor, "reward.updated", "reward", reward.id, {k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    return reward


def _whole(value, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _apply(reward: Reward, data: dict) -> None:
    """Validate the merged fields as a whole (e.g. the window's order), then set them."""
    merged = {name: getattr(reward, name) for name in EDITABLE_FIELDS} | {k: v for k, v in data.items() if k in EDITABLE_FIELDS}
    merged["name"] = (merged.get("name") or "").strip()
    merged["description"] = (merged.get("description") or "").strip()
    fields: dict[str, list[str]] = {}
    if not merged["name"]:
        fields["name"] = [_("A reward needs a name.")]
    if merged.get("kind") not in REWARD_KINDS:
        fields["kind"] = [_("Must be one of: %(kinds)s.", kinds=", ".join(REWARD_KINDS))]
    cost = merged.get("cost")
    if not _whole(cost, 1, MAX_COST):
        fields["cost"] = [_("The cost must be a whole number of points from 1 to %(max)s.", max=f"{MAX_COST:,}")]
    for name, low, high in (("stock", 0, MAX_STOCK), ("limit_per_year", 1, 366)):
        value = merged.get(name)
        if value is not None and not _whole(value, low, high):
            fields[name] = [_("Must be a whole number from %(low)d to %(high)d, or empty.", low=low, high=high)]
    for name in ("cash_amount", "monthly_budget"):
        value = merged.get(name)
        if value is not None and not (decimal.Decimal(value).is_finite() and 0 <= decimal.Decimal(value) <= MAX_CASH):
            fields[name] = [_("Must be an amount from 0 to %(max)s.", max=f"{MAX_CASH:,}")]
    if merged.get("monthly_budget") is not None and merged.get("cash_amount") is None:
        fields["monthly_budget"] = [_("A monthly budget needs a cash amount per redemption.")]
    start, end = merged.get("available_from"), merged.get("available_until")
    if start is not None and end is not None and end <= start:
        fields["available_until"] = [_("The window must end after it starts.")]
    try:
        merged["translations"] = names.clean_translations(merged.get("translations"))
    except ValidationFailed as error:
        fields.update(error.fields or {})
    if fields:
        raise ValidationFailed(_("Some fields are not valid."), fields=fields)
    for name, value in merged.items():
        setattr(reward, name, value)


# --- redeeming -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Quote:
    """What redeeming would cost me now, for the confirmation step."""

    reward: Reward
    quantity: int
    points: int
    available: int
    after: int
    missing: int
    problem: str | None  # why it would be refused (other than points), if it would
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None


def quote(
    user: User, reward_id: int, quantity: int = 1, starts_on: dt.date | None = None, ends_on: dt.date | None = None
) -> Quote:
    """Price a redemption for the confirmation step (the days asked for set the quantity), without changing anything."""
    reward = get_reward(reward_id)
    problem = None
    if starts_on is not None:
        try:
            starts_on, ends_on = leave_dates.check_days(reward, starts_on, ends_on)
            quantity = leave_dates.days_of(starts_on, ends_on)
            if (clash := leave_dates.overlapping(user.id, starts_on, ends_on)) is not None:
                problem = leave_dates.overlap_message(clash)
        except DomainError as error:
            problem = error.message
    points = reward.cost * quantity
    available = ledger.wallet_summary(user.id).available
    try:
        _check_rules(user, reward, quantity, utcnow())
        if reward.stock is not None and reward.stock < quantity:
            raise OutOfStock(_("%(name)s is out of stock.", name=names.localized(reward)))
    except DomainError as error:
        problem = problem or error.message
    return Quote(reward, quantity, points, available, available - points, max(0, points - available), problem, starts_on, ends_on)


def redeem(
    actor: User,
    reward_id: int,
    quantity: int = 1,
    *,
    request_token: str | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Redemption:
    """Redeem a reward: reserve stock, hold the points, open a pending redemption (with its days, for leave)."""
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed(
            _("Quantity must be between 1 and %(max)d.", max=MAX_QUANTITY),
            fields={"quantity": [_("Between 1 and %(max)d.", max=MAX_QUANTITY)]},
        )
    if request_token is not None and len(request_token) > MAX_REQUEST_TOKEN:
        message = _("This form is out of date; open the reward again.")
        raise ValidationFailed(message, fields={"token": [message]})
    get_reward(reward_id)  # 404 before taking any lock
    reward = db.session.scalar(
        sa.select(Reward)
        .where(Reward.id == reward_id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: foreign-key checks elsewhere need not wait
        .execution_options(populate_existing=True)
    )
    # Under the reward's lock a double tap with the same token finds the first tap's redemption.
    if request_token and (first := _by_request_token(actor.id, request_token)) is not None:
        return first
    now = utcnow()
    if starts_on is not None or ends_on is not None:
        starts_on, ends_on = leave_dates.check_days(reward, starts_on, ends_on)
        quantity = leave_dates.days_of(starts_on, ends_on)  # the days asked for are what is redeemed
        leave_dates.refuse_overlap(actor.id, starts_on, ends_on)
    _check_rules(actor, reward, quantity, now)
    redemption = Redemption(
        user_id=actor.id,
        reward_id=reward.id,
        quantity=quantity,
        points=reward.cost * quantity,
        status="pending",
        created_at=now,
        request_token=request_token or None,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    db.session.add(redemption)
    db.session.flush()
    reserve_stock(reward, quantity)
    hold = ledger.place_hold(actor.id, redemption.points, reason=_("Held for %(name)s", name=reward.name))
    # The hold locked the wallet: a deactivation that got there first has committed, so read the flag afresh.
    if not db.session.scalar(
        sa.select(User.is_active_account).where(User.id == actor.id).execution_options(populate_existing=True)
    ):
        raise NotAllowed(_("This account has been deactivated."))
    redemption.hold_id = hold.id
    redemption.cash_amount = reward.cash_amount * quantity if reward.cash_amount is not None else None
    db.session.add(RedemptionStep(redemption_id=redemption.id, status="requested", actor_id=actor.id, created_at=now))
    db.session.flush()
    return redemption


def _by_request_token(user_id: int, token: str) -> Redemption | None:
    return db.session.scalar(sa.select(Redemption).where(Redemption.user_id == user_id, Redemption.request_token == token))


def _check_rules(user: User, reward: Reward, quantity: int, now: dt.datetime) -> None:
    """Refuse an unavailable reward, a reached yearly limit or an exhausted budget."""
    if not reward.active:
        raise RewardUnavailable(_("%(name)s is no longer offered.", name=names.localized(reward)))
    if not is_available(reward, now):
        raise RewardUnavailable(_("%(name)s cannot be redeemed at the moment.", name=names.localized(reward)))
    if reward.limit_per_year is not None:
        start, end = period_bounds("year", period_key("year", now))
        used = _counted(sa.func.sum(Redemption.quantity), reward.id, start, end, user_id=user.id)
        if used + quantity > reward.limit_per_year:
            left = max(0, reward.limit_per_year - used)
            raise LimitReached(
                _(
                    "You can redeem %(name)s at most %(limit)d times a year; %(left)d left this year.",
                    name=names.localized(reward),
                    limit=reward.limit_per_year,
                    left=left,
                ),
                limit=reward.limit_per_year,
                used=used,
            )
    if reward.monthly_budget is not None and reward.cash_amount is not None:
        # Counted by the month of the request: pending and approved cash both use the budget.
        start, end = period_bounds("month", period_key("month", now))
        spent = decimal.Decimal(_counted(sa.func.sum(Redemption.cash_amount), reward.id, start, end))
        if spent + reward.cash_amount * quantity > reward.monthly_budget:
            raise BudgetExhausted(
                _("This month's budget for %(name)s is used up; try again next month.", name=names.localized(reward)),
                budget=str(reward.monthly_budget),
                spent=str(spent),
            )


def _counted(total, reward_id: int, start: dt.datetime, end: dt.datetime, *, user_id: int | None = None):
    stmt = sa.select(sa.func.coalesce(total, 0)).where(
        Redemption.reward_id == reward_id,
        Redemption.status.in_(COUNTING_STATUSES),
        Redemption.created_at >= start,
        Redemption.created_at < end,
    )
    if user_id is not None:
        stmt = stmt.where(Redemption.user_id == user_id)
    return db.session.scalar(stmt) or 0


def reserve_stock(reward: Reward, quantity: int) -> None:
    """Take ``quantity`` from the reward's stock if that much is left; OutOfStock if not."""
    if reward.stock is None:  # unlimited (read under the reward's lock)
        return
    taken = db.session.execute(
        sa.update(Reward)
        .where(Reward.id == reward.id, Reward.stock >= quantity)
        .values(stock=Reward.stock - quantity)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        raise OutOfStock(_("%(name)s is out of stock.", name=names.localized(reward)), stock=reward.stock or 0)


def release_stock(reward_id: int, quantity: int) -> None:
    """Give reserved stock back (unlimited stock stays unlimited)."""
    db.session.execute(
        sa.update(Reward)
        .where(Reward.id == reward_id, Reward.stock.is_not(None))
        .values(stock=Reward.stock + quantity)
        .execution_options(synchronize_session=False)
    )
