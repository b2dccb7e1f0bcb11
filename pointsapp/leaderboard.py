"""Leaderboards, read from the period rollups (``PeriodTotal``), never from the ledger.

Interface other areas rely on: ``standing(user, period) -> Standing(rank,
points, gap_to_next, gap_to_top3)`` for the company-wide individual board, or
None when the user has no place.

Who has a place
---------------
* Individual boards: every active user who is not an admin, inside the scope
  (the whole company, or a team and its sub-teams); users without points in
  the period stand at 0.
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

from pointsapp import challenges, policy
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import BoardLink, PeriodTotal, Team, User
from pointsapp.models.org import UNRANKED, team_subtree_ids
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
            f"Unknown period '{period}'; use one of: {', '.join(PERIODS)}.", fields={"period": [f"Must be one of: {', '.join(PERIODS)}."]}
        )
    if kind not in KINDS:
        raise ValidationFailed(
            f"Unknown kind '{kind}'; use individual or team.", fields={"kind": ["Must be one of: individual, team."]}
        )
    if key is None:
        return current_key(period)
    try:
        period_bounds(period, key)
    except ValueError:
        raise ValidationFailed(f"'{key}' is not a {period} key.", fields={"period_key": [f"Not a {period} key."]}) from None
    return key


def _points_join(period: str, key: str):
    return sa.and_(PeriodTotal.user_id == User.id, PeriodTotal.period == period, PeriodTotal.period_key == key)


def _ranked(teams: set[int] | None) -> list:
    """Who has a place on an individual board: active non-admins, within the teams if given."""
    where = [User.role != "admin", User.is_active_account.is_(True)]
    if teams is not None:
        where.append(User.team_id.in_(teams))
    return where


def _people(period: str, key: str, teams: set[int] | None, limit: int | None = None) -> list[tuple[int, str, int]]:
    """The first ``limit`` rows of the individual board in order (everyone without a limit).

    The people with points come from the rollup index (period, period_key,
    points) and stop at ``limit``; only when fewer than that have points does
    the query walk everyone to add those who stand at 0 or below.
    """
    if limit is not None:
        stmt = (
            sa.select(User.id, User.name, PeriodTotal.points)
            .join(PeriodTotal, _points_join(period, key))
            .where(*_ranked(teams), PeriodTotal.points > 0)
            .order_by(PeriodTotal.points.desc(), User.name, User.id)
            .limit(limit)
        )
        rows = [(uid, name, int(points)) for uid, name, points in db.session.execute(stmt)]
        if len(rows) == limit:
            return rows
    points = sa.func.coalesce(PeriodTotal.points, 0)
    stmt = (
        sa.select(User.id, User.name, points)
        .outerjoin(PeriodTotal, _points_join(period, key))
        .where(*_ranked(teams))
        .order_by(points.desc(), User.name, User.id)
        .limit(limit)
    )
    return [(uid, name, int(points)) for uid, name, points in db.session.execute(stmt)]


def _unranked():
    """Admins and deactivated people: few (a partial index lists them), so taking them off a count beats joining everyone."""
    return sa.select(User.id).where(sa.text(UNRANKED))


def _rows(period: str, key: str, teams: set[int] | None, *condition):
    """Rollup rows of the board that meet the condition (joined to users only for a team's board)."""
    stmt = sa.select(PeriodTotal.points).where(PeriodTotal.period == period, PeriodTotal.period_key == key, *condition)
    if teams is not None:
        stmt = stmt.join(User, PeriodTotal.user_id == User.id).where(*_ranked(teams))
    return stmt


def _count(period: str, key: str, teams: set[int] | None, test) -> int:
    """How many people in scope have a rollup row whose points pass ``test`` (an index range count)."""
    stmt = _rows(period, key, teams, test(PeriodTotal.points))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    if teams is None:
        # The few unranked people's rows, found by primary key (``+ 0`` keeps the planner off the points index).
        total -= db.session.scalar(
            sa.select(sa.func.count()).where(
                PeriodTotal.user_id.in_(_unranked()), PeriodTotal.period == period, PeriodTotal.period_key == key,
                test(PeriodTotal.points + 0),
            )
        )
    return total


def _nearest_above(period: str, key: str, teams: set[int] | None, mine: int) -> int | None:
    """The smallest points above mine: the first row of an index range."""
    stmt = _rows(period, key, teams, PeriodTotal.points > mine)
    if teams is None:
        stmt = stmt.where(PeriodTotal.user_id.not_in(_unranked()))
    return db.session.scalar(stmt.order_by(PeriodTotal.points).limit(1))


def _standing(viewer: User, period: str, key: str, teams: set[int] | None, top: list[Place]) -> Standing | None:
    """My place from counts on the rollup index, without ranking everyone.

    rank = 1 + the people with more points than me; the nearest points above
    mine is one ``min`` on the index. People without a rollup row stand at 0,
    which matters only to someone below 0 (a clawback).
    """
    if not viewer.is_active_account or viewer.role == "admin" or (teams is not None and viewer.team_id not in teams):
        return None
    if (shown := standing_of(top, viewer.id)) is not None:
        return shown
    mine = db.session.scalar(
        sa.select(PeriodTotal.points).where(
            PeriodTotal.user_id == viewer.id, PeriodTotal.period == period, PeriodTotal.period_key == key
        )
    ) or 0
    above = _count(period, key, teams, lambda points: points > mine)
    nearest = _nearest_above(period, key, teams, mine)
    if mine < 0:
        everyone = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(*_ranked(teams)))
        with_points = _count(period, key, teams, lambda points: points != 0)
        at_zero = everyone - with_points
        above += at_zero
        if at_zero and (nearest is None or nearest > 0):
            nearest = 0
    rank = above + 1
    third = top[2].points if len(top) >= 3 else mine
    return Standing(
        rank=rank,
        points=mine,
        gap_to_next=nearest - mine if nearest is not None else 0,
        gap_to_top3=third - mine if rank > 3 else 0,
    )


