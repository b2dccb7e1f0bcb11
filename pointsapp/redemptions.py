"""Deciding redemptions: pending → approved | rejected | cancelled | expired.

Every transition is one conditional update, ``UPDATE redemption SET status =
:new WHERE id = :id AND status = 'pending'``: a row count of 0 means someone
else decided first (409), so of racing approve / reject / cancel / expire
exactly one wins. In the same transaction the winner captures the held points
(approve) or gives points and stock back (the others), adds a step to the
timeline the employee sees, and queues a notification. Locks are taken in the
order redemption → reward → hold → wallet, matching redeeming's order.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from pointsapp import audit, ledger, notify, pagination, policy, rewards
from pointsapp.errors import InvalidTransition, NotFound
from pointsapp.extensions import db
from pointsapp.models import Redemption, RedemptionStep, Reward, User
from pointsapp.periods import utcnow

NOTIFIED_STATUSES = ("approved", "rejected", "expired")
QUEUE_LIMIT = 200


def get_redemption(actor: User, redemption_id: int) -> Redemption:
    """A redemption the actor may see (owner, their lead, an admin); NotFound otherwise."""
    redemption = _load(redemption_id)
    if not policy.can_view_redemption(actor, redemption, _owner(redemption)):
        raise NotFound(_("There is no redemption %(id)s.", id=redemption_id))
    return redemption


def approve(actor: User, redemption_id: int) -> Redemption:
    """Approve a pending redemption: the held points are spent."""
    redemption = _decidable(actor, redemption_id)
    _transition(redemption, "approved", actor.id, None)
    ledger.capture_hold(
        redemption.hold_id,
        actor_id=actor.id,
        reason=f"Redeemed: {redemption.reward.name}",  # base text; names.entry_reasons translates it
    )
    audit.record(
        actor,
        "redemption.approved",
        "redemption",
        redemption.id,
        {
            "user_id": redemption.user_id,
            "reward_id": redemption.reward_id,
            "points": redemption.points,
        },
    )
    return _finish(redemption, "approved", actor.id, None)


def reject(actor: User, redemption_id: int, reason: str | None = None) -> Redemption:
    """Reject a pending redemption: points and stock go back."""
    redemption = _decidable(actor, redemption_id)
    reason = (reason or "").strip()[:500] or None
    _close(redemption, "rejected", actor.id, reason)
    audit.record(
        actor,
        "redemption.rejected",
        "redemption",
        redemption.id,
        {
            "user_id": redemption.user_id,
            "reward_id": redemption.reward_id,
            "points": redemption.points,
            "reason": reason,
        },
    )
    return _finish(redemption, "rejected", actor.id, reason)


def cancel(actor: User, redemption_id: int) -> Redemption:
    """Cancel my own pending redemption: points and stock go back."""
    redemption = _load(redemption_id)
    policy.require(policy.can_cancel_redemption(actor, redemption), _("Only the person who redeemed can cancel a redemption."))
    _close(redemption, "cancelled", actor.id, None)
    return _finish(redemption, "cancelled", actor.id, None)


def withdraw_for_leaver(redemption_id: int, *, actor_id: int | None, note: str) -> bool:
    """Cancel a leaver's pending redemption, giving points and stock back; False if it was decided meanwhile."""
    return _close_if_pending(redemption_id, "cancelled", actor_id, note)


