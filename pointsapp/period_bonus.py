"""Period bonuses: rules computed by us when a period closes, not posted by a system.

A period rule (``Rule.kind == "period"``) pays its points to every user with at
least one ``requires_event_type`` event and no ``forbids_event_type`` event
(reversed events do not count) that occurred inside the period. Closing is
once per user and period however often it runs: each entry has
``dedupe_key = "period_bonus:<rule type>:<period key>"`` (independent of the
rule's version), and ``PeriodClose`` records each run. Users under a compliance
veto for any part of the period are skipped. The bonus counts for the period it
rewards (``effective_at`` = the period's last moment). Only ended periods can be
closed, so nobody is paid for a quarter that may still bring a bad loan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, ledger, notify, policy, vetoes
from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, PeriodClose, Rule, User
from pointsapp.periods import PERIODS, period_bounds, utcnow


@dataclasses.dataclass
class CloseResult:
    rule: Rule
    period_key: str
    awarded: list[int]
    already_paid: list[int]
    vetoed: list[int]


def qualifying_user_ids(rule: Rule, start: dt.datetime, end: dt.datetime) -> set[int]:
    """Users with a required event and no forbidden one in [start, end)."""

    def users_with(event_type: str | None) -> set[int]:
        if not event_type:
            return set()
        return set(
            db.session.scalars(
                sa.select(Event.user_id)
                .distinct()
                .where(
                    Event.type == event_type,
                    Event.occurred_at >= start,
                    Event.occurred_at < end,
                    Event.reversed_at.is_(None),
                )
            )
        )

    required = users_with(rule.requires_event_type)
    active = set(db.session.scalars(sa.select(User.id).where(User.is_active_account.is_(True))))
    return (required & active) - users_with(rule.forbids_event_type)


def close_period(actor: User | None, period: str, key: str) -> list[CloseResult]:
    """Award every active period rule of this period kind for ``key``, once per user."""
    if actor is not None:
        policy.require(policy.can_edit_rules(actor), _("Only administrators can close a period."))
    if period not in PERIODS:
        raise ValidationFailed(
            _("Choose week, month, quarter or year."), fields={"period": [_("Choose week, month, quarter or year.")]}
        )
    try:
        start, end = period_bounds(period, key)
    except ValueError:
        raise ValidationFailed(
            _("'%(key)s' is not a %(period)s key (e.g. 2026-Q3, 2026-11, 2026-W48, 2026).", key=key, period=period),
            fields={"period_key": [_("Not a valid key.")]},
        ) from None
    if end > utcnow():
        raise ValidationFailed(
            _("%(key)s has not ended yet; close it once it is over.", key=key), fields={"period_key": [_("Not over yet.")]}
        )
    period_rules = list(
        db.session.scalars(sa.select(Rule).where(Rule.kind == "period", Rule.period == period, Rule.active.is_(True)))
    )
    vetoed = vetoes.vetoed_user_ids(period, key)
    results = [_close_rule(actor, rule, period, key, start, end, vetoed) for rule in period_rules]
    audit.record(
        actor,
        "period.closed",
        "period",
        None,
        {
            "period": period,
            "period_key": key,
            "rules": [{"rule_id": r.rule.id, "awarded": r.awarded, "vetoed": r.vetoed} for r in results],
        },
    )
    return results


def _close_rule(actor, rule: Rule, period: str, key: str, start, end, vetoed: set[int]) -> CloseResult:
    dedupe_key = f"period_bonus:{rule.event_type}:{key}"
    qualifying = qualifying_user_ids(rule, start, end)
    paid = set(db.session.scalars(sa.select(LedgerEntry.user_id).where(LedgerEntry.dedupe_key == dedupe_key)))
    result = CloseResult(rule, key, [], sorted(qualifying & paid), sorted(qualifying & vetoed - paid))
    for user_id in sorted(qualifying - paid - vetoed):
        entry = ledger.post(
            user_id,
            rule.points,
            kind="period_bonus",
            reason=f"{rule.name} ({key})",
            actor_id=actor.id if actor else None,
            rule_id=rule.id,
            dedupe_key=dedupe_key,
            effective_at=end - dt.timedelta(seconds=1),
        )
        result.awarded.append(entry.user_id)
        notify.queue(user_id, "award", "points_awarded", {"points": rule.points, "reason": entry.reason}, url="/wallet")
    _record_close(actor, rule, period, key, len(result.awarded))
    return result


def _record_close(actor, rule: Rule, period: str, key: str, count: int) -> None:
    updated = db.session.execute(
        sa.update(PeriodClose)
        .where(PeriodClose.rule_id == rule.id, PeriodClose.period_key == key)
        .values(awarded_count=PeriodClose.awarded_count + count, closed_at=utcnow())
    ).rowcount
    if updated:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                PeriodClose(
                    rule_id=rule.id,
                    period=period,
                    period_key=key,
                    awarded_count=count,
                    closed_by_id=actor.id if actor else None,
                    closed_at=utcnow(),
                )
            )
            db.session.flush()
    except sa.exc.IntegrityError:  # a concurrent close recorded it first
        db.session.execute(
            sa.update(PeriodClose)
            .where(PeriodClose.rule_id == rule.id, PeriodClose.period_key == key)
            .values(awarded_count=PeriodClose.awarded_count + count)
        )


def recent_closes(limit: int = 10) -> list[tuple[PeriodClose, Rule]]:
    """The latest period closes with their rules, newest first."""
    return list(
        db.session.execute(
            sa.select(PeriodClose, Rule)
            .join(Rule, Rule.id == PeriodClose.rule_id)
            .order_by(PeriodClose.closed_at.desc())
            .limit(limit)
        ).all()
    )
