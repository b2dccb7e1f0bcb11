"""Manual awards and deductions by a lead (own teams) or an admin."""

from __future__ import annotations

from flask_babel import gettext as _

from pointsapp import audit, budgets, ledger, notify, policy
from pointsapp.errors import LimitReached, NotFound
from pointsapp.limits import get_by_id
from pointsapp.models import LedgerEntry, User


def award(actor: User, user_id: int, points: int, reason: str) -> LedgerEntry:
    """Give (or with negative points, take) points, with a reason that the member sees."""
    target = get_by_id(User, user_id)
    if target is None:
        raise NotFound(
            _("There is no user %(user_id)s.", user_id=user_id), fields={"user_id": [_("No user %(user_id)s.", user_id=user_id)]}
        )
    policy.require(actor.id != target.id, _("Nobody can award points to themselves, leads and administrators included."))
    policy.require(policy.can_award(actor, target), _("You can award points only to members of the teams you lead."))
    limit = policy.award_limit(actor)
    if limit is not None and abs(points) > limit:
        raise LimitReached(
            _("Team leads can award or deduct at most %(limit)s points at a time; ask HR for a larger amount.", limit=limit),
            fields={"points": [_("At most %(limit)s points at a time.", limit=limit)]},
        )
    drawn = budgets.draw_for_award(actor, target, points)  # a lead's award comes out of the team budget
    kind = "manual_award" if points > 0 else "manual_deduction"
    entry = ledger.post(target.id, points, kind=kind, reason=reason, actor_id=actor.id)
    audit.record(
        actor,
        "award.created",
        "award",
        entry.id,
        {
            "user_id": target.id,
            "points": points,
            "kind": kind,
            "reason": entry.reason,
            "budget_team_id": drawn.team_id if drawn else None,
            "budget_period_key": drawn.period_key if drawn else None,
        },
    )
    if points > 0:
        notify.queue(target.id, "award", "points_awarded", {"points": points, "reason": entry.reason}, url="/wallet")
    return entry