def pending_ids_of(user_id: int) -> list[int]:
    """The user's pending redemptions, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Redemption.id).where(Redemption.user_id == user_id, Redemption.status == "pending").order_by(Redemption.id)
        )
    )


def stale_ids(*, now: dt.datetime | None = None, days: int | None = None) -> list[int]:
    """Pending redemptions older than ``days`` (the REDEMPTION_EXPIRY_DAYS setting by default)."""
    cutoff = (now or utcnow()) - dt.timedelta(days=_expiry_days(days))
    return list(
        db.session.scalars(
            sa.select(Redemption.id).where(Redemption.status == "pending", Redemption.created_at < cutoff).order_by(Redemption.id)
        )
    )


def expire(redemption_id: int, *, days: int | None = None) -> bool:
    """Expire one pending redemption, giving points and stock back; False if it was decided meanwhile."""
    note = f"Not decided within {_expiry_days(days)} days."  # base language; readers see names.system_reason
    return _close_if_pending(redemption_id, "expired", None, note)


def expire_stale(*, now: dt.datetime | None = None, days: int | None = None) -> int:
    """Expire every stale pending redemption in this transaction; return how many."""
    return sum(expire(rid, days=days) for rid in stale_ids(now=now, days=days))


def _expiry_days(days: int | None) -> int:
    return current_app.config["REDEMPTION_EXPIRY_DAYS"] if days is None else days


# --- transitions -----------------------------------------------------------------


def _load(redemption_id: int) -> Redemption:
    in_range = 0 < redemption_id <= rewards.MAX_ID
    redemption = db.session.get(Redemption, redemption_id, populate_existing=True) if in_range else None
    if redemption is None:
        raise NotFound(_("There is no redemption %(id)s.", id=redemption_id))
    return redemption


def _owner(redemption: Redemption) -> User:
    return db.session.get(User, redemption.user_id)


def _decidable(actor: User, redemption_id: int) -> Redemption:
    redemption = _load(redemption_id)
    owner = _owner(redemption)
    # Refused with 403 rather than 404: redemption ids are not secret, and the
    # caller learns only that they may not decide this one.
    if not policy.can_decide_redemption(actor, redemption, owner):
        if actor.id == redemption.user_id:
            policy.require(False, _("Nobody can decide their own redemption."))
        policy.require(
            False,
            _("Leave and remote days are decided by the employee's lead; bonus cash, training seats and other rewards by HR."),
        )
    return redemption


def _transition(redemption: Redemption, status: str, actor_id: int | None, reason: str | None) -> None:
    """Leave ``pending`` for ``status``, or raise InvalidTransition if already decided."""
    now = utcnow()
    changed = db.session.execute(
        sa.update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.status == "pending")
        .values(status=status, decided_at=now, decided_by_id=actor_id, decision_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        current = db.session.scalar(sa.select(Redemption.status).where(Redemption.id == redemption.id))
        raise InvalidTransition(
            _("This redemption is already %(status)s; only pending redemptions can be decided.", status=current),
            current_status=current,
        )


def _close(redemption: Redemption, status: str, actor_id: int | None, note: str | None) -> None:
    """Leave ``pending`` for a status that gives the points and the stock back (rejected, cancelled, expired)."""
    _transition(redemption, status, actor_id, note)
    rewards.release_stock(redemption.reward_id, redemption.quantity)
    ledger.release_hold(redemption.hold_id)


def _close_if_pending(redemption_id: int, status: str, actor_id: int | None, note: str) -> bool:
    """``_close`` and ``_finish`` for the system's own decisions; False if someone decided it meanwhile."""
    redemption = _load(redemption_id)
    try:
        _close(redemption, status, actor_id, note)
    except InvalidTransition:
        return False
    _finish(redemption, status, actor_id, note)
    return True


def _finish(redemption: Redemption, status: str, actor_id: int | None, note: str | None) -> Redemption:
    db.session.add(RedemptionStep(redemption_id=redemption.id, status=status, actor_id=actor_id, note=note))
    redemption = _load(redemption.id)
    if status in NOTIFIED_STATUSES:
        notify.queue(
            redemption.user_id,
            "redemption",
            f"redemption_{status}",
            {"redemption_id": redemption.id, "reward": redemption.reward.name, "points": redemption.points, "reason": note},
            url=f"/rewards/mine#redemption-{redemption.id}",
        )
    db.session.flush()
    return redemption


# --- reading -------------------------------------------------------------------


def my_redemptions(user: User, *, limit: int = 50, cursor: str | None = None):
    """My redemptions, newest first: (rows, next_cursor)."""
    stmt = sa.select(Redemption).where(Redemption.user_id == user.id).options(so.joinedload(Redemption.reward))
    return pagination.keyset_page(stmt, Redemption, limit=limit, cursor=cursor)


def approval_queue(actor: User) -> list[Redemption]:
    """Pending redemptions the actor may decide, oldest first."""
    stmt = _queue(actor)
    if stmt is None:
        return []
    stmt = stmt.options(so.contains_eager(Redemption.reward)).order_by(Redemption.created_at, Redemption.id)
    return list(db.session.scalars(stmt.limit(QUEUE_LIMIT)))


def waiting_counts(user: User) -> tuple[int, int]:
    """(my pending redemptions, pending redemptions waiting for my decision)."""
    mine = db.session.scalar(
        sa.select(sa.func.count(Redemption.id)).where(Redemption.user_id == user.id, Redemption.status == "pending")
    )
    return mine or 0, waiting_count(user)


def waiting_count(user: User) -> int:
    """Pending redemptions waiting for my decision."""
    queue = _queue(user)
    return (db.session.scalar(queue.with_only_columns(sa.func.count(Redemption.id))) or 0) if queue is not None else 0


def _queue(actor: User):
    """The select of pending redemptions the actor may decide, or None when there are none."""
    stmt = (
        sa.select(Redemption)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(User, User.id == Redemption.user_id)
        .where(Redemption.status == "pending", Redemption.user_id != actor.id)
    )
    if policy.is_admin(actor):
        return stmt
    teams = policy.managed_team_ids(actor)
    if not teams:
        return None
    return stmt.where(Reward.kind.in_(policy.LEAD_APPROVED_KINDS), User.team_id.in_(teams))


def timelines(redemption_ids: list[int]) -> dict[int, list[RedemptionStep]]:
    """Each redemption's steps, oldest first, in one query."""
    steps: dict[int, list[RedemptionStep]] = defaultdict(list)
    if redemption_ids:
        rows = db.session.scalars(
            sa.select(RedemptionStep)
            .where(RedemptionStep.redemption_id.in_(redemption_ids))
            .order_by(RedemptionStep.created_at, RedemptionStep.id)
        )
        for step in rows:
            steps[step.redemption_id].append(step)
    return steps


def people(user_ids) -> dict[int, User]:
    """Users by id, in one query (owners and deciders shown beside redemptions)."""
    ids = {uid for uid in user_ids if uid}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
