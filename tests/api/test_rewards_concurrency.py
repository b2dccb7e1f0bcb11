"""No oversell, no overdraft, one decision: 20 concurrent requests, each with its own client."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Hold, Redemption, RedemptionStep, Reward
from tests import factories
from tests.conftest import ApiClient, run_concurrently

N = 20


def make_reward(**fields) -> Reward:
    reward = Reward(**({"name": "Certification course", "kind": "training_seat", "cost": 10, "description": ""} | fields))
    db.session.add(reward)
    db.session.commit()
    return reward


def clients_for(app, users) -> list[ApiClient]:
    return [ApiClient(app, factories.token_for(user)) for user in users]


def test_stock_of_three_is_redeemed_exactly_three_times(app, org):
    reward = make_reward(stock=3)
    users = [factories.user("employee", org.wealth) for _ in range(N)]
    for user in users:
        factories.give_points(user, 100)
    clients = clients_for(app, users)
    responses = run_concurrently(lambda i: clients[i].post("/redemptions", {"reward_id": reward.id}), N)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 3, 409: N - 3}, codes
    assert {r.json["error"]["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    db.session.remove()
    assert db.session.scalar(sa.select(Reward.stock).where(Reward.id == reward.id)) == 0
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 3
    assert db.session.scalar(sa.select(sa.func.sum(Hold.points))) == 30


def test_fifty_points_buy_a_ten_point_reward_exactly_five_times(app, org):
    reward = make_reward()
    factories.give_points(org.alice, 50)
    clients = clients_for(app, [org.alice] * N)
    responses = run_concurrently(lambda i: clients[i].post("/redemptions", {"reward_id": reward.id}), N)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 5, 422: N - 5}, codes
    assert {r.json["error"]["code"] for r in responses if r.status_code == 422} == {"insufficient_points"}
    db.session.remove()
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.held, summary.available) == (50, 50, 0)


def test_racing_approve_reject_cancel_lets_exactly_one_win(app, org):
    reward = make_reward(kind="leave_day", stock=10)
    factories.give_points(org.alice, 100)
    created = ApiClient(app, factories.token_for(org.alice)).post("/redemptions", {"reward_id": reward.id}).json
    rid = created["id"]
    actors = [(org.wealth_lead, "approve"), (org.admin, "reject"), (org.alice, "cancel"), (org.branch_lead, "approve")]
    clients = [(ApiClient(app, factories.token_for(user)), action) for user, action in actors]
    plan = [clients[i % len(clients)] for i in range(N)]
    responses = run_concurrently(lambda i: plan[i][0].post(f"/redemptions/{rid}/{plan[i][1]}"), N)
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: N - 1}, codes
    winner = next(r.json["status"] for r in responses if r.status_code == 200)
    db.session.remove()
    redemption = db.session.get(Redemption, rid)
    assert redemption.status == winner
    steps = db.session.scalars(sa.select(RedemptionStep.status).where(RedemptionStep.redemption_id == rid)).all()
    assert steps == ["requested", winner]
    stock = db.session.scalar(sa.select(Reward.stock).where(Reward.id == reward.id))
    summary = ledger.wallet_summary(org.alice.id)
    if winner == "approved":
        assert (stock, summary.balance, summary.held) == (9, 90, 0)
    else:
        assert (stock, summary.balance, summary.held) == (10, 100, 0)


def test_one_idempotency_key_sent_twenty_times_redeems_once(app, org):
    reward = make_reward(stock=50)
    factories.give_points(org.alice, 1000)
    clients = clients_for(app, [org.alice] * N)
    headers = {"Idempotency-Key": "double-tap-7"}
    responses = run_concurrently(lambda i: clients[i].post("/redemptions", {"reward_id": reward.id}, headers=headers), N)
    assert {r.status_code for r in responses} == {201}, [r.json for r in responses if r.status_code != 201]
    assert len({r.json["id"] for r in responses}) == 1
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1
    assert ledger.wallet_summary(org.alice.id).held == 10
    assert db.session.scalar(sa.select(Reward.stock).where(Reward.id == reward.id)) == 49


def test_concurrent_redeem_and_reject_on_one_reward_keep_stock_and_points_exact(app, org):
    """Redeeming and deciding lock in the same order, so they never deadlock or lose an update."""
    reward = make_reward(kind="leave_day", stock=N)
    users = [factories.user("employee", org.wealth) for _ in range(N)]
    for user in users:
        factories.give_points(user, 10)
    clients = clients_for(app, users)
    first = [c.post("/redemptions", {"reward_id": reward.id}).json["id"] for c in clients[: N // 2]]
    lead = [ApiClient(app, factories.token_for(org.wealth_lead)) for _ in range(N // 2)]

    def act(i):
        if i < N // 2:
            return lead[i].post(f"/redemptions/{first[i]}/reject", {"reason": "busy"})
        return clients[i].post("/redemptions", {"reward_id": reward.id})

    responses = run_concurrently(act, N)
    assert Counter(r.status_code for r in responses) == {200: N // 2, 201: N // 2}
    db.session.remove()
    assert db.session.scalar(sa.select(Reward.stock).where(Reward.id == reward.id)) == N // 2
