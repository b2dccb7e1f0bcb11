"""Where I stand: my rank with two places above and below, and who is ranked at all."""

from __future__ import annotations

from pointsapp import leaderboard
from pointsapp.extensions import db
from tests import factories
from tests.conftest import login


def _team_with_points(org, points_by_name):
    people = {}
    for name, points in points_by_name.items():
        person = factories.user("employee", org.wealth, name=name, password=factories.PASSWORD)
        if points:
            factories.give_points(person, points)
        people[name] = person
    db.session.commit()
    return people


def test_the_wallet_shows_two_places_above_and_below_me_and_the_gap_to_the_next(client, org):
    people = _team_with_points(org, {"Ann": 100, "Ben": 90, "Cat": 80, "Dan": 70, "Eve": 60, "Fay": 50, "Gus": 40})
    page = login(client, people["Dan"]).get("/wallet").get_data(as_text=True)
    panel = page.split('class="card rank-panel"')[1].split("</section>")[0]
    assert "#6" not in panel and "#4" in panel  # Alice, Bob, Carol stand at 0 below everyone
    assert "10 points to the next place" in panel
    listed = [chunk.split('<span class="name">')[1].split("<")[0].strip() for chunk in panel.split("<li")[1:]]
    assert listed == ["Ben", "Cat", "Dan", "Eve", "Fay"]
    assert '<span class="points">90</span>' in panel and '<span class="points">50</span>' in panel


def test_at_the_top_the_neighbours_are_the_places_below():
    places = leaderboard.rank_rows([(1, "A", 50), (2, "B", 40), (3, "C", 30), (4, "D", 20)])
    assert [p.name for p in leaderboard.around(places, 1)] == ["A", "B", "C"]
    assert [p.name for p in leaderboard.around(places, 4)] == ["B", "C", "D"]
    assert leaderboard.around(places, 99) == []


def test_admins_and_leads_without_points_are_not_ranked_but_a_lead_who_earned_is(org, api_as):
    factories.give_points(org.alice, 30)
    factories.give_points(org.wealth_lead, 20)
    factories.give_points(org.admin, 500)
    board = api_as(org.alice).get("/leaderboard?period=week").get_json()
    names = [item["name"] for item in board["items"]]
    assert names[:2] == ["Alice", "Wealth Lead"]
    assert "Admin" not in names and "Branch Lead" not in names and "Loans Lead" not in names
    assert {"Bob", "Carol"} <= set(names)  # employees without points stand at 0
    assert api_as(org.branch_lead).get("/leaderboard?period=week").get_json()["me"] is None


def test_the_tv_board_ranks_neither_admins_nor_leads_without_points(org):
    factories.give_points(org.bob, 10)
    db.session.commit()
    _, token = leaderboard.create_link(org.admin, org.branch.id)
    tv = leaderboard.tv_board(token)
    names = [place.name for place in tv.top.items]
    assert "Bob" in names and not {"Branch Lead", "Wealth Lead", "Loans Lead", "Admin"} & set(names)
