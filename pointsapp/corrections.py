"""Corrections: reversing a cause reaches everything it produced, closed periods and challenges too.

Design overview
---------------
* **What a cause produced.** An event's own entries (awards, shares, the
  mentorship bonus it triggered) carry its ``event_id``. A closed challenge's
  payouts come from the events counted for it, a period bonus from the events
  that qualified, and a compliance veto bars period rewards. Reversing an event
  (``reverse_cascade``) therefore reverses its entries, restates every closed
  challenge it counted for and takes back period bonuses it no longer earns.
* **Restating a closed challenge** (``restate_challenge``) locks the challenge
  row, recounts progress from the unreversed events and compares what is paid
  (the ledger's net per member) with what the close would pay now (events
  stored after the close never count: a closed challenge only loses). Still
  succeeded: each member's difference is a ``challenge_payout`` entry linked by
  ``corrects_id`` to that member's original payout (largest-remainder split, as
  at close). No longer succeeded: every payout entry is reversed and the
  challenge is ``failed``. Each restatement is one ``ChallengeRestatement`` row
  per (challenge, cause), so a retry or a race changes nothing more; racing
  restatements of different causes queue on the row lock and the second
  recounts what the first committed.
* **Clawback.** An event of a clawback type (``CLAWBACK_EVENT_TYPES``) with a
  related event reverses that event's whole cascade, with a reason naming the
  clawback event. A clawback or breach whose ``occurred_at`` falls in an
  already closed period reverses the period bonuses it would have prevented; a
  breach also restates the user out of the closed challenges its quarter
  touches and revokes their honours of that quarter.
* **Lock order.** The event row (claimed by a conditional update), then the
  affected challenges in id order, then wallets: two reversals of events of the
  same challenge queue on the challenge before either touches a wallet.
* Every correction entry names its cause (``cause_event_id``) and says in its
  reason what was restated and why; members are notified of changed payouts.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from pointsapp import audit, budgets, challenges, ledger, notify, vetoes
from pointsapp.extensions import db
from pointsapp.models import (
    Challenge,
    ChallengePayout,
    ChallengeRestatement,
    Event,
    Honor,
    Integration,
    LedgerEntry,
    Rule,
    User,
)
from pointsapp.periods import period_bounds, period_key, period_of_key, utcnow
from pointsapp.rules import COMPLIANCE_BREACH_TYPE

DEFAULT_CLAWBACK_TYPES = ("bad_loan",)


def clawback_types() -> tuple[str, ...]:
    """Event types that claw back their related event (setting ``CLAWBACK_EVENT_TYPES``)."""
    return tuple(current_app.config.get("CLAWBACK_EVENT_TYPES") or DEFAULT_CLAWBACK_TYPES)


# --- reversing an event and everything it caused --------------------------------


def claim_reversal(event: Event, *, actor_id: int | None, reason: str) -> bool:
    """Mark the event reversed; False when it already was (a conditional update decides races)."""
    claimed = db.session.execute(
        sa.update(Event)
        .where(Event.id == event.id, Event.reversed_at.is_(None))
        .values(reversed_at=utcnow(), reversed_by_id=actor_id, reverse_reason=reason[:500])
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(event)
    return claimed == 1


def reverse_cascade(
    event: Event, *, actor_id: int | None, reason: str, cause: Event | None = None, actor=None
) -> list[LedgerEntry]:
    """Reverse a (claimed) event's entries, restate its closed challenges and retake lost period bonuses.

    ``cause`` is the clawback event when one triggered the reversal; the
    corrections then name it. ``actor`` (a user, an integration or None) signs
    the audit records. Returns every entry posted, the event's own reversals first.
    """
    cause_id = cause.id if cause is not None else event.id
    affected = counted_challenges(event)
    if event.type == COMPLIANCE_BREACH_TYPE:  # its veto lifts: the user's pool shares come back
        affected += _challenges_vetoed_from(event.user_id, period_key(vetoes.VETO_PERIOD, event.occurred_at))
    affected = lock_challenges(sorted({c.id: c for c in affected}.values(), key=lambda c: c.id))
    own = db.session.scalars(
        sa.select(LedgerEntry).where(LedgerEntry.event_id == event.id, LedgerEntry.kind != "reversal").order_by(LedgerEntry.id)
    )
    posted = [
        ledger.reverse(entry, actor_id=actor_id, reason=f"Reversed: {entry.reason} — {reason}", cause_event_id=cause_id)
        for entry in own
    ]
    vetoes.lift_for_event(event.id, actor_id, f"Event reversed: {reason}")
    why = f"event {event.external_id} ({event.type}) reversed: {reason}"
    for challenge in affected:
        posted += restate_challenge(
            challenge, cause=f"event:{event.id}:reversed", cause_event_id=cause_id, reason=why, actor_id=actor_id, actor=actor
        )
    posted += retake_unearned_period_bonuses(event, cause_event_id=cause_id, reason=why, actor_id=actor_id)
    return posted


def counted_challenges(event: Event) -> list[Challenge]:
    """Closed challenges whose progress counted this event."""
    team_id = db.session.scalar(sa.select(User.team_id).where(User.id == event.user_id))
    if team_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Challenge)
            .where(
                Challenge.status != "active",
                Challenge.closed_at >= event.created_at,
                Challenge.event_type == event.type,
                Challenge.starts_at <= event.occurred_at,
                Challenge.ends_at > event.occurred_at,
                Challenge.team_id.in_(challenges.ancestor_ids(team_id)),
            )
            .order_by(Challenge.id)
        )
    )


def lock_challenges(rows: list[Challenge]) -> list[Challenge]:
    """Lock challenge rows in id order (SQLite's write transaction already serialises)."""
    if not rows or db.session.get_bind().dialect.name != "postgresql":
        return rows
    ids = sorted(c.id for c in rows)
    return list(
        db.session.scalars(
            sa.select(Challenge)
            .where(Challenge.id.in_(ids))
            .order_by(Challenge.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def lock_before_wallets(related: list[Event], breaches: list[tuple[int, dt.datetime]]) -> None:
    """Lock what a batch's clawbacks and breaches may correct, before the batch locks wallets (PostgreSQL).

    The events to claw back in id order, then the challenges they or the
    breaches may restate in id order: the order every reversal takes, so a
    batch and a concurrent reversal queue instead of deadlocking.
    """
    if db.session.get_bind().dialect.name != "postgresql" or not (related or breaches):
        return
    claimed = []
    if related and clawback_types():
        claimed = list(
            db.session.scalars(
                sa.select(Event)
                .where(Event.id.in_(sorted({e.id for e in related})))
                .order_by(Event.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
    found = [c for e in claimed if e.reversed_at is None for c in counted_challenges(e)]
    for user_id, moment in breaches:
        found += _paid_challenges_in(user_id, period_key(vetoes.VETO_PERIOD, moment))
    lock_challenges(sorted({c.id: c for c in found}.values(), key=lambda c: c.id))


# --- restating a closed challenge ------------------------------------------------


def payout_entries(challenge_id: int) -> list[LedgerEntry]:
    """A challenge's payout entries: originals, their corrections, and the reversals of both."""
    originals = sa.select(LedgerEntry.id).where(LedgerEntry.dedupe_key == f"challenge:{challenge_id}")
    corrections = sa.select(LedgerEntry.id).where(LedgerEntry.corrects_id.in_(originals))
    return list(
        db.session.scalars(
            sa.select(LedgerEntry)
            .where(
                sa.or_(
                    LedgerEntry.id.in_(originals),
                    LedgerEntry.id.in_(corrections),
                    LedgerEntry.reverses_id.in_(originals),
                    LedgerEntry.reverses_id.in_(corrections),
                )
            )
            .order_by(LedgerEntry.id)
        )
    )


def restate_challenge(
    challenge: Challenge, *, cause: str, reason: str, actor_id: int | None, cause_event_id: int | None = None, actor=None
) -> list[LedgerEntry]:
    """Bring a closed challenge's payouts in line with a recount, once per (challenge, cause).

    What the pool no longer pays goes back to the team budget it was reserved
    from; the restatement leaves one ``challenge.restated`` audit record.
    """
    challenge = lock_challenges([challenge])[0]
    db.session.refresh(challenge)
    if challenge.status == "active":
        return []  # nothing is final yet: the close will count what is left
    values = challenges.contributions_of(challenge, stored_by=challenge.closed_at)
    progress = sum(values.values())
    # A recount only falls: a failed challenge stays failed, with its progress recounted.
    status = "succeeded" if challenge.status == "succeeded" and progress >= challenge.target else "failed"
    record = ChallengeRestatement(
        challenge_id=challenge.id,
        cause=cause[:64],
        cause_event_id=cause_event_id,
        reason=reason[:500],
        status_before=challenge.status,
        status_after=status,
        progress_before=challenge.progress,
        progress_after=progress,
        actor_id=actor_id,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
    except sa.exc.IntegrityError:
        return []  # this cause restated it already
    entries = payout_entries(challenge.id)
    net: dict[int, int] = {}
    original: dict[int, LedgerEntry] = {}
    for entry in entries:
        net[entry.user_id] = net.get(entry.user_id, 0) + entry.points
        if entry.dedupe_key == f"challenge:{challenge.id}":
            original[entry.user_id] = entry
    wanted = challenges.payout_split(challenge, values) if status == "succeeded" else {}
    what = f"Restated: team challenge {challenge.title} — {reason}"
    posted: list[LedgerEntry] = []
    if status == "failed":
        reversed_ids = {e.reverses_id for e in entries if e.reverses_id is not None}
        for entry in entries:
            if entry.kind != "reversal" and entry.id not in reversed_ids:
                posted.append(ledger.reverse(entry, actor_id=actor_id, reason=what, cause_event_id=cause_event_id))
    else:
        for user_id in sorted(set(net) | set(wanted)):
            difference = wanted.get(user_id, 0) - net.get(user_id, 0)
            if difference == 0:
                continue
            first = original.get(user_id)
            posted.append(
                ledger.post(
                    user_id,
                    difference,
                    kind="challenge_payout",
                    reason=what,
                    actor_id=actor_id,
                    dedupe_key=f"challenge:{challenge.id}" if first is None else f"challenge:{challenge.id}:restated:{record.id}",
                    effective_at=first.effective_at if first is not None else challenge.closed_at,
                    corrects_id=first.id if first is not None else None,
                    cause_event_id=cause_event_id,
                )
            )
    after = dict(wanted)
    returned = 0
    if sum(net.values()) > sum(after.values()):
        returned = budgets.release(challenge.id, sum(net.values()) - sum(after.values()))
    _update_payout_rows(challenge, values, after)
    db.session.execute(
        sa.update(Challenge)
        .where(Challenge.id == challenge.id)
        .values(
            status=status,
            progress=progress,
            restated_at=record.created_at,
            final_contributions=[[uid, value] for uid, value in sorted(values.items())],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(challenge)
    audit.record(
        actor if actor is not None else _user(actor_id),
        "challenge.restated",
        "challenge",
        challenge.id,
        {
            "cause": record.cause,
            "reason": record.reason,
            "status": [record.status_before, status],
            "progress": [record.progress_before, progress],
            "returned_to_budget": returned,
            "payouts": [
                {"user_id": uid, "before": net.get(uid, 0), "after": after.get(uid, 0)} for uid in sorted(set(net) | set(after))
            ],
        },
    )
    _tell_members(challenge, record, net, after, reason)
    return posted


def _user(user_id: int | None) -> User | None:
    return db.session.get(User, user_id) if user_id is not None else None


def _poster(event: Event) -> User | Integration | None:
    """Who posted an event: its integration, else the admin who did."""
    if event.source.startswith("integration:") and event.source.removeprefix("integration:").isdigit():
        return db.session.get(Integration, int(event.source.removeprefix("integration:")))
    return _user(event.created_by_id)


def _update_payout_rows(challenge: Challenge, values: dict[int, int], after: dict[int, int]) -> None:
    """Keep each member's payout row at the net they now hold from the pool."""
    rows = {
        p.user_id: p for p in db.session.scalars(sa.select(ChallengePayout).where(ChallengePayout.challenge_id == challenge.id))
    }
    for user_id in set(rows) | set(after):
        row = rows.get(user_id)
        if row is None:
            db.session.add(
                ChallengePayout(
                    challenge_id=challenge.id, user_id=user_id, contribution=values.get(user_id, 0), points=after[user_id]
                )
            )
        else:
            row.points, row.contribution = after.get(user_id, 0), values.get(user_id, 0)
    db.session.flush()


def _tell_members(
    challenge: Challenge, record: ChallengeRestatement, before: dict[int, int], after: dict[int, int], reason: str
) -> None:
    for user_id in sorted(set(before) | set(after)):
        old, new = before.get(user_id, 0), after.get(user_id, 0)
        if old == new:
            continue
        notify.queue(
            user_id,
            "challenge",
            "challenge_restated",
            {
                "challenge_id": challenge.id,
                **challenges.title_params(challenge),
                "status": challenge.status,
                "before": old,
                "after": new,
                "reason": reason,
            },
            url=f"/challenges/{challenge.id}",
            dedupe_key=f"challenge_restated:{record.id}:{user_id}",
        )


# --- period bonuses, honours and pool shares after the period closed ------------


def _live_bonuses(user_id: int, dedupe_keys: list[str] | None = None) -> list[LedgerEntry]:
    stmt = sa.select(LedgerEntry).where(
        LedgerEntry.user_id == user_id,
        LedgerEntry.kind == "period_bonus",
        ~sa.exists().where(sa.orm.aliased(LedgerEntry).reverses_id == LedgerEntry.id),
    )
    if dedupe_keys is not None:
        stmt = stmt.where(LedgerEntry.dedupe_key.in_(dedupe_keys))
    return list(db.session.scalars(stmt.order_by(LedgerEntry.id)))


def _period_rules(**where) -> list[tuple[str, str]]:
    """(bonus type, period) of the period rules matching, every version once."""
    stmt = sa.select(Rule.event_type, Rule.period).distinct().where(Rule.kind == "period")
    for column, value in where.items():
        stmt = stmt.where(getattr(Rule, column) == value)
    return [(t, p) for t, p in db.session.execute(stmt).all() if p]


def _bonus_key(bonus_type: str, period: str, moment: dt.datetime) -> str:
    return f"period_bonus:{bonus_type}:{period_key(period, moment)}"


def retake_unearned_period_bonuses(event: Event, *, cause_event_id: int, reason: str, actor_id: int | None) -> list[LedgerEntry]:
    """Reverse the user's period bonuses that a reversed qualifying event no longer earns."""
    posted = []
    for bonus_type, period in _period_rules(requires_event_type=event.type):
        key = period_key(period, event.occurred_at)
        start, end = period_bounds(period, key)
        still = db.session.scalar(
            sa.select(Event.id)
            .where(
                Event.user_id == event.user_id,
                Event.type == event.type,
                Event.reversed_at.is_(None),
                Event.occurred_at >= start,
                Event.occurred_at < end,
            )
            .limit(1)
        )
        if still is None:
            for bonus in _live_bonuses(event.user_id, [f"period_bonus:{bonus_type}:{key}"]):
                posted.append(
                    ledger.reverse(
                        bonus, actor_id=actor_id, reason=f"Reversed: {bonus.reason} — {reason}", cause_event_id=cause_event_id
                    )
                )
    return posted


def forbidding_rules(event_types: set[str]) -> dict[str, list[tuple[str, str]]]:
    """(bonus type, period) of the period rules each event type forbids: one query for a whole batch."""
    found: dict[str, list[tuple[str, str]]] = {t: [] for t in event_types}
    if event_types:
        stmt = (
            sa.select(Rule.forbids_event_type, Rule.event_type, Rule.period)
            .distinct()
            .where(Rule.kind == "period", Rule.forbids_event_type.in_(event_types))
        )
        for forbidden, bonus_type, period in db.session.execute(stmt):
            if period:
                found[forbidden].append((bonus_type, period))
    return found


def event_stored(
    event: Event, *, related: Event | None, actor_id: int | None, forbidding: list[tuple[str, str]] | None = None
) -> list[LedgerEntry]:
    """Apply what a newly stored event corrects: its clawback, and closed periods it falls in.

    ``forbidding`` is ``forbidding_rules()`` for the event's type when the caller
    looked it up for a whole batch; without it the rules are read here.
    """
    posted: list[LedgerEntry] = []
    name = f"{event.type} {event.external_id}"
    if related is not None and event.type in clawback_types() and related.reversed_at is None:
        reason = f"Clawback by {name}"
        if claim_reversal(related, actor_id=actor_id, reason=reason):
            poster = _poster(event)
            reversals = reverse_cascade(related, actor_id=actor_id, reason=reason, cause=event, actor=poster)
            audit.record(
                poster,
                "event.reversed",
                "event",
                related.id,
                {
                    "reason": reason,
                    "clawback_event_id": event.id,
                    "reversals": [{"user_id": e.user_id, "points": e.points} for e in reversals],
                },
            )
            posted += reversals
    if forbidding is None:
        forbidding = _period_rules(forbids_event_type=event.type)
    forbidden = [_bonus_key(t, p, event.occurred_at) for t, p in forbidding]
    if forbidden:
        for bonus in _live_bonuses(event.user_id, forbidden):
            posted.append(
                ledger.reverse(
                    bonus, actor_id=actor_id, reason=f"Reversed: {bonus.reason} — {name} in the period", cause_event_id=event.id
                )
            )
    if event.type == COMPLIANCE_BREACH_TYPE:
        posted += veto_after_the_fact(event, actor_id=actor_id)
    return posted


def veto_after_the_fact(event: Event, *, actor_id: int | None) -> list[LedgerEntry]:
    """A breach's quarter: reverse the user's period bonuses, restate their pool shares, revoke their honours."""
    quarter = period_key(vetoes.VETO_PERIOD, event.occurred_at)
    why = f"compliance breach {event.external_id} in {quarter}"
    posted = [
        ledger.reverse(bonus, actor_id=actor_id, reason=f"Reversed: {bonus.reason} — {why}", cause_event_id=event.id)
        for bonus in _live_bonuses(event.user_id)
        if _overlaps(bonus.dedupe_key.rsplit(":", 1)[-1], quarter)
    ]
    for challenge in lock_challenges(_paid_challenges_in(event.user_id, quarter)):
        posted += restate_challenge(
            challenge, cause=f"veto:{event.id}", cause_event_id=event.id, reason=why, actor_id=actor_id, actor=_poster(event)
        )
    now = utcnow()
    for honor in db.session.scalars(sa.select(Honor).where(Honor.user_id == event.user_id, Honor.revoked_at.is_(None))):
        if _overlaps(honor.period_key, quarter):
            honor.revoked_at, honor.revoke_reason = now, why[:500]
    db.session.flush()
    return posted


def _overlaps(key: str, quarter: str) -> bool:
    """Whether a period key (week, month, quarter, year) overlaps the quarter."""
    kind = period_of_key(key or "")
    return kind is not None and quarter in vetoes.overlapping_quarters(kind, key)


def _challenges_vetoed_from(user_id: int, quarter: str) -> list[Challenge]:
    """Closed, succeeded challenges overlapping the quarter that counted the user but pay them nothing."""
    start, end = period_bounds(vetoes.VETO_PERIOD, quarter)
    team_id = db.session.scalar(sa.select(User.team_id).where(User.id == user_id))
    if team_id is None:
        return []
    paid = sa.select(ChallengePayout.challenge_id).where(ChallengePayout.user_id == user_id, ChallengePayout.points != 0)
    rows = db.session.scalars(
        sa.select(Challenge).where(
            Challenge.status == "succeeded",
            Challenge.starts_at < end,
            Challenge.ends_at > start,
            Challenge.team_id.in_(challenges.ancestor_ids(team_id)),
            Challenge.id.not_in(paid),
        )
    )
    return [c for c in rows if any(int(uid) == user_id for uid, _value in (c.final_contributions or []))]


def _paid_challenges_in(user_id: int, quarter: str) -> list[Challenge]:
    start, end = period_bounds(vetoes.VETO_PERIOD, quarter)
    return list(
        db.session.scalars(
            sa.select(Challenge)
            .join(ChallengePayout, ChallengePayout.challenge_id == Challenge.id)
            .where(
                ChallengePayout.user_id == user_id,
                ChallengePayout.points != 0,
                Challenge.status == "succeeded",
                Challenge.starts_at < end,
                Challenge.ends_at > start,
            )
            .order_by(Challenge.id)
        )
    )
