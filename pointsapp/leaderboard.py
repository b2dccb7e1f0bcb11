"""Leaderboards, read from the period rollups (``PeriodTotal``), never from the ledger.

Interface other areas rely on: ``standing(user, period) -> Standing(rank,
points, gap_to_next, gap_to_top3)`` for the company-wide individual board, or
None when the user has no place.

Who has a place
---------------
* Individual boards: every active employee inside the scope (the whole
  company, or a team and its sub-teams), and leads who earned points in the
  period; employees without points in the period stand at 0. Admins, and
  leads without points, are not ranked.
* Team boards: every team in scope with at least one active non-admin member;
  a team's points are the sum of its *own* members' points (sub-teams count
  for themselves). ``me`` is the caller's own team.

Ranking rule
------------
Standard competition ranking ("1224"): equal points share a rank and the next
rank skips accordingly (300, 200, 200, 185 → ranks 1, 2, 2, 4). Within equal
points, rows are listed by name, then id. ``gap_to_next`` is the points of the
nearest place above with more points minus mine (0 at the top, also when tied
for first); ``gap_to_top3`` is the points of the 3rd row minus mine (0 inside
the top 3).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import challenges, names, policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import BoardLink, PeriodTotal, Team, User
from pointsapp.models.org import team_subtree_ids
from pointsapp.periods import PERIODS, current_key, period_bounds, utcnow

KINDS = ("individual", "team")
ITEMS_SHOWN = 100  # rows an API board lists unless asked for fewer or more
PAGE_ITEMS = 50  # rows the phone page lists (my own row and gaps are always shown)


@dataclasses.dataclass(frozen=True)
class Standing:
    rank: int
    points: int
    gap_to_next: int
    gap_to_top3: int


@dataclasses.dataclass(frozen=True)
class Place:
    rank: int
    id: int
    name: str
    points: int


@dataclasses.dataclass(frozen=True)
class Board:
    period: str
    period_key: str
    kind: str
    team_id: int | None
    items: list[Place]
    me: Standing | None
    me_id: int | None  # the id of my row (a user id or a team id), for highlighting


def rank_rows(rows: list[tuple[int, str, int]]) -> list[Place]:
    """Order (id, name, points) rows and give them competition ranks (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda row: (-row[2], row[1], row[0]))
    places: list[Place] = []
    for index, (row_id, name, points) in enumerate(ordered):
        rank = places[-1].rank if places and places[-1].points == points else index + 1
        places.append(Place(rank=rank, id=row_id, name=name, points=points))
    return places


def standing_of(places: list[Place], row_id: int | None) -> Standing | None:
    """My rank and the gaps to the place above and to the top 3."""
    mine = next((p for p in places if p.id == row_id), None)
    if mine is None:
        return None
    above = [p.points for p in places if p.points > mine.points]
    gap_to_next = min(above) - mine.points if above else 0
    gap_to_top3 = places[2].points - mine.points if mine.rank > 3 else 0
    return Standing(rank=mine.rank, points=mine.points, gap_to_next=gap_to_next, gap_to_top3=gap_to_top3)


def _check(period: str, kind: str, key: str | None) -> str:
    if period not in PERIODS:
        raise ValidationFailed(
            _("Unknown period '%(period)s'; use one of: %(value)s.", period=period, value=", ".join(PERIODS)),
            fields={"period": [_("Must be one of: %(value)s.", value=", ".join(PERIODS))]},
        )
    if kind not in KINDS:
        raise ValidationFailed(
            _("Unknown kind '%(kind)s'; use individual or team.", kind=kind),
            fields={"kind": [_("Must be one of: individual, team.")]},
        )
    if key is None:
        return current_key(period)
    try:
        period_bounds(period, key)
    except ValueError:
        raise ValidationFailed(
            _("'%(key)s' is not a %(period)s key.", key=key, period=period),
            fields={"period_key": [_("Not a %(period)s key.", period=period)]},
        ) from None
    return key


def _points_join(period: str, key: str):
    return sa.and_(PeriodTotal.user_id == User.id, PeriodTotal.period == period, PeriodTotal.period_key == key)


def _ranked():
    """Who has a place: active employees, and leads with points in the period (never admins)."""
    has_points = sa.func.coalesce(PeriodTotal.points, 0) != 0
    return sa.and_(User.is_active_account.is_(True), sa.or_(User.role == "employee", sa.and_(User.role == "lead", has_points)))


def around(places: list[Place], row_id: int | None, reach: int = 2) -> list[Place]:
    """My place with up to ``reach`` places above and below it (empty when I have none)."""
    index = next((i for i, place in enumerate(places) if place.id == row_id), None)
    if index is None:
        return []
    return places[max(0, index - reach) : index + reach + 1]


def _people(period: str, key: str, teams: set[int] | None) -> list[tuple[int, str, int]]:
    stmt = (
        sa.select(User.id, User.name, sa.func.coalesce(PeriodTotal.points, 0))
        .outerjoin(PeriodTotal, _points_join(period, key))
        .where(_ranked())
    )
    if teams is not None:
        stmt = stmt.where(User.team_id.in_(teams))
    return [(uid, name, int(points)) for uid, name, points in db.session.execute(stmt)]


