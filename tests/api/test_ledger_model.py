"""A model-based test of the ledger: random histories through the JSON API against a plain-Python model.

Hypothesis drives events (and replays of the same external_id, with the same
or a changed payload), manual awards and deductions (and Idempotency-Key
replays), event reversals, redemptions, approvals, rejections, cancels,
expiries and challenge closes, each through the real API with bearer tokens
(expiry through the ``expire-redemptions`` command, once a redemption has been
made old). After every step every member's balance, held and available points
and every reward's stock are read back through the API and compared with the
model, which knows nothing of the app but the contract.

Events that count for challenges (``card_issued``) are never reversed here, so
no closed challenge needs restating; loans (``loan_signed``) are.
``LEDGER_EXAMPLES`` sets how many histories run (``make fuzz`` runs more).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os

import hypothesis
import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, precondition, rule

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Redemption
from tests import factories
from tests.conftest import ApiClient, _empty_tables

EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", "12"))
STEPS = int(os.environ.get("LEDGER_STEPS", "25"))
RULES = {"loan_signed": 40, "card_issued": 7, "client_visit": 0}  # client_visit has no rule: stored, worth nothing
REWARDS = (  # (name, kind, cost, stock)
    ("Leave day", "leave_day", 30, 3),
    ("Bonus cash", "bonus_cash", 50, None),
    ("Training seat", "training_seat", 20, 1),
)
MEMBERS = ("alice", "bob", "carol")
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclasses.dataclass
class ModelEvent:
    id: int
    payload: dict
    awards: list[tuple[str, int]]  # (member, points)
    reversed: bool = False


@dataclasses.dataclass
class ModelRedemption:
    id: int
    member: str
    reward: int  # index into REWARDS
    quantity: int
    points: int
    status: str = "pending"


def split(total: int, recipients: list[str]) -> list[tuple[str, int]]:
    """The contract's equal split: integers, summing to the total; the remainder one each from the first."""
    share, remainder = divmod(total, len(recipients))
    return [(who, share + (1 if i < remainder else 0)) for i, who in enumerate(recipients)]


