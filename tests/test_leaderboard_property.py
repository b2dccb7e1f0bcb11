"""The index-read leaderboard against its definition: rank everyone by hand, compare every window.

Top N, my place and my neighbours are read a few rows at a time from the rollup
index; here random organisations (admins, leads with and without points,
deactivated people, ties, names that sort differently by locale, points below 0,
points in another period) are ranked in full the plain way and every answer must
match it exactly.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointsapp import leaderboard
from pointsapp.extensions import db
from tests import factories
from tests.conftest import _empty_tables

NAMES = ["Ann", "ann", "Ann", "Bob", "Émile", "Zoe", "张伟", "李娜", "张伟"]
LAST_YEAR = dt.datetime(2025, 6, 15, 4, tzinfo=dt.timezone.utc)

person = st.fixed_dictionaries(
    {
        "role": st.sampled_from(["employee", "employee", "employee", "lead", "admin"]),
        "active": st.sampled_from([True, True, True, False]),
        "team": st.sampled_from(["wealth", "loans", "branch", None]),
        "name": st.sampled_from(NAMES),
        # None: no rollup row at all; 0: a row that nets to 0 (earned, then deducted).
        "points": st.sampled_from([None, None, 0, 10, 10, 20, 35, 200, -5, -30]),
        "earlier": st.sampled_from([0, 0, 50]),  # points in another period, which must not count
    }
)


def _build(people: list[dict]):
    db.session.remove()
    _empty_tables()
    company = factories.team("Company")
    branch = factories.team("Branch", company)
    teams = {"branch": branch, "wealth": factories.team("Wealth", branch), "loans": factories.team("Loans", branch)}
    users = []
    for spec in people:
        user = factories.user(spec["role"], teams.get(spec["team"]), name=spec["name"])
        if spec["points"] == 0:
            factories.give_points(user, 15)
            factories.give_points(user, -15)
        elif spec["points"]:
            factories.give_points(user, spec["points"])
        if spec["earlier"]:
            factories.give_points(user, spec["earlier"], effective_at=LAST_YEAR)
        users.append(user)
    for user, spec in zip(users, people, strict=True):
        user.is_active_account = spec["active"]
    db.session.commit()
    return teams, users


def _full_ranking(people, users, team_ids: set[int] | None) -> list[leaderboard.Place]:
    """The ranking rule, applied to everyone: who has a place, sorted by points, name, id; ranks 1224."""
    rows = []
    for spec, user in zip(people, users, strict=True):
        points = spec["points"] or 0
        in_scope = team_ids is None or user.team_id in team_ids
        ranked = spec["active"] and (spec["role"] == "employee" or (spec["role"] == "lead" and points != 0))
        if in_scope and ranked:
            rows.append((user.id, user.name, points))
    rows.sort(key=lambda row: (-row[2], row[1], row[0]))
    places = []
    for index, (user_id, name, points) in enumerate(rows):
        rank = 1 + sum(1 for _, _, other in rows if other > points)
        assert index == 0 or rank in (places[-1].rank, index + 1)
        places.append(leaderboard.Place(rank=rank, id=user_id, name=name, points=points))
    return places


def _expected_standing(places, user_id) -> leaderboard.Standing | None:
    mine = next((p for p in places if p.id == user_id), None)
    if mine is None:
        return None
    above = [p.points for p in places if p.points > mine.points]
    return leaderboard.Standing(
        rank=mine.rank,
        points=mine.points,
        gap_to_next=min(above) - mine.points if above else 0,
        gap_to_top3=places[2].points - mine.points if mine.rank > 3 else 0,
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(person, max_size=16))
def test_top_rows_my_place_and_my_neighbours_match_the_full_ranking(people):
    teams, users = _build(people)
    for team in (None, teams["branch"], teams["wealth"]):
        team_ids = None if team is None else {t.id for t in teams.values() if t is team or t.parent_id == team.id}
        team_id = None if team is None else team.id
        expected = _full_ranking(people, users, team_ids)
        assert leaderboard.board(None, "month", team_id=team_id).items == expected
        for limit in (1, 3, 4, 7, 50):
            assert leaderboard.board(None, "month", team_id=team_id, limit=limit).items == expected[:limit]
        for user in users:
            mine = _expected_standing(expected, user.id)
            for limit in (1, 5):
                got = leaderboard.board(user, "month", team_id=team_id, limit=limit)
                assert (got.me, got.me_id) == (mine, user.id if mine else None), (user.name, limit)
    everyone = _full_ranking(people, users, None)
    for user in users:
        assert leaderboard.standing(user, "month") == _expected_standing(everyone, user.id)
        near = leaderboard.neighbours(user, "month")
        if _expected_standing(everyone, user.id) is None:
            assert near is None
            continue
        assert near.me == _expected_standing(everyone, user.id)
        assert near.places == leaderboard.around(everyone, user.id), user.name
        assert near.places == leaderboard.around(leaderboard.board(user, "month").items, user.id)
