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
from array import array
from bisect import bisect_right
from collections.abc import Hashable

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import gettext as _

from pointsapp import bulk, challenges, names, policy
from pointsapp.database import read_version, read_version_and
from pointsapp.errors import NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import BoardLink, PeriodTotal, Team, User
from pointsapp.models.org import UNRANKED, team_subtree_ids
from pointsapp.page_cache import app_cache
from pointsapp.periods import PERIODS, current_key, period_bounds, utcnow

KINDS = ("individual", "team")
ITEMS_SHOWN = 100  # rows an API board lists unless asked for fewer or more
PAGE_ITEMS = 50  # rows the phone page lists (my own row and gaps are always shown)
# Boards whose top rows a worker keeps (see ``_top``): up to 1,000 rows each, the most any view asked for.
KEPT_TOPS = 16
# Ladders a worker keeps (see ``_ladder``): each is one board's points, 8 bytes a person with points.
KEPT_LADDERS = 8


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


def _team_people(period: str, key: str, teams: set[int]) -> list[tuple[int, str, int]]:
    """Everyone with a place on a team's board (a team is small: its members are ranked whole)."""
    stmt = (
        sa.select(User.id, User.name, sa.func.coalesce(PeriodTotal.points, 0))
        .outerjoin(PeriodTotal, _points_join(period, key))
        .where(_ranked(), User.team_id.in_(teams))
    )
    return [(uid, name, int(points)) for uid, name, points in db.session.execute(stmt)]


# --- the company-wide board, read a window at a time ------------------------------
#
# At bank scale the company board is never ranked whole to show its top rows,
# my place or my neighbours. Its order falls into three runs: the people with
# points above 0 (walked down the rollup index ``ix_period_total_board``), the
# people standing at 0 (active employees without points in the period, walked
# in name order along ``ix_user_account_board_name``), and the few below 0
# after a clawback. A rank is 1 + a count on the rollup index of the rows with
# more points, less those of admins and deactivated people, found through the
# small partial index ``ix_user_account_unranked``. Leads stand only with points
# (never at 0), so every row with points other than 0 belongs to an active
# non-admin unless that index lists its owner.


def _name():
    """Names ordered as Python orders them (by code point), whatever the database's collation."""
    return User.name.collate("C") if db.session.get_bind().dialect.name == "postgresql" else User.name


def _with_points(period: str, key: str, *condition):
    """Ranked people whose points in the period meet the condition (which must leave 0 out)."""
    return (
        sa.select(User.id, User.name, PeriodTotal.points)
        .join(PeriodTotal, _points_join(period, key))
        .where(*condition, User.is_active_account.is_(True), User.role != "admin")
    )


def _at_zero(period: str, key: str, *condition):
    """The people who stand at 0: active employees without points in the period."""
    # NOT EXISTS rather than an outer join: the planners then know most people pass
    # and walk the name index in order, stopping after the few rows asked for.
    has_points = sa.exists().where(_points_join(period, key), PeriodTotal.points != 0)
    return sa.select(User.id, User.name, sa.literal(0)).where(
        ~has_points, User.is_active_account.is_(True), User.role == "employee", *condition
    )


def _rows(stmt, limit: int | None = None) -> list[tuple[int, str, int]]:
    return [(uid, name, int(points)) for uid, name, points in db.session.execute(stmt.limit(limit))]


def _people(period: str, key: str, limit: int | None = None) -> list[tuple[int, str, int]]:
    """The first ``limit`` rows of the company board in order (everyone without a limit)."""
    points = PeriodTotal.points
    runs = (  # built only when the rows before them fall short of the limit
        lambda: _with_points(period, key, points > 0).order_by(points.desc(), _name(), User.id),
        lambda: _at_zero(period, key).order_by(_name(), User.id),
        lambda: _with_points(period, key, points < 0).order_by(points.desc(), _name(), User.id),
    )
    rows: list[tuple[int, str, int]] = []
    for run in runs:
        if limit is not None and len(rows) >= limit:
            break
        rows += _rows(run(), None if limit is None else limit - len(rows))
    return rows


