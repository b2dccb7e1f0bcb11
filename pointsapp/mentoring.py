"""Mentorships: a lead pairs a mentor with a mentee; the mentee's first deal pays both.

Rules: no self-pairing, no reciprocal pair (A mentors B while B mentors A), one
active mentor per mentee (a partial unique index makes it so even in a race).

The bonus: the rule for ``mentorship.first_deal`` (the version in force when
the deal occurred) pays its points to mentor and mentee for the mentee's first
point-earning event that occurred after the mentorship began. It is paid once
per mentorship: ``bonus_event_id`` is claimed with a conditional update and the
ledger entries carry ``dedupe_key = "mentorship:<id>:first_deal"``. The entries
link to the triggering event, so reversing that event reverses the bonus too
(and the bonus is not paid again by a later deal).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, bulk, ledger, policy
from pointsapp.errors import Duplicate, InvalidTransition, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import INT_MAX, is_whole
from pointsapp.models import Event, LedgerEntry, Mentorship, Rule, User
from pointsapp.periods import utcnow


def create_mentorship(actor: User, mentor_id: int, mentee_id: int) -> Mentorship:
    """Pair a mentor with a mentee."""
    wanted = [uid for uid in (mentor_id, mentee_id) if is_whole(uid, 1, INT_MAX)]
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}
    missing = {
        name: [_("There is no user %(user_id)s.", user_id=uid)]
        for name, uid in (("mentor_id", mentor_id), ("mentee_id", mentee_id))
        if uid not in users
    }
    if missing:
        raise ValidationFailed(_("Choose two existing people."), fields=missing)
    if mentor_id == mentee_id:
        raise ValidationFailed(
            _("Nobody can mentor themselves."), fields={"mentee_id": [_("Choose someone other than the mentor.")]}
        )
    mentor, mentee = users[mentor_id], users[mentee_id]
    policy.require(policy.can_pair_mentors(actor, mentor, mentee), _("You can pair only members of the teams you lead."))
    active = list(
        db.session.scalars(
            sa.select(Mentorship).where(Mentorship.ended_at.is_(None), Mentorship.mentee_id.in_([mentor_id, mentee_id]))
        )
    )
    for row in active:
        if row.mentee_id == mentor_id and row.mentor_id == mentee_id:
            raise ValidationFailed(
                _("%(name)s already mentors %(name2)s; a pair cannot mentor each other.", name=mentee.name, name2=mentor.name),
                fields={"mentor_id": [_("Reciprocal mentorships are not allowed.")]},
            )
        if row.mentee_id == mentee_id:
            raise Duplicate(_("%(name)s already has an active mentor; end that mentorship first.", name=mentee.name))
    mentorship = Mentorship(mentor_id=mentor_id, mentee_id=mentee_id, created_by_id=actor.id, started_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(mentorship)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Duplicate(_("%(name)s already has an active mentor; end that mentorship first.", name=mentee.name)) from None
    audit.record(actor, "mentorship.created", "mentorship", mentorship.id, {"mentor_id": mentor_id, "mentee_id": mentee_id})
    return mentorship


def end_mentorship(actor: User, mentorship_id: int) -> Mentorship:
    """End an active mentorship (the mentee may then get a new mentor)."""
    mentorship = db.session.get(Mentorship, mentorship_id)
    if mentorship is None:
        raise NotFound(_("There is no such mentorship."))
    mentor, mentee = db.session.get(User, mentorship.mentor_id), db.session.get(User, mentorship.mentee_id)
    policy.require(policy.can_pair_mentors(actor, mentor, mentee), _("You can manage only mentorships in your teams."))
    ended = db.session.execute(
        sa.update(Mentorship).where(Mentorship.id == mentorship_id, Mentorship.ended_at.is_(None)).values(ended_at=utcnow())
    ).rowcount
    if ended != 1:
        raise InvalidTransition(_("This mentorship has already ended."))
    db.session.refresh(mentorship)
    return mentorship


def visible_mentorships(actor: User) -> list[tuple[Mentorship, User, User]]:
    """Mentorships the actor may manage, newest first, with mentor and mentee."""
    mentor, mentee = sa.orm.aliased(User), sa.orm.aliased(User)
    rows = db.session.execute(
        sa.select(Mentorship, mentor, mentee)
        .join(mentor, mentor.id == Mentorship.mentor_id)
        .join(mentee, mentee.id == Mentorship.mentee_id)
        .order_by(Mentorship.ended_at.is_not(None), Mentorship.started_at.desc())
    ).all()
    return [(m, a, b) for m, a, b in rows if policy.can_pair_mentors(actor, a, b)]


def open_mentorships(user_ids: set[int]) -> dict[int, Mentorship]:
    """Active mentorships whose bonus is unpaid, by mentee id (one query per batch)."""
    if not user_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Mentorship).where(
            bulk.among(Mentorship.mentee_id, user_ids), Mentorship.ended_at.is_(None), Mentorship.bonus_event_id.is_(None)
        )
    )
    return {m.mentee_id: m for m in rows}


def pay_first_deal_bonus(mentorship: Mentorship, event: Event, rule: Rule | None) -> list[LedgerEntry]:
    """Pay mentor and mentee the first-deal bonus for this event, once per mentorship."""
    if rule is None or rule.points <= 0 or event.occurred_at < mentorship.started_at:
        return []
    claimed = db.session.execute(
        sa.update(Mentorship)
        .where(Mentorship.id == mentorship.id, Mentorship.bonus_event_id.is_(None))
        .values(bonus_event_id=event.id)
    ).rowcount
    if claimed != 1:
        return []
    reason = f"{rule.name} (event {event.external_id})"
    return [
        ledger.post(
            user_id,
            rule.points,
            kind="mentorship_bonus",
            reason=reason,
            event_id=event.id,
            rule_id=rule.id,
            dedupe_key=f"mentorship:{mentorship.id}:first_deal",
            effective_at=event.occurred_at,
        )
        for user_id in (mentorship.mentor_id, mentorship.mentee_id)
    ]