def _teams(period: str, key: str, teams: set[int] | None) -> list[tuple[int, str, int]]:
    stmt = (
        sa.select(Team.id, Team.name, sa.func.coalesce(sa.func.sum(PeriodTotal.points), 0))
        .join(User, User.team_id == Team.id)
        .outerjoin(PeriodTotal, _points_join(period, key))
        .where(_ranked())
        .group_by(Team.id, Team.name)
    )
    if teams is not None:
        stmt = stmt.where(Team.id.in_(teams))
    rows = [(tid, name, int(points)) for tid, name, points in db.session.execute(stmt)]
    translated = {t.id: names.localized(t) for t in db.session.scalars(sa.select(Team).where(Team.id.in_([r[0] for r in rows])))}
    return [(tid, translated.get(tid, name), points) for tid, name, points in rows]


def board(
    viewer: User | None,
    period: str,
    *,
    kind: str = "individual",
    team_id: int | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> Board:
    """A leaderboard for the period, company-wide or within a team and its sub-teams."""
    key = _check(period, kind, key)
    teams = None
    if team_id is not None:
        if get_by_id(Team, team_id) is None:
            raise NotFound(
                _("There is no team %(team_id)s.", team_id=team_id),
                fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]},
            )
        teams = team_subtree_ids(team_id)
    rows = _people(period, key, teams) if kind == "individual" else _teams(period, key, teams)
    places = rank_rows(rows)
    me_id = None
    if viewer is not None and not policy.is_admin(viewer):  # admins are not ranked
        me_id = viewer.id if kind == "individual" else viewer.team_id
    me = standing_of(places, me_id)
    return Board(
        period=period,
        period_key=key,
        kind=kind,
        team_id=team_id,
        items=places[:limit] if limit else places,
        me=me,
        me_id=me_id if me else None,
    )


def standing(user, period: str = "week") -> Standing | None:
    """My place on the company-wide individual board for the current period."""
    return board(user, period).me


def standings(period: str = "week") -> dict[int, Standing]:
    """Every ranked user's place on the company-wide board, from one query (for batch jobs)."""
    places = board(None, period).items
    result: dict[int, Standing] = {}
    higher: int | None = None  # the nearest points above the current group (places are sorted)
    for index, place in enumerate(places):
        if index and places[index - 1].points != place.points:
            higher = places[index - 1].points
        result[place.id] = Standing(
            rank=place.rank,
            points=place.points,
            gap_to_next=higher - place.points if higher is not None else 0,
            gap_to_top3=places[2].points - place.points if place.rank > 3 else 0,
        )
    return result


# --- the TV board and its links ----------------------------------------------------
#
# A lead opens a branch screen's board with a link that carries a random token;
# only the token's SHA-256 is stored, so a database leak shows no working link.
# Revoking a link stops the screen at its next refresh.


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(actor: User, team_id: int, label: str = "") -> tuple[BoardLink, str]:
    """Create a board link for a team the actor leads; return it and its token (shown once)."""
    if get_by_id(Team, team_id) is None:
        raise NotFound(
            _("There is no team %(team_id)s.", team_id=team_id), fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]}
        )
    policy.require(policy.can_open_board(actor, team_id), _("You can only open boards for the teams you lead."))
    token = secrets.token_urlsafe(24)
    link = BoardLink(team_id=team_id, token_hash=_hash(token), created_by_id=actor.id, label=(label or "").strip()[:120])
    db.session.add(link)
    db.session.flush()
    return link, token


def links_for(actor: User) -> list[BoardLink]:
    """Live board links of the teams the actor leads (all of them for an admin)."""
    stmt = sa.select(BoardLink).where(BoardLink.revoked_at.is_(None)).order_by(BoardLink.created_at.desc())
    if not policy.is_admin(actor):
        stmt = stmt.where(BoardLink.team_id.in_(policy.managed_team_ids(actor) or {-1}))
    return list(db.session.scalars(stmt))


def revoke_link(actor: User, link_id: int) -> BoardLink:
    """Revoke a board link (a lead of its team, or an admin)."""
    link = db.session.get(BoardLink, link_id)
    if link is None or not policy.can_open_board(actor, link.team_id):
        raise NotFound(_("There is no board link %(link_id)s.", link_id=link_id))
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        db.session.flush()
    return link


@dataclasses.dataclass(frozen=True)
class TvBoard:
    team: Team
    top: Board  # the month's individual top 10 within the team's subtree
    teams: Board  # the month's team standings within the subtree
    challenges: list  # running challenges (ChallengeView)


def tv_board(token: str) -> TvBoard | None:
    """What a board link shows, or None when the link is unknown or revoked."""
    link = db.session.scalar(sa.select(BoardLink).where(BoardLink.token_hash == _hash(token or "")))
    if link is None or link.revoked_at is not None:
        return None
    team = db.session.get(Team, link.team_id)
    return TvBoard(
        team=team,
        top=board(None, "month", team_id=team.id, limit=10),
        teams=board(None, "month", kind="team", team_id=team.id),
        challenges=challenges.active_for_teams(team_subtree_ids(team.id)),
    )
