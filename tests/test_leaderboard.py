"""Leaderboards from the rollups: ranks with ties, gaps, scopes, teams, and the phone page."""

from __future__ import annotations

import datetime as dt

from pointsapp import leaderboard
from pointsapp.periods import period_key
from tests import factories
from tests.conftest import login


def test_ranks_share_places_and_show_the_gaps(org, api_as):
    factories.give_points(org.alice, 300)
    factories.give_points(org.bob, 200)
    factories.give_points(org.carol, 200)
    dave = factories.user("employee", org.loans, name="Dave")
    factories.give_points(dave, 185)
    response = api_as(dave).get("/leaderboard?period=month")
    assert response.status_code == 200
    items = response.json["items"]
    assert [(i["rank"], i["id"], i["points"]) for i in items[:4]] == [
        (1, org.alice.id, 300),
        (2, org.bob.id, 200),
        (2, org.carol.id, 200),
        (4, dave.id, 185),
    ]
    assert items[0] == {"rank": 1, "id": org.alice.id, "name": "Alice", "points": 300}
    assert response.json["me"] == {"rank": 4, "points": 185, "gap_to_next": 15, "gap_to_top3": 15}
    assert api_as(org.bob).get("/leaderboard?period=month").json["me"] == {
        "rank": 2,
        "points": 200,
        "gap_to_next": 100,
        "gap_to_top3": 0,
    }
    assert api_as(org.alice).get("/leaderboard?period=week").json["me"]["gap_to_next"] == 0


def test_users_without_points_stand_at_zero_and_admins_have_no_place(org, api_as):
    factories.give_points(org.alice, 50)
    body = api_as(org.bob).get("/leaderboard?period=year").json
    ids = [i["id"] for i in body["items"]]
    assert org.admin.id not in ids and org.wealth_lead.id not in ids  # a lead without points has no place
    assert body["me"] == {"rank": 2, "points": 0, "gap_to_next": 50, "gap_to_top3": 0}
    assert api_as(org.wealth_lead).get("/leaderboard?period=year").json["me"] is None
    assert api_as(org.admin).get("/leaderboard?period=year").json["me"] is None


def test_the_gap_to_the_top_3_counts_from_the_third_place(org, api_as):
    for user, points in ((org.alice, 400), (org.bob, 300), (org.carol, 250), (org.wealth_lead, 100)):
        factories.give_points(user, points)
    me = api_as(org.wealth_lead).get("/leaderboard?period=quarter").json["me"]
    assert me == {"rank": 4, "points": 100, "gap_to_next": 150, "gap_to_top3": 150}
    me = api_as(org.loans_lead).get("/leaderboard?period=quarter").json["me"]
    assert me is None  # a lead without points is not ranked
    dave = factories.user("employee", org.loans, name="Dave")
    me = api_as(dave).get("/leaderboard?period=quarter").json["me"]
    assert me == {"rank": 5, "points": 0, "gap_to_next": 100, "gap_to_top3": 250}


def test_a_team_narrows_the_board_to_it_and_its_sub_teams(org, api_as):
    factories.give_points(org.alice, 30)
    factories.give_points(org.carol, 80)
    body = api_as(org.alice).get(f"/leaderboard?period=month&team_id={org.wealth.id}").json
    assert {i["id"] for i in body["items"]} == {org.alice.id, org.bob.id}  # the lead has no points: no place
    assert body["me"]["rank"] == 1
    branch = api_as(org.alice).get(f"/leaderboard?period=month&team_id={org.branch.id}").json
    assert branch["items"][0]["id"] == org.carol.id and len(branch["items"]) == 3
    assert api_as(org.carol).get(f"/leaderboard?period=month&team_id={org.wealth.id}").json["me"] is None


def test_team_boards_sum_each_teams_own_members(org, api_as):
    factories.give_points(org.alice, 30)
    factories.give_points(org.bob, 40)
    factories.give_points(org.carol, 50)
    factories.give_points(org.branch_lead, 5)
    body = api_as(org.bob).get("/leaderboard?period=week&kind=team").json
    places = [(i["rank"], i["id"], i["points"]) for i in body["items"]]
    assert places == [(1, org.wealth.id, 70), (2, org.loans.id, 50), (3, org.branch.id, 5)]
    assert body["me"] == {"rank": 1, "points": 70, "gap_to_next": 0, "gap_to_top3": 0}
    assert api_as(org.admin).get("/leaderboard?period=week&kind=team").json["me"] is None


