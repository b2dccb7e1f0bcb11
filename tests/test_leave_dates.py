"""Leave and remote-day redemptions carry the days asked for: shown to approvers and HR, never past, never overlapping."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from pointsapp import exports, periods, redemptions
from pointsapp.extensions import db
from pointsapp.models import Redemption, Reward
from tests import factories
from tests.conftest import csrf_token, login, run_concurrently


def _today() -> dt.date:
    return periods.local(periods.utcnow()).date()


def _reward(kind="leave_day", cost=100, name="Paid leave day"):
    reward = Reward(name=name, kind=kind, cost=cost, description="", translations={})
    db.session.add(reward)
    db.session.commit()
    return reward


def test_the_days_asked_for_set_the_quantity_and_the_points(api_as, org):
    reward = _reward()
    factories.give_points(org.alice, 1000)
    first = _today() + dt.timedelta(days=7)
    answer = api_as(org.alice).post(
        "/redemptions",
        {"reward_id": reward.id, "starts_on": first.isoformat(), "ends_on": (first + dt.timedelta(days=2)).isoformat()},
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert (body["quantity"], body["points"], body["starts_on"], body["ends_on"]) == (
        3,
        300,
        first.isoformat(),
        (first + dt.timedelta(days=2)).isoformat(),
    )
    one_day = (
        api_as(org.alice)
        .post(
            "/redemptions",
            {"reward_id": _reward("remote_day", 50, "Remote day").id, "starts_on": (first + dt.timedelta(days=10)).isoformat()},
        )
        .get_json()
    )
    assert (one_day["quantity"], one_day["ends_on"]) == (1, (first + dt.timedelta(days=10)).isoformat())


def test_past_days_reversed_ranges_and_overlaps_are_refused_and_nothing_is_held(api_as, org):
    reward = _reward()
    factories.give_points(org.alice, 1000)
    api = api_as(org.alice)
    past = api.post("/redemptions", {"reward_id": reward.id, "starts_on": (_today() - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and "starts_on" in past.get_json()["error"]["fields"]
    first = _today() + dt.timedelta(days=3)
    backwards = api.post(
        "/redemptions",
        {"reward_id": reward.id, "starts_on": first.isoformat(), "ends_on": (first - dt.timedelta(days=1)).isoformat()},
    )
    assert backwards.status_code == 422 and "ends_on" in backwards.get_json()["error"]["fields"]
    assert (
        api.post(
            "/redemptions",
            {"reward_id": reward.id, "starts_on": first.isoformat(), "ends_on": (first + dt.timedelta(days=1)).isoformat()},
        ).status_code
        == 201
    )
    remote = _reward("remote_day", 50, "Remote day")
    clash = api.post("/redemptions", {"reward_id": remote.id, "starts_on": (first + dt.timedelta(days=1)).isoformat()})
    assert clash.status_code == 422 and clash.get_json()["error"]["code"] == "dates_overlap"
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1
    # A cancelled request frees its days.
    redemptions.cancel(org.alice, db.session.scalar(sa.select(Redemption.id)))
    db.session.commit()
    assert (
        api.post("/redemptions", {"reward_id": remote.id, "starts_on": (first + dt.timedelta(days=1)).isoformat()}).status_code
        == 201
    )


def test_two_overlapping_requests_at_once_give_one_redemption(api_as, org):
    leave, remote = _reward(), _reward("remote_day", 50, "Remote day")
    factories.give_points(org.alice, 1000)
    day = (_today() + dt.timedelta(days=5)).isoformat()
    clients = [api_as(org.alice), api_as(org.alice)]
    answers = run_concurrently(
        lambda i: clients[i].post("/redemptions", {"reward_id": (leave, remote)[i].id, "starts_on": day}).status_code, 2
    )
    assert sorted(answers) == [201, 422]
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1


def test_the_confirm_page_posts_the_days_shown_and_approvers_and_hr_see_them(app, client, org):
    reward = _reward()
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    first = _today() + dt.timedelta(days=14)
    last = first + dt.timedelta(days=1)
    html = client.get(f"/rewards/{reward.id}/confirm?starts_on={first}&ends_on={last}").get_data(as_text=True)
    assert 'type="date" name="starts_on"' in html and "Redeem for 200 points" in html and "2 days" in html
    token = re.search(r'name="token" value="([^"]+)"', html)[1]
    data = {"csrf_token": csrf_token(client, "/rewards"), "token": token, "starts_on": str(first), "ends_on": str(last)}
    stale = client.post(f"/rewards/{reward.id}/redeem", data={**data, "quoted_points": "100"})
    assert stale.status_code == 409 and "The total is now 200 points" in stale.get_data(as_text=True)
    assert client.post(f"/rewards/{reward.id}/redeem", data={**data, "quoted_points": "200"}).status_code == 302
    redemption = db.session.scalar(sa.select(Redemption))
    assert (redemption.starts_on, redemption.ends_on, redemption.quantity, redemption.points) == (first, last, 2, 200)
    lead = login(app.test_client(), org.wealth_lead)
    queue = lead.get("/rewards/approvals").get_data(as_text=True)
    assert "Days asked for:" in queue and str(first.year) in queue
    redemptions.approve(org.wealth_lead, redemption.id)
    db.session.commit()
    rows = exports.hr_rows(None, periods.current_key("month"))
    assert (rows[0]["first_day"], rows[0]["last_day"], rows[0]["days"]) == (str(first), str(last), 2)


def test_leave_on_the_web_needs_a_first_day(client, org):
    reward = _reward()
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    html = client.get(f"/rewards/{reward.id}/confirm").get_data(as_text=True)
    assert "Choose the first day." in html and "Redeem for" not in html
    refused = client.post(f"/rewards/{reward.id}/redeem", data={"csrf_token": csrf_token(client, "/rewards"), "quantity": "1"})
    assert refused.status_code == 422 and db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 0