def _top(period: str, key: str, limit: int, version: Hashable | None) -> list[Place]:
    """The company board's first places, at least ``limit`` of them (or all): the same for every viewer.

    A worker keeps them under the database's read version (``database.read_version``),
    which any change committed anywhere moves, so a kept top is served only while
    nothing it was read from can have changed; it then costs one small query instead
    of the top rows' three runs. A transaction that has written reads them afresh.
    One list is kept per board, as long as the longest asked for: the first rows of
    a longer top are the shorter top, ranks and all.

    ``version`` is ``read_version()``, asked once per view, before anything it keys is
    read (the top here, the ladder): a row read later, after some other commit, is then
    kept under a version no later transaction can have again (every commit moves it), so
    it is never served as of that version. A view only reads.
    """
    tops = app_cache("leaderboard_tops", KEPT_TOPS, 3600)
    kept = tops.get((version, period, key)) if version is not None else None
    if kept is not None and (len(kept[0]) >= limit or kept[1]):
        return kept[0]
    places = rank_rows(_people(period, key, limit))
    if version is not None:
        tops.put((version, period, key), (places, len(places) < limit))  # fewer than asked: the whole board
    return places


def _ladder(period: str, key: str, version: Hashable | None) -> array | None:
    """The sorted points of everyone ranked with points other than 0, kept while the data stays the same; else None.

    With it, "my place" is a bisection (O(log N)) instead of a count of the index
    entries above mine (O(my rank): 0.4 ms at 10,000 people, 5 ms at 100,000). It is
    read under the same read version as ``_top``, on the second view of one state
    of the data (by another request): reading it costs a few such counts, so a
    state seen only once, as when every view follows a change, is answered by
    counting. Places at or below 0 are always counted (who stands at 0 is not in it).
    """
    if version is None:
        return None
    ladders = app_cache("leaderboard_ladders", KEPT_LADDERS, 3600)
    kept = ladders.get((version, period, key))
    if isinstance(kept, array):
        return kept
    view = request.environ.setdefault("pointsapp.board_view", object()) if has_request_context() else object()
    if kept is None or kept is view:
        ladders.put((version, period, key), view)  # seen once, by this view
        return None
    kept = array("q", db.session.scalars(_LADDER, {"period": period, "period_key": key}))
    ladders.put((version, period, key), kept)
    return kept


def _unranked():
    """Admins and deactivated people: few, and listed by a partial index."""
    return sa.select(User.id).where(sa.text(UNRANKED))


def _counted_with_points(period, key, test) -> sa.Select:
    """The count of ranked people whose points pass ``test`` (which must leave 0 out), on the rollup index.

    ``period`` and ``key`` are values or bound parameters.
    """
    in_period = (PeriodTotal.period == period, PeriodTotal.period_key == key)
    total = sa.select(sa.func.count()).where(*in_period, test(PeriodTotal.points))
    # The few unranked people's rows, found by primary key (``+ 0`` keeps the planner off the points index).
    unranked = sa.select(sa.func.count()).where(PeriodTotal.user_id.in_(_unranked()), *in_period, test(PeriodTotal.points + 0))
    return sa.select(total.scalar_subquery() - unranked.scalar_subquery())


def _count_with_points(period: str, key: str, test) -> int:
    """How many ranked people have points passing ``test`` (which must leave 0 out)."""
    return db.session.scalar(_counted_with_points(period, key, test))


def _board_lookups() -> tuple[bulk.Lookup, bulk.Lookup, bulk.Lookup]:
    """My points; how many ranked people have more than given points; the nearest points above them (from 0 up).

    The reads of every board view, built once from the statements above with bound
    parameters, and run at the driver's pace.
    """
    period, key, points = sa.bindparam("period"), sa.bindparam("period_key"), sa.bindparam("points")
    mine = sa.select(PeriodTotal.points).where(
        PeriodTotal.user_id == sa.bindparam("user_id"), PeriodTotal.period == period, PeriodTotal.period_key == key
    )
    nearest = (
        _with_points(period, key, PeriodTotal.points > points)
        .with_only_columns(PeriodTotal.points)
        .order_by(PeriodTotal.points)
        .limit(1)
    )
    names = ("period", "period_key", "points")
    return (
        bulk.Lookup(mine, ("user_id", "period", "period_key")),
        bulk.Lookup(_counted_with_points(period, key, lambda p: p > points), names),
        bulk.Lookup(nearest, names),
    )


_MY_POINTS, _COUNT_ABOVE, _NEAREST_ABOVE = _board_lookups()
# The ladder: ranked people's points other than 0, in order (the rollup index read in order).
_LADDER = (
    sa.select(PeriodTotal.points)
    .where(
        PeriodTotal.period == sa.bindparam("period"),
        PeriodTotal.period_key == sa.bindparam("period_key"),
        PeriodTotal.points != 0,
        PeriodTotal.user_id.not_in(_unranked()),
    )
    .order_by(PeriodTotal.points)
)


