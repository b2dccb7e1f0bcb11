"""The contract's Rewards section: catalog, redeeming, decisions, bad input."""

from __future__ import annotations

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Hold, LedgerEntry, Notification, Redemption, RedemptionStep, Reward
from tests import factories


def make_reward(**fields) -> Reward:
    values = {"name": "Paid leave day", "kind": "leave_day", "cost": 100, "stock": None, "description": "", "active": True}
    values.update(fields)
    reward = Reward(**values)
    db.session.add(reward)
    db.session.commit()
    return reward


def wallet(user):
    db.session.remove()
    return ledger.wallet_summary(user.id)


def stock_of(reward):
    db.session.remove()
    return db.session.scalar(sa.select(Reward.stock).where(Reward.id == reward.id))


# --- catalog -------------------------------------------------------------------


def test_catalog_lists_rewards_with_the_contract_fields(org, api_as):
    leave = make_reward(name="Paid leave day", cost=800, stock=None)
    seat = make_reward(name="Certification course", kind="training_seat", cost=1500, stock=3)
    body = api_as(org.alice).get("/rewards").json
    items = {item["id"]: item for item in body["items"]}
    assert {k: items[leave.id][k] for k in ("id", "name", "kind", "cost", "stock", "active")} == {
        "id": leave.id,
        "name": "Paid leave day",
        "kind": "leave_day",
        "cost": 800,
        "stock": None,
        "active": True,
    }
    assert items[seat.id]["stock"] == 3 and items[seat.id]["kind"] == "training_seat"


def test_the_contract_minimum_creates_any_kind(org, api_as):
    for kind in ("leave_day", "bonus_cash", "training_seat", "remote_day", "other"):
        response = api_as(org.admin).post("/rewards", {"name": f"A {kind}", "kind": kind, "cost": 100})
        assert response.status_code == 201, response.json
        assert response.json["kind"] == kind and response.json["stock"] is None and response.json["active"] is True


def test_admin_creates_a_reward_and_everyone_sees_it(org, api_as):
    response = api_as(org.admin).post(
        "/rewards",
        {"name": "Bonus cash ¥500", "kind": "bonus_cash", "cost": 1000, "cash_amount": 500, "limit_per_year": 4},
    )
    assert response.status_code == 201, response.json
    created = response.json
    assert created["name"] == "Bonus cash ¥500" and created["kind"] == "bonus_cash" and created["cost"] == 1000
    assert created["stock"] is None and created["active"] is True and created["cash_amount"] == "500.00"
    assert created["limit_per_year"] == 4 and created["monthly_budget"] is None
    listed = api_as(org.bob).get("/rewards").json["items"]
    assert [item["id"] for item in listed] == [created["id"]]


def test_only_admins_create_rewards(org, api_as):
    response = api_as(org.wealth_lead).post("/rewards", {"name": "Leave", "kind": "leave_day", "cost": 10})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"
    assert db.session.scalar(sa.select(sa.func.count(Reward.id))) == 0


def test_a_bad_reward_gets_field_errors_and_nothing_is_written(org, api_as):
    response = api_as(org.admin).post("/rewards", {"name": "", "kind": "holiday", "cost": 0, "stock": -1})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"name", "kind", "cost", "stock"}
    response = api_as(org.admin).post("/rewards", {"name": "Cash", "kind": "other", "cost": 10, "monthly_budget": 100})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"monthly_budget": ["A monthly budget needs a cash amount per redemption."]}
    assert db.session.scalar(sa.select(sa.func.count(Reward.id))) == 0


def test_admin_switches_a_reward_off_and_it_can_no_longer_be_redeemed(org, api_as):
    reward = make_reward(cost=10)
    factories.give_points(org.alice, 100)
    admin = api_as(org.admin)
    response = admin.client.patch(f"/api/v1/rewards/{reward.id}", json={"active": False}, headers=admin._headers(None))
    assert response.status_code == 200 and response.json["active"] is False
    refused = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "reward_unavailable"
    assert "no longer offered" in refused.json["error"]["message"]
    assert wallet(org.alice).held == 0


# --- redeeming -----------------------------------------------------------------


def test_redeeming_holds_the_points_at_once_and_reserves_stock(org, api_as):
    reward = make_reward(cost=300, stock=2)
    factories.give_points(org.alice, 1000)
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 201, response.json
    body = response.json
    assert {k: body[k] for k in ("reward_id", "status", "points")} == {"reward_id": reward.id, "status": "pending", "points": 300}
    summary = wallet(org.alice)
    assert (summary.balance, summary.held, summary.available) == (1000, 300, 700)
    assert stock_of(reward) == 1
    steps = db.session.scalars(sa.select(RedemptionStep.status).where(RedemptionStep.redemption_id == body["id"])).all()
    assert steps == ["requested"]


