"""Challenge pages and the TV board, as a lead and an advisor see them on the phone."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from pointsapp import challenges
from pointsapp.extensions import db
from pointsapp.models import BoardLink, Challenge, Wallet
from tests import factories
from tests.conftest import csrf_token, login

NOW = dt.datetime.now(dt.timezone.utc)


def make_challenge(org, team=None, **fields):
    values = (
        dict(
            team_id=(team or org.wealth).id,
            title="Wealth sprint",
            event_type="fund.sold",
            target=10,
            pool=300,
            starts_at=NOW - dt.timedelta(days=1),
            ends_at=NOW + dt.timedelta(days=5),
        )
        | fields
    )
    challenge = challenges.launch(org.admin, **values)
    db.session.commit()
    return challenge


def test_a_lead_launches_a_challenge_from_the_phone_form(org, client):
    factories.recorded_event(org.bob, "fund.sold", NOW - dt.timedelta(days=30))  # the launcher offers types it has seen
    login(client, org.wealth_lead)
    page = client.get("/challenges/new").get_data(as_text=True)
    assert "Wealth Team" in page and "Loans Team" not in page
    token = csrf_token(client, "/challenges/new")
    form = {
        "csrf_token": token,
        "team_id": org.wealth.id,
        "title": "Fund week",
        "event_type": "fund.sold",
        "target": "20",
        "pool": "400",
        "starts_at": "2026-11-20T09:00",
        "ends_at": "2026-11-18T18:00",
    }
    refused = client.post("/challenges/new", data=form)
    assert refused.status_code == 422 and "The end must be after the start." in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Challenge.id))) == 0
    response = client.post("/challenges/new", data=form | {"ends_at": "2026-12-20T18:00"})
    assert response.status_code == 302
    challenge = db.session.scalar(sa.select(Challenge))
    assert challenge.title == "Fund week" and challenge.pool == 400
    assert challenge.starts_at == dt.datetime(2026, 11, 20, 1, tzinfo=dt.timezone.utc)  # 09:00 in Shanghai


def test_an_advisor_sees_live_progress_and_cannot_close(org, client):
    challenge = make_challenge(org)
    factories.recorded_event(org.alice, "fund.sold", NOW, quantity=4)
    login(client, org.alice)
    listing = client.get("/challenges").get_data(as_text=True)
    assert "Wealth sprint" in listing and "4 of 10" in listing
    from pointsapp.models import Rule

    db.session.add(Rule(kind="event", event_type="fund.sold", name="Fund sold", points=10, active=True))
    db.session.commit()
    page = client.get(f"/challenges/{challenge.id}").get_data(as_text=True)
    assert 'hx-trigger="every 30s"' in page and "Close the challenge now" not in page
    assert "Counts: Fund sold" in page
    assert 'class="me-row"' in page
    fragment = client.get(f"/challenges/{challenge.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "4 of 10" in fragment
    assert client.get("/challenges/new").status_code == 403


def test_a_lead_closes_from_the_page_and_members_see_their_share(org, client):
    challenge = make_challenge(org)
    factories.recorded_event(org.alice, "fund.sold", NOW, quantity=6)
    factories.recorded_event(org.bob, "fund.sold", NOW, quantity=4)
    login(client, org.wealth_lead)
    token = csrf_token(client, f"/challenges/{challenge.id}")
    response = client.post(f"/challenges/{challenge.id}/close", data={"csrf_token": token}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "300 points shared out" in html and "+180 points" in html and "+120 points" in html
    assert db.session.get(Wallet, org.alice.id, populate_existing=True).balance == 180


def test_outsiders_get_not_found(org, client):
    challenge = make_challenge(org)
    login(client, org.admin)
    other = client.application.test_client()
    carol_user = factories.user("employee", org.loans, password=factories.PASSWORD)
    login(other, carol_user)
    assert other.get(f"/challenges/{challenge.id}").status_code == 404
    assert "Wealth sprint" not in other.get("/challenges").get_data(as_text=True)


def test_the_tv_board_opens_without_login_until_the_link_is_revoked(org, client, app):
    make_challenge(org, team=org.wealth, title="Wealth sprint")
    factories.give_points(org.alice, 120)
    factories.give_points(org.carol, 90)
    login(client, org.wealth_lead)
    token = csrf_token(client, "/board-links")
    assert client.post("/board-links", data={"csrf_token": token, "team_id": org.loans.id}).status_code == 422
    created = client.post("/board-links", data={"csrf_token": token, "team_id": org.wealth.id, "label": "Lobby"})
    assert created.status_code == 200
    html = created.get_data(as_text=True)
    url = html.split('readonly value="')[1].split('"')[0]
    path = url.split("localhost", 1)[-1]
    link = db.session.scalar(sa.select(BoardLink))
    assert link.token_hash not in url and len(link.token_hash) == 64
    screen = app.test_client()  # no login
    board = screen.get(path)
    assert board.status_code == 200
    text = board.get_data(as_text=True)
    assert "Alice" in text and "Carol" not in text  # the wealth team's board only
    assert "Wealth sprint" in text and 'hx-trigger="every 30s"' in text
    live = screen.get(path + "/live")
    assert live.status_code == 200 and "<html" not in live.get_data(as_text=True)
    client.post(f"/board-links/{link.id}/revoke", data={"csrf_token": token})
    assert screen.get(path).status_code == 404
    gone = screen.get(path + "/live")
    assert gone.status_code == 286 and "revoked" in gone.get_data(as_text=True)
    assert screen.get("/board/not-a-token").status_code == 404


def test_the_leaderboard_page_has_an_empty_state(org, client):
    empty = factories.team("New Team", org.branch)
    login(client, org.admin)
    html = client.get(f"/leaderboard?period=week&team_id={empty.id}").get_data(as_text=True)
    assert "Nobody is on this board yet." in html and "Your place" not in html


def test_a_lead_honours_the_top_two_contributors_once(org, client):
    dave = factories.user("employee", org.wealth, name="Dave")
    challenge = make_challenge(org)
    factories.recorded_event(org.alice, "fund.sold", NOW, quantity=2)
    factories.recorded_event(org.bob, "fund.sold", NOW, quantity=6)
    factories.recorded_event(dave, "fund.sold", NOW, quantity=3)
    login(client, org.wealth_lead)
    token = csrf_token(client, f"/challenges/{challenge.id}")
    early = client.post(f"/challenges/{challenge.id}/honour", data={"csrf_token": token}, follow_redirects=True)
    assert "Close the challenge first" in early.get_data(as_text=True)
    client.post(f"/challenges/{challenge.id}/close", data={"csrf_token": token})
    done = client.post(f"/challenges/{challenge.id}/honour", data={"csrf_token": token}, follow_redirects=True)
    assert "Team contribution honour given to Bob, Dave." in done.get_data(as_text=True)
    from pointsapp.models import Honor

    assert sorted(db.session.scalars(sa.select(Honor.user_id))) == sorted([org.bob.id, dave.id])
    again = client.post(f"/challenges/{challenge.id}/honour", data={"csrf_token": token}, follow_redirects=True)
    assert "already been honoured" in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Honor.id))) == 2


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:600])
    return response.get_data(as_text=True)


def _challenge_form(org, event_type):
    return {
        "team_id": str(org.alice.team_id),
        "title": "Loans push",
        "event_type": event_type,
        "target": "5",
        "pool": "100",
        "starts_at": "2026-11-01T09:00",
        "ends_at": "2026-11-20T09:00",
    }


def test_challenge_launcher_offers_event_types_by_rule_name_and_refuses_a_typo(client, org):
    from pointsapp import rules
    from pointsapp.models import Challenge

    rules.seed_default_rules()
    db.session.commit()
    factories.recorded_event(org.bob, "branch_walk_in")
    login(client, org.wealth_lead)
    html = text(client.get("/challenges/new"))
    loan_rule = db.session.scalar(sa.select(rules.Rule.name).where(rules.Rule.event_type == "loan_signed"))
    assert re.search(r'<select name="event_type"', html) and "loan.signed" not in html
    assert f'<option value="loan_signed" >{loan_rule} (loan_signed)</option>' in html
    assert '<option value="branch_walk_in" >branch_walk_in</option>' in html
    data = _challenge_form(org, "loan.signed") | {"title": "", "csrf_token": csrf_token(client, "/challenges/new")}
    html = text(client.post("/challenges/new", data=data), 422)
    assert "loan.signed is not an event type we receive. Choose one from the list." in html
    assert "Give the challenge a title." in html  # every field's problem at once
    assert db.session.scalar(sa.select(sa.func.count(Challenge.id))) == 0
    response = client.post("/challenges/new", data=data | {"event_type": "loan_signed", "title": "Loans push"})
    assert response.status_code == 302