def _count_above(period: str, key: str, points: int, ladder: array | None = None) -> int:
    """How many ranked people have more points than ``points`` (from the ``ladder`` when there is one).

    Below 0 this also counts everyone standing at 0, a walk over the users;
    only someone whose clawbacks exceed their points needs it.
    """
    if points >= 0:
        if ladder is not None:
            return len(ladder) - bisect_right(ladder, points)
        return _COUNT_ABOVE.first(period, key, points)[0]
    at_zero = db.session.scalar(sa.select(sa.func.count()).select_from(_at_zero(period, key).subquery()))
    return (
        _count_with_points(period, key, lambda p: p > 0)
        + at_zero
        + _count_with_points(period, key, lambda p: sa.and_(p > points, p < 0))
    )


def _anyone_at_zero(period: str, key: str) -> bool:
    return bool(_rows(_at_zero(period, key), 1))


def _nearest(period: str, key: str, points: int, *, above: bool, ladder: array | None = None) -> int | None:
    """The nearest points above (or below) ``points`` that someone ranked has: the first row of an index range."""
    column = PeriodTotal.points

    def first(*condition) -> int | None:
        rows = _rows(_with_points(period, key, *condition).order_by(column if above else column.desc()), 1)
        return rows[0][2] if rows else None

    if above:
        if points < 0 and (found := first(column > points, column < 0)) is not None:
            return found
        if points < 0 and _anyone_at_zero(period, key):
            return 0
        if ladder is not None:
            index = bisect_right(ladder, max(points, 0))
            return ladder[index] if index < len(ladder) else None
        row = _NEAREST_ABOVE.first(period, key, max(points, 0))
        return None if row is None else int(row[0])
    if points > 0 and (found := first(column < points, column > 0)) is not None:
        return found
    if points > 0 and _anyone_at_zero(period, key):
        return 0
    return first(column < min(points, 0))


_ASK = object()  # a value not known yet (my points, the nearest points): look it up


def _may_be_ranked(viewer: User | None) -> bool:
    """Whether ``viewer`` can have a place on the board at all (admins and deactivated people have none)."""
    return viewer is not None and viewer.is_active_account and not policy.is_admin(viewer)


def _view_version(viewer: User | None, period: str, key: str) -> tuple[Hashable | None, int | None]:
    """A view's read version (see ``_top``) and my points in the period's rollup (None: no row, or no place).

    Read together: on PostgreSQL one statement, a round trip fewer for every view.
    My points are read before the board's rows: when they change between the two
    statements the answer mixes two moments (my line against a newer list) until the
    next view. Nothing is kept from it: what is kept is keyed by the version.
    """
    if not _may_be_ranked(viewer):
        return read_version(), None
    return read_version_and(_MY_POINTS, viewer.id, period, key)


def _my_points(viewer: User | None, period: str, key: str, mine=_ASK) -> int | None:
    """My points if I have a place on the board (None when I have none), by the rule above.

    ``mine`` is my rollup's points when the caller read them already (``_view_version``).
    """
    if not _may_be_ranked(viewer):
        return None
    if mine is _ASK:
        row = _MY_POINTS.first(viewer.id, period, key)
        mine = row[0] if row is not None else None
    if viewer.role != "employee" and not mine:  # a lead without points is not ranked
        return None
    return int(mine or 0)


def _standing(
    viewer: User | None, period: str, key: str, top: list[Place], version: Hashable | None, mine=_ASK
) -> Standing | None:
    """My place from counts on the rollup index (or its kept ladder), without ranking everyone.

    ``top`` is the board's first rows (at least its top 3 when it has them), read under ``version``;
    ``mine`` my rollup's points when read with it (``_view_version``).
    """
    mine = _my_points(viewer, period, key, mine)
    if mine is None:
        return None
    if (shown := standing_of(top, viewer.id)) is not None:
        return shown
    ladder = _ladder(period, key, version) if mine >= 0 else None
    rank = 1 + _count_above(period, key, mine, ladder)
    nearest = _nearest(period, key, mine, above=True, ladder=ladder)
    return Standing(
        rank=rank,
        points=mine,
        gap_to_next=nearest - mine if nearest is not None else 0,
        gap_to_top3=top[2].points - mine if rank > 3 else 0,
    )