def pool_split(pool: int, contributions: dict[int, int]) -> dict[int, int]:
    """Largest remainder: floors first, the rest one each by remainder, then contribution, then lower id."""
    total = sum(contributions.values())
    floors = {uid: pool * value // total for uid, value in contributions.items()}
    order = sorted(contributions, key=lambda uid: (-(pool * contributions[uid] % total), -contributions[uid], uid))
    for uid in order[: pool - sum(floors.values())]:
        floors[uid] += 1
    return floors


class LedgerModel(RuleBasedStateMachine):
    """The app through its API on one side, dictionaries on the other."""

    events = Bundle("events")
    pending = Bundle("pending")
    awards = Bundle("awards")

    def __init__(self, app):
        super().__init__()
        self.app = app
        db.session.remove()
        _empty_tables()
        org = factories.small_org()
        self.users = {name: getattr(org, name) for name in MEMBERS}
        self.ids = {name: user.id for name, user in self.users.items()}
        self.names = {uid: name for name, uid in self.ids.items()}
        self.team_of = {"alice": org.wealth.id, "bob": org.wealth.id, "carol": org.loans.id}
        self.lead_of = {"alice": org.wealth_lead, "bob": org.wealth_lead, "carol": org.loans_lead}
        self.admin = ApiClient(app, factories.token_for(org.admin))
        self.crm = ApiClient(app, factories.token_for(factories.integration()))
        self.clients = {name: ApiClient(app, factories.token_for(user)) for name, user in self.users.items()}
        self.leads = {lead.id: ApiClient(app, factories.token_for(lead)) for lead in (org.wealth_lead, org.loans_lead)}
        for event_type, points in RULES.items():
            if points:
                assert (
                    self.admin.post("/rules", {"event_type": event_type, "name": event_type, "points": points}).status_code == 201
                )
        self.reward_ids = []
        for name, kind, cost, stock in REWARDS:
            body = {"name": name, "kind": kind, "cost": cost, "stock": stock} | (
                {"cash_amount": 100} if kind == "bonus_cash" else {}
            )
            self.reward_ids.append(self.admin.post("/rewards", body).json["id"])
        for name in MEMBERS:  # an opening balance, so that redemptions happen early in a history
            assert self.admin.post("/awards", {"user_id": self.ids[name], "points": 100, "reason": "Opening"}).status_code == 201
        self.balance = {name: 100 for name in MEMBERS}
        self.held = {name: 0 for name in MEMBERS}
        self.stock = [stock for *_, stock in REWARDS]
        self.cards = {name: 0 for name in MEMBERS}  # card_issued quantities: what challenges count
        self.challenges: dict[int, tuple[int, int, int]] = {}  # id → (team_id, target, pool), while active
        self.serial = itertools.count(1)

    def teardown(self):
        db.session.remove()
        problems = ledger.check_ledger()
        db.session.remove()  # SQLite: the check's transaction would hold the write lock
        assert not problems, problems

    # --- points in ------------------------------------------------------------------

    @rule(
        target=events,
        event_type=st.sampled_from(sorted(RULES)),
        member=st.sampled_from(MEMBERS),
        partners=st.lists(st.sampled_from(MEMBERS), max_size=2),
        quantity=st.integers(1, 3),
    )
    def post_event(self, event_type, member, partners, quantity):
        payload = {
            "external_id": f"crm-{next(self.serial)}",
            "type": event_type,
            "user_id": self.ids[member],
            "occurred_at": (NOW - dt.timedelta(minutes=5)).isoformat(),
            "quantity": quantity,
            "participants": [self.ids[p] for p in partners],
        }
        response = self.crm.post("/events", payload)
        assert response.status_code == 201, response.json
        item = response.json["items"][0]
        recipients = [member] + [p for p in dict.fromkeys(partners) if p != member]
        expected = [(who, points) for who, points in split(RULES[event_type] * quantity, recipients) if points]
        assert sorted((a["user_id"], a["points"]) for a in item["awards"]) == sorted((self.ids[w], p) for w, p in expected)
        for who, points in expected:
            self.balance[who] += points
        if event_type == "card_issued":
            self.cards[member] += quantity
        return ModelEvent(item["id"], payload, expected)

    @rule(event=events, changed=st.booleans())
    def replay_event(self, event, changed):
        payload = event.payload | ({"quantity": event.payload["quantity"] + 1} if changed else {})
        response = self.crm.post("/events", payload)
        if changed:
            assert response.status_code == 409, response.json
        else:
            assert response.status_code == 200, response.json
            assert response.json["items"][0]["status"] == "duplicate" and response.json["items"][0]["id"] == event.id

    @rule(event=events)
    def reverse_event(self, event):
        if event.payload["type"] == "card_issued":
            return  # see the module docstring
        response = self.admin.post(f"/events/{event.id}/reverse", {"reason": "Booked in error"})
        if event.reversed:
            assert response.status_code == 409, response.json
            return
        assert response.status_code == 200, response.json
        assert sorted((r["user_id"], r["points"]) for r in response.json["reversals"]) == sorted(
            (self.ids[who], -points) for who, points in event.awards
        )
        for who, points in event.awards:
            self.balance[who] -= points
        event.reversed = True

    @rule(target=awards, member=st.sampled_from(MEMBERS), points=st.integers(-60, 120).filter(bool))
    def award(self, member, points):
        key = f"award-{next(self.serial)}"
        body = {"user_id": self.ids[member], "points": points, "reason": "Quarter review"}
        response = self.admin.post("/awards", body, headers={"Idempotency-Key": key})
        assert response.status_code == 201 and response.json["points"] == points, response.json
        self.balance[member] += points
        return (key, body, response.json)

    @rule(award=awards)
    def replay_award(self, award):
        key, body, first = award
        response = self.admin.post("/awards", body, headers={"Idempotency-Key": key})
        assert response.status_code == 201 and response.json == first

    # --- points held and spent --------------------------------------------------------

    @rule(target=pending, member=st.sampled_from(MEMBERS), reward=st.integers(0, len(REWARDS) - 1), quantity=st.integers(1, 2))
    def redeem(self, member, reward, quantity):
        points = REWARDS[reward][2] * quantity
        response = self.clients[member].post("/redemptions", {"reward_id": self.reward_ids[reward], "quantity": quantity})
        enough_points = self.balance[member] - self.held[member] >= points
        enough_stock = self.stock[reward] is None or self.stock[reward] >= quantity
        if not (enough_points and enough_stock):
            expected = {409} if enough_points else {422} if enough_stock else {409, 422}
            assert response.status_code in expected, response.json
            return multiple()
        assert response.status_code == 201 and response.json["points"] == points, response.json
        self.held[member] += points
        if self.stock[reward] is not None:
            self.stock[reward] -= quantity
        return ModelRedemption(response.json["id"], member, reward, quantity, points)

    def _decider(self, redemption: ModelRedemption, by_lead: bool) -> ApiClient:
        if by_lead and REWARDS[redemption.reward][1] == "leave_day":
            return self.leads[self.lead_of[redemption.member].id]
        return self.admin

    @rule(redemption=pending, by_lead=st.booleans())
    def approve(self, redemption, by_lead):
        response = self._decider(redemption, by_lead).post(f"/redemptions/{redemption.id}/approve")
        if redemption.status != "pending":
            assert response.status_code == 409, response.json
            return
        assert response.status_code == 200 and response.json["status"] == "approved", response.json
        self.held[redemption.member] -= redemption.points
        self.balance[redemption.member] -= redemption.points
        redemption.status = "approved"

    def _release(self, redemption: ModelRedemption, status: str) -> None:
        self.held[redemption.member] -= redemption.points
        if self.stock[redemption.reward] is not None:
            self.stock[redemption.reward] += redemption.quantity
        redemption.status = status

    @rule(redemption=pending, by_lead=st.booleans())
    def reject(self, redemption, by_lead):
        response = self._decider(redemption, by_lead).post(f"/redemptions/{redemption.id}/reject", {"reason": "Not this month"})
        if redemption.status != "pending":
            assert response.status_code == 409, response.json
            return
        assert response.status_code == 200 and response.json["status"] == "rejected", response.json
        self._release(redemption, "rejected")

    @rule(redemption=pending)
    def cancel(self, redemption):
        response = self.clients[redemption.member].post(f"/redemptions/{redemption.id}/cancel")
        if redemption.status != "pending":
            assert response.status_code == 409, response.json
            return
        assert response.status_code == 200 and response.json["status"] == "cancelled", response.json
        self._release(redemption, "cancelled")

    @rule(redemption=pending)
    def expire(self, redemption):
        """Age one redemption past the expiry setting, then run the command the scheduler runs."""
        old = NOW - dt.timedelta(days=self.app.config["REDEMPTION_EXPIRY_DAYS"] + 1)
        db.session.execute(sa.update(Redemption).where(Redemption.id == redemption.id).values(created_at=old))
        db.session.commit()
        db.session.remove()
        result = self.app.test_cli_runner().invoke(args=["expire-redemptions"])
        assert result.exit_code == 0, result.output
        expired = 1 if redemption.status == "pending" else 0
        assert f"{expired} pending redemption(s) expired." in result.output
        if expired:
            self._release(redemption, "expired")

    # --- challenges -------------------------------------------------------------------

    @precondition(lambda self: len(self.challenges) < 3)
    @rule(member=st.sampled_from(MEMBERS), goal=st.integers(1, 6), pool=st.integers(1, 100))
    def launch_challenge(self, member, goal, pool):
        team_id = self.team_of[member]
        body = {
            "team_id": team_id,
            "title": "Cards",
            "event_type": "card_issued",
            "target": goal,
            "pool": pool,
            "starts_at": (NOW - dt.timedelta(days=1)).isoformat(),
            "ends_at": (NOW + dt.timedelta(days=7)).isoformat(),
        }
        response = self.admin.post("/challenges", body)
        assert response.status_code == 201, response.json
        self.challenges[response.json["id"]] = (team_id, goal, pool)

    @precondition(lambda self: self.challenges)
    @rule(data=st.data())
    def close_challenge(self, data):
        challenge_id = data.draw(st.sampled_from(sorted(self.challenges)))
        team_id, goal, pool = self.challenges.pop(challenge_id)
        contributions = {self.ids[m]: self.cards[m] for m in MEMBERS if self.team_of[m] == team_id and self.cards[m]}
        response = self.admin.post(f"/challenges/{challenge_id}/close")
        assert response.status_code == 200, response.json
        succeeded = sum(contributions.values()) >= goal
        assert response.json["status"] == ("succeeded" if succeeded else "failed")
        payouts = {uid: points for uid, points in pool_split(pool, contributions).items() if points} if succeeded else {}
        assert {p["user_id"]: p["points"] for p in response.json["payouts"]} == payouts
        for uid, points in payouts.items():
            self.balance[self.names[uid]] += points
        again = self.admin.post(f"/challenges/{challenge_id}/close")
        assert again.status_code == 200 and again.json["payouts"] == response.json["payouts"]

    # --- the comparison ---------------------------------------------------------------

    @invariant()
    def wallets_and_stock_match_the_model(self):
        for name in MEMBERS:
            wallet = self.admin.get(f"/users/{self.ids[name]}/wallet").json
            expected = {"balance": self.balance[name], "held": self.held[name], "available": self.balance[name] - self.held[name]}
            assert {key: wallet[key] for key in expected} == expected, name
        stock = {item["id"]: item["stock"] for item in self.admin.get("/rewards").json["items"]}
        assert [stock[rid] for rid in self.reward_ids] == self.stock


@pytest.mark.timeout(900 + 30 * EXAMPLES)  # a failure is shrunk to its shortest history, which takes a while
def test_random_histories_through_the_api_keep_every_wallet_and_stock_as_the_model_says(app):
    hypothesis.stateful.run_state_machine_as_test(
        lambda: LedgerModel(app),
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
        ),
    )