def test_quantity_multiplies_points_and_stock(org, api_as):
    reward = make_reward(cost=100, stock=5)
    factories.give_points(org.alice, 1000)
    body = api_as(org.alice).post("/redemptions", {"reward_id": reward.id, "quantity": 3}).json
    assert body["points"] == 300 and body["quantity"] == 3
    assert stock_of(reward) == 2 and wallet(org.alice).held == 300


def test_not_enough_points_says_how_many_are_missing(org, api_as):
    reward = make_reward(cost=800)
    factories.give_points(org.alice, 240)
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "insufficient_points" and error["missing"] == 560
    assert "560" in error["message"]
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 0
    assert wallet(org.alice).held == 0


def test_a_negative_balance_after_a_clawback_cannot_redeem(org, api_as):
    reward = make_reward(cost=10)
    factories.give_points(org.alice, 50)
    factories.give_points(org.alice, -80, kind="compliance_deduction", reason="Compliance deduction")
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 422 and response.json["error"]["missing"] == 40
    assert wallet(org.alice).held == 0


def test_out_of_stock_is_a_conflict_and_changes_nothing(org, api_as):
    reward = make_reward(cost=10, stock=0)
    factories.give_points(org.alice, 100)
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "out_of_stock"
    assert wallet(org.alice).held == 0 and stock_of(reward) == 0


def test_unknown_reward_is_404(org, api_as):
    factories.give_points(org.alice, 100)
    response = api_as(org.alice).post("/redemptions", {"reward_id": 999999})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 0


def test_a_reward_outside_its_window_is_refused(org, api_as):
    import datetime as dt

    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    reward = make_reward(cost=10, available_from=later)
    factories.give_points(org.alice, 100)
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 422 and response.json["error"]["code"] == "reward_unavailable"