def test_the_board_reads_the_period_asked_for(org, api_as):
    last_year = dt.datetime(2025, 6, 15, 4, tzinfo=dt.timezone.utc)
    factories.give_points(org.alice, 70, effective_at=last_year)
    factories.give_points(org.bob, 10)
    this_year = api_as(org.alice).get("/leaderboard?period=year").json
    assert this_year["items"][0]["id"] == org.bob.id
    then = api_as(org.alice).get(f"/leaderboard?period=month&period_key={period_key('month', last_year)}").json
    assert then["items"][0] == {"rank": 1, "id": org.alice.id, "name": "Alice", "points": 70}


def test_bad_leaderboard_queries_are_refused(org, api_as):
    api = api_as(org.alice)
    response = api.get("/leaderboard?period=decade")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error" and "period" in response.json["error"]["fields"]
    assert api.get("/leaderboard?period=week&kind=branch").status_code == 422
    assert api.get("/leaderboard?period=week&team_id=99999").status_code == 404
    assert api.get("/leaderboard?period=month&period_key=2026-13").status_code == 422
    assert api_as(None).get("/leaderboard?period=week").status_code == 401


def test_standing_is_my_company_wide_place():
    org = factories.small_org()
    factories.give_points(org.alice, 10)
    assert leaderboard.standing(org.alice, "week") == leaderboard.Standing(1, 10, 0, 0)
    assert leaderboard.standing(org.admin, "week") is None


def test_the_phone_page_highlights_me_with_the_gap_to_the_top_3(org, client):
    factories.give_points(org.bob, 300)
    factories.give_points(org.carol, 250)
    factories.give_points(org.wealth_lead, 200)
    factories.give_points(org.alice, 185)
    login(client, org.alice)
    html = client.get("/leaderboard?period=month").get_data(as_text=True)
    assert "15 points to the top 3" in html
    assert "15 points to the next place" in html
    assert 'class="me-row"' in html and "Alice" in html
    fragment = client.get("/leaderboard?period=month&kind=team", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "Wealth Team" in fragment.get_data(as_text=True)
    assert client.get("/leaderboard?period=decade").status_code == 422


def test_standings_gives_every_place_at_once():
    org = factories.small_org()
    factories.give_points(org.alice, 40)
    factories.give_points(org.carol, 40)
    factories.give_points(org.bob, 10)
    everyone = leaderboard.standings("month")
    assert everyone[org.alice.id] == everyone[org.carol.id] == leaderboard.Standing(1, 40, 0, 0)
    assert everyone[org.bob.id] == leaderboard.Standing(3, 10, 30, 0)
    assert org.wealth_lead.id not in everyone  # no points, no place
    assert org.admin.id not in everyone
    assert all(everyone[uid] == leaderboard.standing(db_user, "month") for uid, db_user in [(org.bob.id, org.bob)])


def test_competition_ranking_matches_its_definition_on_random_boards():
    import random

    rng = random.Random(48)
    for _ in range(200):
        rows = [(i, f"User {i}", rng.choice([0, 10, 20, 20, 35, 50, 185, 200])) for i in range(1, rng.randint(1, 12))]
        places = leaderboard.rank_rows(rows)
        for place in places:
            assert place.rank == 1 + sum(1 for _, _, p in rows if p > place.points)
            mine = leaderboard.standing_of(places, place.id)
            above = [p for _, _, p in rows if p > place.points]
            assert mine.gap_to_next == (min(above) - place.points if above else 0)
            third = sorted((p for _, _, p in rows), reverse=True)[2] if len(rows) >= 3 else None
            assert mine.gap_to_top3 == (third - place.points if place.rank > 3 else 0)


def test_the_api_lists_the_top_rows_asked_for_and_still_places_me(org, api_as):
    for user, points in ((org.alice, 300), (org.bob, 200), (org.carol, 100), (org.wealth_lead, 50)):
        factories.give_points(user, points)
    dave = factories.user("employee", org.loans, name="Dave")
    body = api_as(dave).get("/leaderboard?period=month&limit=2").json
    assert [i["id"] for i in body["items"]] == [org.alice.id, org.bob.id]
    assert body["me"] == {"rank": 5, "points": 0, "gap_to_next": 50, "gap_to_top3": 100}
    assert api_as(org.wealth_lead).get("/leaderboard?period=month&limit=1").json["me"]["rank"] == 4
    assert api_as(org.loans_lead).get("/leaderboard?period=month&limit=1").json["me"] is None  # no points, no place
    assert api_as(dave).get("/leaderboard?period=month&limit=0").status_code == 422
    assert len(api_as(dave).get("/leaderboard?period=month").json["items"]) == 5  # Alice, Bob, Carol, the lead, Dave