def _group(period: str, key: str, points: int, *condition):
    """The people standing at exactly ``points``."""
    if points == 0:
        return _at_zero(period, key, *condition)
    return _with_points(period, key, PeriodTotal.points == points, *condition)


def _next_rows(period: str, key: str, me: tuple[int, str, int], count: int, *, above: bool, nearest=_ASK):
    """Up to ``count`` rows next to mine in board order, nearest first: those tied with me, then group by group.

    ``nearest`` is the next points value in that direction (None: there is none) when the caller knows it already.
    """
    my_id, my_name, mine = me
    mark, position = sa.tuple_(_name(), User.id), sa.tuple_(sa.literal(my_name), sa.literal(my_id))
    if above:  # the nearer rows above me are the later names of a group
        beside, order = mark < position, (_name().desc(), User.id.desc())
    else:
        beside, order = mark > position, (_name(), User.id)
    rows = _rows(_group(period, key, mine, beside).order_by(*order), count)
    points = mine
    while len(rows) < count:
        points = _nearest(period, key, points, above=above) if nearest is _ASK else nearest
        nearest = _ASK
        if points is None:
            break
        rows += _rows(_group(period, key, points).order_by(*order), count - len(rows))
    return rows


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


def _teams_in(team_id: int | None) -> set[int] | None:
    """The team and its sub-teams (None for the whole company); an unknown team is a 404."""
    if team_id is None:
        return None
    if get_by_id(Team, team_id) is None:
        raise NotFound(
            _("There is no team %(team_id)s.", team_id=team_id),
            fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]},
        )
    return team_subtree_ids(team_id)


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

    With a ``limit``, the company board reads only the rows it shows (and at
    least the top 3, for the gap) and finds my place by counting; without one
    it lists everyone. Team boards rank their members whole.
    """
    key = _check(period, kind, key)
    teams = _teams_in(team_id)
    if kind == "individual" and teams is None:
        # Asked once per view, before anything it keys is read (see _top); the whole board keeps nothing.
        version, mine = _view_version(viewer, period, key) if limit is not None else (None, _ASK)
        places = rank_rows(_people(period, key)) if limit is None else _top(period, key, max(limit, 3), version)
        me = _standing(viewer, period, key, places, version, mine)
        me_id = viewer.id if me else None
    else:
        rows = _team_people(period, key, teams) if kind == "individual" else _teams(period, key, teams)
        places = rank_rows(rows)
        me_id = None
        if viewer is not None and not policy.is_admin(viewer):  # admins are not ranked
            me_id = viewer.id if kind == "individual" else viewer.team_id
        me = standing_of(places, me_id)
        me_id = me_id if me else None
    return Board(
        period=period,
        period_key=key,
        kind=kind,
        team_id=team_id,
        items=places[:limit] if limit else places,
        me=me,
        me_id=me_id,
    )


def standing(user, period: str = "week") -> Standing | None:
    """My place on the company-wide individual board for the current period."""
    return board(user, period, limit=3).me


@dataclasses.dataclass(frozen=True)
class Neighbours:
    me: Standing
    me_id: int
    places: list[Place]  # my place with up to ``reach`` places above and below, in board order


def neighbours(user, period: str = "week", reach: int = 2) -> Neighbours | None:
    """My place on the company-wide board with ``reach`` places above and below (what ``around`` gives).

    Read as a few small index ranges next to my row, never the whole board;
    None when I have no place.
    """
    key = current_key(period)
    version, mine = _view_version(user, period, key)  # once per view, before anything it keys is read (see _top)
    me = _standing(user, period, key, _top(period, key, 3, version), version, mine)
    if me is None:
        return None
    mine = (user.id, user.name, me.points)
    # My standing has found the points just above mine already (the gap is 0 only with nobody above).
    above = _next_rows(period, key, mine, reach, above=True, nearest=me.points + me.gap_to_next if me.gap_to_next else None)
    below = _next_rows(period, key, mine, reach, above=False)
    ranks = {me.points: me.rank}
    ladder = _ladder(period, key, version)  # this view's: read already, or not at all
    for *_row, points in above + below:
        if points not in ranks:
            ranks[points] = 1 + _count_above(period, key, points, ladder)
    rows = [*reversed(above), mine, *below]
    return Neighbours(me=me, me_id=user.id, places=[Place(rank=ranks[p], id=i, name=n, points=p) for i, n, p in rows])


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