def test_malformed_redemption_requests_are_rejected(org, api_as):
    api = api_as(org.alice)
    assert api.post("/redemptions", {}).json["error"]["fields"] == {"reward_id": ["Missing data for required field."]}
    response = api.post("/redemptions", {"reward_id": "abc", "quantity": 0})
    assert response.status_code == 422 and set(response.json["error"]["fields"]) == {"reward_id", "quantity"}
    response = api.client.post(
        "/api/v1/redemptions", data="{nope", headers={**api._headers(None), "Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "bad_request"


def test_yearly_limit_is_enforced_with_a_clear_code(org, api_as):
    reward = make_reward(cost=10, limit_per_year=2)
    factories.give_points(org.alice, 100)
    api = api_as(org.alice)
    assert api.post("/redemptions", {"reward_id": reward.id, "quantity": 2}).status_code == 201
    response = api.post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "limit_reached"
    assert "at most 2 times a year" in response.json["error"]["message"]
    assert wallet(org.alice).held == 20


def test_cancelled_redemptions_do_not_count_against_the_limit(org, api_as):
    reward = make_reward(cost=10, limit_per_year=1)
    factories.give_points(org.alice, 100)
    api = api_as(org.alice)
    first = api.post("/redemptions", {"reward_id": reward.id}).json
    assert api.post(f"/redemptions/{first['id']}/cancel").status_code == 200
    assert api.post("/redemptions", {"reward_id": reward.id}).status_code == 201


def test_monthly_bonus_cash_budget_refuses_once_used_up(org, api_as):
    reward = make_reward(name="Bonus cash", kind="bonus_cash", cost=100, cash_amount=500, monthly_budget=1000)
    factories.give_points(org.alice, 1000)
    factories.give_points(org.bob, 1000)
    assert api_as(org.alice).post("/redemptions", {"reward_id": reward.id}).json["cash_amount"] == "500.00"
    assert api_as(org.bob).post("/redemptions", {"reward_id": reward.id}).status_code == 201
    response = api_as(org.alice).post("/redemptions", {"reward_id": reward.id})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "budget_exhausted"
    assert "budget" in response.json["error"]["message"] and "used up" in response.json["error"]["message"]


def test_idempotency_key_replays_the_first_redemption(org, api_as):
    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    api = api_as(org.alice)
    first = api.post("/redemptions", {"reward_id": reward.id}, headers={"Idempotency-Key": "tap-1"})
    again = api.post("/redemptions", {"reward_id": reward.id}, headers={"Idempotency-Key": "tap-1"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    other = api.post("/redemptions", {"reward_id": reward.id, "quantity": 2}, headers={"Idempotency-Key": "tap-1"})
    assert other.status_code == 409 and other.json["error"]["code"] == "idempotency_conflict"
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1
    assert wallet(org.alice).held == 100


def test_my_redemptions_are_paginated_newest_first(org, api_as):
    reward = make_reward(cost=10)
    factories.give_points(org.alice, 100)
    factories.give_points(org.bob, 100)
    api = api_as(org.alice)
    ids = [api.post("/redemptions", {"reward_id": reward.id}).json["id"] for _ in range(3)]
    api_as(org.bob).post("/redemptions", {"reward_id": reward.id})
    page = api.get("/me/redemptions?limit=2").json
    assert [item["id"] for item in page["items"]] == [ids[2], ids[1]]
    assert page["items"][0]["status"] == "pending" and page["items"][0]["reward_name"] == "Paid leave day"
    rest = api.get(f"/me/redemptions?limit=2&cursor={page['next_cursor']}").json
    assert [item["id"] for item in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


# --- deciding ------------------------------------------------------------------


def _pending(org, api_as, user=None, **reward_fields):
    user = user or org.alice
    reward = make_reward(**({"cost": 100, "stock": 5} | reward_fields))
    factories.give_points(user, 1000)
    body = api_as(user).post("/redemptions", {"reward_id": reward.id}).json
    return reward, body["id"]


def test_the_lead_approves_a_leave_day_and_the_points_are_spent(org, api_as):
    reward, rid = _pending(org, api_as)
    response = api_as(org.wealth_lead).post(f"/redemptions/{rid}/approve")
    assert response.status_code == 200
    assert response.json["id"] == rid and response.json["status"] == "approved"
    summary = wallet(org.alice)
    assert (summary.balance, summary.held, summary.available) == (900, 0, 900)
    assert stock_of(reward) == 4
    entry = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.kind == "redemption"))
    assert entry.points == -100 and entry.user_id == org.alice.id and entry.actor_id == org.wealth_lead.id
    note = db.session.scalar(
        sa.select(Notification).where(Notification.user_id == org.alice.id, Notification.kind == "redemption")
    )
    assert note.template == "redemption_approved" and note.params["redemption_id"] == rid


def test_a_branch_lead_above_the_team_may_decide_too(org, api_as):
    _reward, rid = _pending(org, api_as, kind="remote_day")
    assert api_as(org.branch_lead).post(f"/redemptions/{rid}/approve").json["status"] == "approved"


def test_reject_releases_points_and_stock_and_keeps_the_reason(org, api_as):
    reward, rid = _pending(org, api_as)
    response = api_as(org.wealth_lead).post(f"/redemptions/{rid}/reject", {"reason": "Quarter-end closing week"})
    assert response.status_code == 200 and response.json == {
        **response.json,
        "id": rid,
        "status": "rejected",
        "reason": "Quarter-end closing week",
    }
    summary = wallet(org.alice)
    assert (summary.balance, summary.held) == (1000, 0)
    assert stock_of(reward) == 5
    hold = db.session.scalar(sa.select(Hold))
    assert hold.status == "released"
    note = db.session.scalar(sa.select(Notification).where(Notification.kind == "redemption"))
    assert note.template == "redemption_rejected" and note.params["reason"] == "Quarter-end closing week"


def test_actions_accept_an_empty_body_an_empty_object_or_none(org, api_as):
    factories.give_points(org.alice, 1000)
    reward = make_reward(cost=10)
    api, lead = api_as(org.alice), api_as(org.wealth_lead)
    ids = [api.post("/redemptions", {"reward_id": reward.id}).json["id"] for _ in range(3)]
    headers = lead._headers({"Content-Type": "application/json"})
    assert lead.client.post(f"/api/v1/redemptions/{ids[0]}/reject", data="", headers=headers).status_code == 200
    assert lead.post(f"/redemptions/{ids[1]}/reject", {}).status_code == 200
    assert lead.client.post(f"/api/v1/redemptions/{ids[2]}/reject", headers=lead._headers(None)).status_code == 200
    more = [api.post("/redemptions", {"reward_id": reward.id}).json["id"] for _ in range(2)]
    assert lead.post(f"/redemptions/{more[0]}/approve", {}).json["status"] == "approved"
    assert (
        api.client.post(
            f"/api/v1/redemptions/{more[1]}/cancel", data="", headers=api._headers({"Content-Type": "application/json"})
        ).json["status"]
        == "cancelled"
    )


def test_the_owner_cancels_while_pending_and_gets_everything_back(org, api_as):
    reward, rid = _pending(org, api_as)
    response = api_as(org.alice).post(f"/redemptions/{rid}/cancel")
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert wallet(org.alice).held == 0 and stock_of(reward) == 5
    again = api_as(org.alice).post(f"/redemptions/{rid}/cancel")
    assert again.status_code == 409 and again.json["error"]["code"] == "invalid_transition"
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_a_decision_on_a_decided_redemption_is_a_conflict(org, api_as):
    _reward, rid = _pending(org, api_as)
    assert api_as(org.wealth_lead).post(f"/redemptions/{rid}/approve").status_code == 200
    for action in ("approve", "reject"):
        response = api_as(org.admin).post(f"/redemptions/{rid}/{action}")
        assert response.status_code == 409 and "already approved" in response.json["error"]["message"]
    assert api_as(org.alice).post(f"/redemptions/{rid}/cancel").status_code == 409
    assert wallet(org.alice).balance == 900


def test_nobody_decides_their_own_redemption(org, api_as):
    _reward, rid = _pending(org, api_as, user=org.admin, kind="bonus_cash", cash_amount=500)
    response = api_as(org.admin).post(f"/redemptions/{rid}/approve")
    assert response.status_code == 403 and "own redemption" in response.json["error"]["message"]
    _reward, lead_rid = _pending(org, api_as, user=org.wealth_lead)
    assert api_as(org.wealth_lead).post(f"/redemptions/{lead_rid}/approve").status_code == 403
    assert api_as(org.branch_lead).post(f"/redemptions/{lead_rid}/approve").status_code == 200


def test_leads_decide_only_leave_and_remote_days_of_their_teams(org, api_as):
    _reward, cash = _pending(org, api_as, kind="bonus_cash", cash_amount=500)
    assert api_as(org.wealth_lead).post(f"/redemptions/{cash}/approve").status_code == 403
    _reward, leave = _pending(org, api_as, user=org.carol)
    response = api_as(org.wealth_lead).post(f"/redemptions/{leave}/reject", {"reason": "no"})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert api_as(org.bob).post(f"/redemptions/{leave}/approve").status_code == 403
    assert api_as(org.bob).post(f"/redemptions/{leave}/cancel").status_code == 403
    assert api_as(org.admin).post(f"/redemptions/{cash}/approve").status_code == 200
    assert api_as(org.admin).post(f"/redemptions/{leave}/approve").status_code == 200


def test_unknown_redemption_is_404(org, api_as):
    for action in ("approve", "reject", "cancel"):
        response = api_as(org.admin).post(f"/redemptions/424242/{action}")
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_approval_queue_and_timeline(org, api_as):
    _reward, leave = _pending(org, api_as)
    _reward, cash = _pending(org, api_as, user=org.bob, kind="bonus_cash", cash_amount=500)
    lead_queue = api_as(org.wealth_lead).get("/redemptions").json["items"]
    assert [item["id"] for item in lead_queue] == [leave]
    admin_queue = api_as(org.admin).get("/redemptions").json["items"]
    assert [item["id"] for item in admin_queue] == [leave, cash]
    assert api_as(org.carol).get("/redemptions").json["items"] == []
    api_as(org.wealth_lead).post(f"/redemptions/{leave}/reject", {"reason": "Busy week"})
    detail = api_as(org.alice).get(f"/redemptions/{leave}").json
    assert [(s["status"], s["note"]) for s in detail["steps"]] == [("requested", None), ("rejected", "Busy week")]
    assert api_as(org.carol).get(f"/redemptions/{leave}").status_code == 404


def test_a_retried_decision_with_its_idempotency_key_gets_the_first_answer(org, api_as):
    _reward, rid = _pending(org, api_as)
    lead = api_as(org.wealth_lead)
    first = lead.post(f"/redemptions/{rid}/approve", headers={"Idempotency-Key": "approve-1"})
    retry = lead.post(f"/redemptions/{rid}/approve", headers={"Idempotency-Key": "approve-1"})
    assert first.status_code == retry.status_code == 200 and retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert lead.post(f"/redemptions/{rid}/approve").status_code == 409
    assert wallet(org.alice).balance == 900


def test_out_of_range_ids_and_null_bodies_get_contract_errors(org, api_as):
    api, admin = api_as(org.alice), api_as(org.admin)
    response = api.post("/redemptions", {"reward_id": 99999999999999999999})
    assert response.status_code == 422 and "reward_id" in response.json["error"]["fields"]
    for action in ("approve", "reject", "cancel"):
        assert admin.post(f"/redemptions/99999999999999999999/{action}").status_code == 404
    assert admin.get("/rewards/99999999999999999999").status_code == 404
    _reward, rid = _pending(org, api_as)
    headers = api_as(org.wealth_lead)._headers({"Content-Type": "application/json"})
    response = api.client.post(f"/api/v1/redemptions/{rid}/reject", data="null", headers=headers)
    assert response.status_code == 200 and response.json["status"] == "rejected" and response.json["reason"] is None
