"""Team challenges: a lead sets a target for a team; on success a point pool is shared out.

Design overview
---------------
* Progress is never stored while a challenge runs: it is the sum of
  ``quantity`` over the team's (and its sub-teams') members' events of the
  challenge's ``event_type`` with ``starts_at <= occurred_at < ends_at``,
  reversed events excluded. One grouped query gives every contribution.
* Closing freezes progress and contributions on the row. It is one
  conditional ``UPDATE ... WHERE status = 'active'``: of two racing closes
  exactly one changes the row and pays out; the other sees the row count 0
  and returns the result the first one wrote (on PostgreSQL it waits on the
  row lock; SQLite write transactions start with ``BEGIN IMMEDIATE``).
* A challenge succeeds when progress reaches the target at close (it stays
  ``active`` until then, even once the target is reached). The pool is split
  in proportion to contributions by the largest-remainder method
  (``split_pool``); members vetoed in any month the window touches, and the
  challenge's creator, get no share (the creator's events still count toward
  progress). A lead's pool is reserved from the team budget at launch
  (``budgets.reserve``); whatever is not paid out at close goes back to it.
  Payouts go through ``ledger.post`` with ``dedupe_key="challenge:<id>"``,
  so a payout can never happen twice for a user.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, budgets, ledger, names, notify, policy, rules, vetoes
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Challenge, ChallengePayout, Event, Team, User
from pointsapp.models.org import team_subtree_ids
from pointsapp.periods import as_utc, period_key, utcnow

# Both fit a 32-bit INTEGER column; a pool is paid out as points, so it stays modest.
MAX_TARGET = 1_000_000_000
MAX_POOL = 10_000_000
# A challenge is a sprint, not an archive or a standing order: these bounds catch a mistyped
# year (0001, 9999) before it makes a window no page can show or no close will ever reach.
MAX_START_AGO = dt.timedelta(days=366)  # it may start in the past (a quarter already run), within a year
MAX_START_AHEAD = dt.timedelta(days=366)
MAX_LENGTH = dt.timedelta(days=366)

# --- the pool split (pure) -------------------------------------------------------


def split_pool(pool: int, contributions: dict[int, int]) -> dict[int, int]:
    """Split ``pool`` in proportion to contributions: integers summing exactly to ``pool``.

    Largest-remainder method: everyone gets the floor of their exact share;
    the points left over go one each to the largest fractional remainders.
    Ties between equal remainders go to the larger contribution first, then
    to the lower user id. Contributions of zero or less take no part.
    Returns {user_id: points} for every positive contributor (points may be 0).
    """
    if pool < 0:
        raise ValueError("pool must not be negative")
    shares = {uid: value for uid, value in contributions.items() if value > 0}
    total = sum(shares.values())
    if total == 0:
        return {}
    # Exact share = pool * value / total; keep the remainder as an integer numerator.
    floors = {uid: pool * value // total for uid, value in shares.items()}
    remainders = {uid: pool * value % total for uid, value in shares.items()}
    left = pool - sum(floors.values())
    order = sorted(shares, key=lambda uid: (-remainders[uid], -shares[uid], uid))
    for uid in order[:left]:
        floors[uid] += 1
    return floors


# --- reading ---------------------------------------------------------------------


@dataclasses.dataclass
class ChallengeView:
    challenge: Challenge
    team_name: str
    progress: int
    contributions: list[dict]  # [{user_id, name, value}], largest first
    payouts: list[dict]  # [{user_id, name, points}]

    def __getattr__(self, name):  # id, title, status, target, pool, ... from the row
        if name == "challenge":  # not set yet (copying): never recurse
            raise AttributeError(name)
        return getattr(self.challenge, name)

    @property
    def paid(self) -> dict[int, int]:
        return {p["user_id"]: p["points"] for p in self.payouts}

    @property
    def percent(self) -> int:
        return min(100, self.progress * 100 // self.challenge.target) if self.challenge.target else 0

    @property
    def days_left(self) -> int:
        seconds = (as_utc(self.challenge.ends_at) - utcnow()).total_seconds()
        return max(0, math.ceil(seconds / 86400))


def member_ids(team_id: int) -> list[int]:
    """Users in the team and every team under it."""
    teams = team_subtree_ids(team_id)
    return list(db.session.scalars(sa.select(User.id).where(User.team_id.in_(teams)).order_by(User.id)))


def contributions_of(challenge: Challenge, *, stored_by: dt.datetime | None = None) -> dict[int, int]:
    """Each member's live contribution (sum of quantity inside the window).

    With ``stored_by`` only events stored by then count: a restatement recounts
    what the close counted, less what was reversed since.
    """
    teams = team_subtree_ids(challenge.team_id)
    stmt = (
        sa.select(Event.user_id, sa.func.sum(Event.quantity))
        .join(User, User.id == Event.user_id)
        .where(
            User.team_id.in_(teams),
            Event.type == challenge.event_type,
            Event.occurred_at >= challenge.starts_at,
            Event.occurred_at < challenge.ends_at,
            Event.reversed_at.is_(None),
        )
        .group_by(Event.user_id)
    )
    if stored_by is not None:
        stmt = stmt.where(Event.created_at <= stored_by)
    rows = db.session.execute(stmt).all()
    return {user_id: int(total) for user_id, total in rows if total}


def view(challenge: Challenge) -> ChallengeView:
    """Progress, contributions and payouts: frozen once closed, live while active."""
    if challenge.status == "active":
        values = contributions_of(challenge)
    else:
        values = {int(uid): int(value) for uid, value in (challenge.final_contributions or [])}
    payouts = list(
        db.session.scalars(
            sa.select(ChallengePayout)
            .where(ChallengePayout.challenge_id == challenge.id, ChallengePayout.points != 0)
            .order_by(ChallengePayout.user_id)
        )
    )
    ids = set(values) | {p.user_id for p in payouts}
    user_names = dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    team = db.session.get(Team, challenge.team_id)
    contributions = [
        {"user_id": uid, "name": user_names.get(uid, ""), "value": value}
        for uid, value in sorted(values.items(), key=lambda item: (-item[1], item[0]))
    ]
    return ChallengeView(
        challenge=challenge,
        team_name=names.localized(team) if team else "",
        progress=sum(values.values()) if challenge.status == "active" else challenge.progress,
        contributions=contributions,
        payouts=[{"user_id": p.user_id, "name": user_names.get(p.user_id, ""), "points": p.points} for p in payouts],
    )


def title_params(challenge: Challenge) -> dict:
    """A notification's title parameters: the base title and its translations, rendered in the reader's language."""
    titles = {language: texts["title"] for language, texts in (challenge.translations or {}).items() if texts.get("title")}
    return {"title": challenge.title, "titles": titles} if titles else {"title": challenge.title}


def get_challenge(actor: User, challenge_id: int) -> ChallengeView:
    """A challenge for a member of its team, their leads or an admin."""
    challenge = db.session.get(Challenge, challenge_id, populate_existing=True)
    if challenge is None or not policy.can_view_challenge(actor, challenge.team_id):
        # Outsiders may not learn that the challenge exists.
        raise NotFound(_("There is no challenge %(challenge_id)s.", challenge_id=challenge_id))
    return view(challenge)


def visible_challenges(actor: User, *, limit: int = 50) -> list[ChallengeView]:
    """Challenges of my teams (and teams I lead): active first, then the latest closed."""
    if policy.is_admin(actor):
        team_ids = None
    else:
        team_ids = policy.managed_team_ids(actor)
        if actor.team_id is not None:
            # A member sees challenges of their own team and of the teams above it.
            team_ids |= ancestor_ids(actor.team_id)
    stmt = sa.select(Challenge)
    if team_ids is not None:
        stmt = stmt.where(Challenge.team_id.in_(team_ids))
    stmt = stmt.order_by(Challenge.status != "active", Challenge.ends_at.desc(), Challenge.id.desc()).limit(limit)
    return [view(c) for c in db.session.scalars(stmt)]


def ancestor_ids(team_id: int) -> set[int]:
    """The team and every team above it."""
    ids: set[int] = set()
    current: int | None = team_id
    while current is not None and current not in ids:
        ids.add(current)
        current = db.session.scalar(sa.select(Team.parent_id).where(Team.id == current))
    return ids


def active_for_teams(team_ids: set[int]) -> list[ChallengeView]:
    """Running challenges of these teams, soonest end first (for the TV board)."""
    if not team_ids:
        return []
    stmt = (
        sa.select(Challenge)
        .where(Challenge.team_id.in_(team_ids), Challenge.status == "active")
        .order_by(Challenge.ends_at, Challenge.id)
    )
    return [view(c) for c in db.session.scalars(stmt)]


# --- launching -------------------------------------------------------------------


def window_problems(starts_at: dt.datetime, ends_at: dt.datetime) -> dict[str, list[str]]:
    """What is wrong with a challenge window, by field; empty when it is sound.

    See ``MAX_START_AGO``, ``MAX_START_AHEAD`` and ``MAX_LENGTH``. A time that
    does not exist in UTC (0001-01-01 00:00 in Shanghai) is out of range too.
    """
    now = utcnow()
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        try:
            as_utc(moment)
        except OverflowError:
            return {field: [_("Out of range.")]}
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if starts_at < now - MAX_START_AGO:
        return {"starts_at": [_("The start may be at most %(days)s days in the past.", days=MAX_START_AGO.days)]}
    if starts_at > now + MAX_START_AHEAD:
        return {"starts_at": [_("The start may be at most %(days)s days ahead.", days=MAX_START_AHEAD.days)]}
    if ends_at <= starts_at:
        return {"ends_at": [_("The end must be after the start.")]}
    if ends_at - starts_at > MAX_LENGTH:
        return {"ends_at": [_("A challenge may last at most %(days)s days.", days=MAX_LENGTH.days)]}
    return {}


def launch(
    actor: User,
    *,
    team_id: int,
    title: str,
    event_type: str,
    target: int,
    pool: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    translations: dict | None = None,
) -> Challenge:
    """Launch a challenge for a team the actor leads (or any team, for an admin).

    ``translations`` carries the title in other languages, ``{"zh": {"title": …}}``.
    """
    if db.session.get(Team, team_id) is None:
        raise NotFound(
            _("There is no team %(team_id)s.", team_id=team_id), fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]}
        )
    policy.require(policy.can_manage_challenge(actor, team_id), _("You can only launch challenges for the teams you lead."))
    fields: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        fields["title"] = [_("Give the challenge a title.")]
    if not event_type:
        fields["event_type"] = [_("Choose what counts (an event type).")]
    elif not rules.is_event_type(event_type):  # as POST /events checks it: "loan_signed\n" is not a type
        fields["event_type"] = [_("Use lower-case letters, digits and _ . : - (at most 64 characters).")]
    if not isinstance(target, int) or not 0 < target <= MAX_TARGET:
        fields["target"] = [_("The target must be a whole number from 1 to %(MAX_TARGET)s.", MAX_TARGET=MAX_TARGET)]
    if not isinstance(pool, int) or not 0 < pool <= MAX_POOL:
        fields["pool"] = [_("The point pool must be a whole number from 1 to %(MAX_POOL)s.", MAX_POOL=MAX_POOL)]
    if starts_at is None:
        fields["starts_at"] = [_("Give the start date and time.")]
    if ends_at is None:
        fields["ends_at"] = [_("Give the end date and time.")]
    if starts_at is not None and ends_at is not None:
        fields |= window_problems(starts_at, ends_at)
    try:
        translations = names.clean_translations(translations, names.CHALLENGE_FIELDS)
    except ValidationFailed as error:
        fields |= error.fields
    if fields:
        raise ValidationFailed(
            _("The challenge cannot be launched: %(problems)s", problems=" ".join(v[0] for v in fields.values())), fields=fields
        )
    budget_month = budgets.reserve(actor, team_id, pool)  # a lead's pool comes out of the team budget
    challenge = Challenge(
        team_id=team_id,
        title=title[:160],
        translations=translations,
        event_type=event_type,
        target=target,
        pool=pool,
        starts_at=as_utc(starts_at),
        ends_at=as_utc(ends_at),
        status="active",
        progress=0,
        created_by_id=actor.id,
    )
    db.session.add(challenge)
    db.session.flush()
    budgets.record_reservation(challenge, budget_month)
    audit.record(
        actor,
        "challenge.created",
        "challenge",
        challenge.id,
        {
            "team_id": team_id,
            "title": challenge.title,
            "translations": translations,
            "event_type": challenge.event_type,
            "target": target,
            "pool": pool,
            "starts_at": challenge.starts_at,
            "ends_at": challenge.ends_at,
            "budget_period_key": budget_month,
        },
    )
    params = {"challenge_id": challenge.id, **title_params(challenge), "target": target, "pool": pool, "points": pool}
    for user_id in member_ids(team_id):
        notify.queue(
            user_id,
            "challenge",
            "challenge_launched",
            params,
            url=f"/challenges/{challenge.id}",
            dedupe_key=f"challenge_launched:{challenge.id}:{user_id}",
        )
    return challenge


# --- closing ---------------------------------------------------------------------


def vetoed_during(challenge: Challenge) -> set[int]:
    """Users vetoed in any month the challenge window touches."""
    vetoed: set[int] = set()
    keys: list[str] = []
    moment = as_utc(challenge.starts_at)
    end = as_utc(challenge.ends_at)
    while moment < end:
        key = period_key("month", moment)
        if key not in keys:
            keys.append(key)
        moment += dt.timedelta(days=27)
    last = period_key("month", end - dt.timedelta(microseconds=1))
    if last not in keys:
        keys.append(last)
    for key in keys:
        vetoed |= vetoes.vetoed_user_ids("month", key)
    return vetoed


def payable(challenge: Challenge, values: dict[int, int]) -> dict[int, int]:
    """The contributions that earn a share of the pool: not the creator's, nor a vetoed member's.

    Nobody is paid from a challenge they created; their events still count toward progress.
    """
    excluded = vetoed_during(challenge) | {challenge.created_by_id}
    return {uid: value for uid, value in values.items() if uid not in excluded}


def payout_split(challenge: Challenge, values: dict[int, int]) -> dict[int, int]:
    """Who is paid what from the pool for these contributions: {user_id: points > 0} (at close and on restatement)."""
    return {uid: points for uid, points in split_pool(challenge.pool, payable(challenge, values)).items() if points > 0}


def close(actor: User | None, challenge_id: int) -> ChallengeView:
    """Close a challenge (its lead, an admin, or the scheduler when ``actor`` is None).

    Closing twice returns the first result.
    """
    challenge = db.session.get(Challenge, challenge_id, populate_existing=True)
    if challenge is None or (actor is not None and not policy.can_view_challenge(actor, challenge.team_id)):
        raise NotFound(_("There is no challenge %(challenge_id)s.", challenge_id=challenge_id))
    if actor is not None:
        policy.require(policy.can_manage_challenge(actor, challenge.team_id), _("Only the team's lead or an admin can close it."))
    if challenge.status != "active":
        return view(challenge)
    values = contributions_of(challenge)
    progress = sum(values.values())
    status = "succeeded" if progress >= challenge.target else "failed"
    now = utcnow()
    changed = db.session.execute(
        sa.update(Challenge)
        .where(Challenge.id == challenge_id, Challenge.status == "active")
        .values(
            status=status,
            progress=progress,
            final_contributions=[[uid, value] for uid, value in sorted(values.items())],
            closed_at=now,
            closed_by_id=actor.id if actor else None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    challenge = db.session.get(Challenge, challenge_id, populate_existing=True)
    if changed != 1:
        return view(challenge)  # someone else closed it first; theirs is the result
    paid: dict[int, int] = {}
    if status == "succeeded":
        leavers = _inactive(values)  # deactivated members are not paid from challenges closed after they left
        for user_id, points in sorted(payout_split(challenge, {u: v for u, v in values.items() if u not in leavers}).items()):
            ledger.post(
                user_id,
                points,
                kind="challenge_payout",
                reason=f"Team challenge: {challenge.title}",
                actor_id=actor.id if actor else None,
                dedupe_key=f"challenge:{challenge.id}",
                effective_at=now,
            )
            db.session.add(
                ChallengePayout(challenge_id=challenge.id, user_id=user_id, contribution=values[user_id], points=points)
            )
            paid[user_id] = points
        db.session.flush()
    returned = budgets.release(challenge.id, challenge.pool - sum(paid.values()))  # what nobody was paid goes back
    audit.record(
        actor,
        "challenge.closed",
        "challenge",
        challenge.id,
        {
            "status": status,
            "progress": progress,
            "target": challenge.target,
            "pool": challenge.pool,
            "payouts": [{"user_id": uid, "points": pts} for uid, pts in sorted(paid.items())],
            "returned_to_budget": returned,
        },
    )
    for user_id in member_ids(challenge.team_id):
        notify.queue(
            user_id,
            "challenge",
            "challenge_closed",
            {"challenge_id": challenge.id, **title_params(challenge), "status": status, "points": paid.get(user_id, 0)},
            url=f"/challenges/{challenge.id}",
            dedupe_key=f"challenge_closed:{challenge.id}:{user_id}",
        )
    return view(challenge)


def _inactive(user_ids) -> set[int]:
    """The deactivated users among ``user_ids``."""
    return set(db.session.scalars(sa.select(User.id).where(User.id.in_(list(user_ids)), User.is_active_account.is_(False))))


def due_for_closing(now: dt.datetime | None = None) -> list[int]:
    """Ids of active challenges whose end has passed."""
    return list(
        db.session.scalars(
            sa.select(Challenge.id)
            .where(Challenge.status == "active", Challenge.ends_at <= (now or utcnow()))
            .order_by(Challenge.id)
        )
    )