def _teams(period: str, key: str, teams: set[int] | None) -> list[tuple[int, str, int]]:
    stmt = (
        sa.select(Team.id, Team.name, sa.func.coalesce(sa.func.sum(PeriodTotal.points), 0))
        .join(User, User.team_id == Team.id)
        .outerjoin(PeriodTotal, _points_join(period, key))
        .where(User.role != "admin", User.is_active_account.is_(True))
        .group_by(Team.id, Team.name)
    )
    if teams is not None:
        stmt = stmt.where(Team.id.in_(teams))
    return [(tid, name, int(points)) for tid, name, points in db.session.execute(stmt)]


def board(
    viewer: User | None,
    period: str,
    *,
    kind: str = "individual",
    team_id: int | None = None,
    key: str | None = None,
    limit: int | None = None,
) -> Board:
    """A leaderboard for the period, company-wide or within a team and its sub-teams.

    With a ``limit``, an individual board reads only the rows it shows (and at
    least the top 3, for the gap) and finds my place by counting.
    """
    key = _check(period, kind, key)
    teams = None
    if team_id is not None:
        if get_by_id(Team, team_id) is None:
            raise NotFound(f"There is no team {team_id}.", fields={"team_id": [f"No team {team_id}."]})
        teams = team_subtree_ids(team_id)
    ranked_viewer = viewer is not None and not policy.is_admin(viewer)  # admins are not ranked
    if kind == "individual":
        places = rank_rows(_people(period, key, teams, None if limit is None else max(limit, 3)))
        me = _standing(viewer, period, key, teams, places) if ranked_viewer else None
        me_id = viewer.id if me else None
    else:
        places = rank_rows(_teams(period, key, teams))
        me_id = viewer.team_id if ranked_viewer else None
        me = standing_of(places, me_id)
        me_id = me_id if me else None
    return Board(
        period=period, period_key=key, kind=kind, team_id=team_id,
        items=places[:limit] if limit else places, me=me, me_id=me_id,
    )


def standing(user, period: str = "week") -> Standing | None:
    """My place on the company-wide individual board for the current period."""
    return board(user, period, limit=3).me


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
        raise NotFound(f"There is no team {team_id}.", fields={"team_id": [f"No team {team_id}."]})
    policy.require(policy.can_open_board(actor, team_id), "You can only open boards for the teams you lead.")
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
        raise NotFound(f"There is no board link {link_id}.")
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
