"""Badges (awarded with the event that crosses the threshold), honours and award-honours."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import badges, earning
from pointsapp.extensions import db
from pointsapp.models import BadgeAward, Honor, Notification
from tests import factories
from tests.conftest import login

NOW = dt.datetime.now(dt.timezone.utc)


def make_badge(api, **overrides):
    body = {
        "name": "Loan star",
        "description": "Five loans in a month",
        "event_type": "loan.signed",
        "threshold": 5,
        "period": "month",
    } | overrides
    response = api.post("/badges", body)
    assert response.status_code == 201, response.json
    return response.json


def test_admins_define_badges_and_everyone_lists_them(org, api_as):
    created = make_badge(api_as(org.admin))
    assert created["name"] == "Loan star" and created["threshold"] == 5 and created["period"] == "month"
    listed = api_as(org.alice).get("/badges").json["items"]
    assert [(b["id"], b["name"], b["description"]) for b in listed] == [(created["id"], "Loan star", "Five loans in a month")]


def test_badge_input_is_checked_and_only_admins_define_badges(org, api_as):
    admin = api_as(org.admin)
    bad = admin.post("/badges", {"name": "X", "event_type": "loan.signed", "threshold": 0})
    assert bad.status_code == 422 and "threshold" in bad.json["error"]["fields"]
    assert admin.post("/badges", {"name": "X", "event_type": "a", "threshold": 3, "period": "decade"}).status_code == 422
    assert admin.post("/badges", {"event_type": "a", "threshold": 3}).json["error"]["fields"]["name"]
    refused = api_as(org.wealth_lead).post("/badges", {"name": "X", "event_type": "a", "threshold": 3})
    assert refused.status_code == 403
    assert api_as(org.alice).get("/badges").json["items"] == []


def test_the_event_that_crosses_the_threshold_earns_the_badge_once(org, api_as):
    badge = make_badge(api_as(org.admin), threshold=3)
    first = factories.recorded_event(org.alice, "loan.signed", NOW, quantity=2, check_badges=True)
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) == 0
    crossing = factories.recorded_event(org.alice, "loan.signed", NOW, check_badges=True)
    factories.recorded_event(org.alice, "loan.signed", NOW, quantity=4, check_badges=True)
    awards = db.session.scalars(sa.select(BadgeAward)).all()
    assert [(a.badge_id, a.user_id, a.event_id) for a in awards] == [(badge["id"], org.alice.id, crossing.id)]
    assert awards[0].period_key == NOW.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    assert first.id != crossing.id
    note = db.session.scalar(sa.select(Notification).where(Notification.template == "badge_earned"))
    assert note.user_id == org.alice.id and note.params["name"] == "Loan star"
    mine = api_as(org.bob).get(f"/users/{org.alice.id}/badges").json["items"]
    assert [(i["badge_id"], i["name"]) for i in mine] == [(badge["id"], "Loan star")] and mine[0]["awarded_at"]


def test_a_periodic_badge_is_earned_again_in_the_next_period(org, api_as):
    make_badge(api_as(org.admin), threshold=2, period="month")
    october = dt.datetime(2026, 10, 10, 4, tzinfo=dt.timezone.utc)
    november = dt.datetime(2026, 11, 10, 4, tzinfo=dt.timezone.utc)
    factories.recorded_event(org.alice, "loan.signed", october, check_badges=True)
    factories.recorded_event(org.alice, "loan.signed", november, check_badges=True)  # a different month: no award
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) == 0
    factories.recorded_event(org.alice, "loan.signed", october, check_badges=True)
    factories.recorded_event(org.alice, "loan.signed", november, check_badges=True)
    keys = sorted(db.session.scalars(sa.select(BadgeAward.period_key)))
    assert keys == ["2026-10", "2026-11"]


def test_an_ever_badge_counts_across_periods_and_ignores_reversed_events(org, api_as):
    make_badge(api_as(org.admin), name="Veteran", threshold=3, period=None)
    old = factories.recorded_event(org.alice, "loan.signed", dt.datetime(2025, 1, 5, tzinfo=dt.timezone.utc), check_badges=True)
    old.reversed_at = NOW
    db.session.commit()
    factories.recorded_event(org.alice, "loan.signed", dt.datetime(2025, 6, 5, tzinfo=dt.timezone.utc), check_badges=True)
    factories.recorded_event(org.alice, "loan.signed", NOW, check_badges=True)
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) == 0
    factories.recorded_event(org.alice, "client.visit", NOW, quantity=9, check_badges=True)  # another type
    factories.recorded_event(org.alice, "loan.signed", NOW, check_badges=True)
    award = db.session.scalar(sa.select(BadgeAward))
    assert award.period_key == "" and award.user_id == org.alice.id


def test_admins_award_honours_listed_with_badges(org, api_as):
    response = api_as(org.admin).post(
        "/honors", {"user_id": org.bob.id, "title": "Best customer manager", "period_key": "2026-10"}
    )
    assert response.status_code == 201, response.json
    assert response.json["user_id"] == org.bob.id and response.json["title"] == "Best customer manager"
    items = api_as(org.alice).get(f"/users/{org.bob.id}/badges").json["items"]
    assert [(i["badge_id"], i["name"]) for i in items] == [(None, "Best customer manager")]
    from pointsapp import notify

    note = db.session.scalar(sa.select(Notification).where(Notification.user_id == org.bob.id))
    assert notify.render(note)[0] == "Honour: Best customer manager"
    again = api_as(org.admin).post("/honors", {"user_id": org.bob.id, "title": "Best customer manager", "period_key": "2026-10"})
    assert again.status_code == 409
    assert (
        api_as(org.wealth_lead).post("/honors", {"user_id": org.bob.id, "title": "Star", "period_key": "2026-10"}).status_code
        == 403
    )
    assert api_as(org.admin).post("/honors", {"user_id": 99999, "title": "Star", "period_key": "2026-10"}).status_code == 404
    assert api_as(org.admin).post("/honors", {"user_id": org.bob.id, "title": "", "period_key": "2026-10"}).status_code == 422
    assert api_as(org.alice).get("/users/99999/badges").status_code == 404


def test_a_vetoed_member_cannot_be_honoured(org, api_as, monkeypatch):
    monkeypatch.setattr(earning, "vetoed_user_ids", lambda period, key: {org.bob.id} if key == "2026-10" else set())
    refused = api_as(org.admin).post("/honors", {"user_id": org.bob.id, "title": "Star", "period_key": "2026-10"})
    assert refused.status_code == 422 and "veto" in refused.json["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Honor.id))) == 0


def test_award_honours_names_each_teams_best_manager_once(org, cli, monkeypatch):
    october = dt.datetime(2026, 10, 12, 4, tzinfo=dt.timezone.utc)
    dave = factories.user("employee", org.loans, name="Dave")
    erin = factories.user("employee", org.loans, name="Erin")
    for user, points in ((org.alice, 120), (org.bob, 80), (org.carol, 300), (dave, 90), (erin, 90)):
        factories.give_points(user, points, effective_at=october)
    factories.give_points(org.wealth_lead, 999, effective_at=october)  # leads are not customer managers
    factories.give_points(dave, 500, effective_at=dt.datetime(2026, 9, 12, tzinfo=dt.timezone.utc))  # another month
    monkeypatch.setattr(earning, "vetoed_user_ids", lambda period, key: {org.carol.id})
    result = cli.invoke(args=["award-honours", "month", "2026-10"])
    assert result.exit_code == 0, result.output
    rows = db.session.execute(sa.select(Honor.user_id, Honor.title, Honor.period_key, Honor.team_id)).all()
    # Carol is vetoed, so the loans team's best are Dave and Erin, tied at 90.
    assert sorted(rows) == sorted(
        [
            (org.alice.id, "Best customer manager", "2026-10", org.wealth.id),
            (dave.id, "Best customer manager", "2026-10", org.loans.id),
            (erin.id, "Best customer manager", "2026-10", org.loans.id),
        ]
    )
    assert "3 honour(s) awarded" in result.output
    again = cli.invoke(args=["award-honours", "month", "2026-10"])
    assert again.exit_code == 0 and "0 honour(s) awarded" in again.output
    assert db.session.scalar(sa.select(sa.func.count(Honor.id))) == 3
    bad = cli.invoke(args=["award-honours", "month", "2026-13"])
    assert bad.exit_code == 1 and "not a month key" in bad.output


def test_the_badges_page_shows_earned_and_not_yet_earned_with_progress(org, api_as, client):
    make_badge(api_as(org.admin), name="Loan star", threshold=2, period="month")
    make_badge(api_as(org.admin), name="Visit champion", event_type="client.visit", threshold=10, period="week")
    factories.recorded_event(org.alice, "loan.signed", NOW, quantity=2, check_badges=True)
    factories.recorded_event(org.alice, "client.visit", NOW, quantity=4, check_badges=True)
    api_as(org.admin).post("/honors", {"user_id": org.alice.id, "title": "Best customer manager", "period_key": "2026-10"})
    login(client, org.alice)
    html = client.get("/badges").get_data(as_text=True)
    assert "Loan star" in html and "Earned" in html
    assert "Visit champion" in html and "This week: 4 of 10" in html
    assert "Best customer manager" in html and "October 2026" in html


def test_the_admin_badges_page_creates_badges_and_honours(org, client):
    login(client, org.admin)
    from tests.conftest import csrf_token

    token = csrf_token(client, "/admin/badges")
    bad = client.post("/admin/badges", data={"csrf_token": token, "name": "", "event_type": "x", "threshold": "3"})
    assert bad.status_code == 422 and "Give the badge a name." in bad.get_data(as_text=True)
    ok = client.post(
        "/admin/badges",
        data={"csrf_token": token, "name": "Closer", "event_type": "loan.signed", "threshold": "3", "period": "week"},
    )
    assert ok.status_code == 302
    assert [b.name for b in badges.list_badges()] == ["Closer"]
    honor = client.post(
        "/admin/honors", data={"csrf_token": token, "user_id": org.bob.id, "title": "Mentor of the year", "period_key": "2025"}
    )
    assert honor.status_code == 302
    assert db.session.scalar(sa.select(Honor.title)) == "Mentor of the year"
    login_alice = client.application.test_client()
    login(login_alice, org.alice)
    assert login_alice.get("/admin/badges").status_code == 403


def test_an_event_posted_through_the_api_earns_the_badge_in_its_transaction(org, api_as):
    badge = make_badge(api_as(org.admin), name="First client", event_type="hnw_client_signed", threshold=1, period=None)
    event = {"external_id": "crm-1", "type": "hnw_client_signed", "user_id": org.carol.id, "occurred_at": NOW.isoformat()}
    response = api_as(org.admin).post("/events", event)
    assert response.status_code == 201, response.json
    items = api_as(org.carol).get(f"/users/{org.carol.id}/badges").json["items"]
    assert [(i["badge_id"], i["name"]) for i in items] == [(badge["id"], "First client")]
    assert api_as(org.admin).post("/events", event).status_code == 200  # a replay earns nothing more
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) == 1


def test_concurrent_events_crossing_the_threshold_award_the_badge_exactly_once(app, org, api_as):
    from tests.conftest import ApiClient, run_concurrently

    make_badge(api_as(org.admin), name="Closer", event_type="loan_signed", threshold=3, period="week")
    factories.recorded_event(org.alice, "loan_signed", NOW, check_badges=True)
    tokens = [factories.token_for(org.admin) for _ in range(4)]

    def post(i):
        event = {"external_id": f"race-{i}", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": NOW.isoformat()}
        return ApiClient(app, tokens[i]).post("/events", event)

    responses = run_concurrently(post, 4)
    assert [r.status_code for r in responses] == [201] * 4
    awards = db.session.scalars(sa.select(BadgeAward)).all()
    assert len(awards) == 1 and awards[0].user_id == org.alice.id
    assert db.session.scalar(sa.select(sa.func.count(Notification.id)).where(Notification.template == "badge_earned")) == 1
