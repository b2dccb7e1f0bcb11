"""Property: after any sequence of events, challenge closes, reversals and clawbacks, every balance
equals a fresh replay of only the events that were never reversed, and the ledger checks out."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pointsapp import challenges, earning, ledger, rules
from pointsapp.extensions import db
from pointsapp.periods import utcnow
from tests import factories
from tests.conftest import _empty_tables

POINTS = {"loan_signed": 30, "product_renewal": 20}
# (target, pool, window start and end in days ago): the first window holds both slots, the second only slot 1.
CHALLENGES = ((4, 100, 10, 1), (3, 71, 4, 1))
SLOTS = (6, 2)  # days ago an event occurs

event_op = st.tuples(
    st.just("event"), st.integers(0, 2), st.sampled_from(sorted(POINTS)), st.integers(1, 3), st.integers(0, 1), st.integers(-1, 2)
)
operations = st.lists(
    st.one_of(
        event_op,
        event_op,
        st.tuples(st.just("close"), st.integers(0, len(CHALLENGES) - 1)),
        st.tuples(st.just("reverse"), st.integers(0, 20)),
        st.tuples(st.just("clawback"), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=20,
)


def replay(events: list[dict], reversed_ids: set[str], closes: dict[int, int], members: list[int]) -> dict[int, int]:
    """Balances from scratch: only the events never reversed, each close counting what was stored before it."""
    expected = {uid: 0 for uid in members}
    live = [e for e in events if e["external_id"] not in reversed_ids]
    for e in live:
        total = POINTS.get(e["type"], 0) * e["quantity"]
        if total:
            for uid, points in earning.split_points(total, [e["user_id"], *e["participants"]]):
                expected[uid] += points
    for index, closed_at_step in closes.items():
        target, pool, _start, _end = CHALLENGES[index]
        values: dict[int, int] = {}
        for e in live:
            if e["type"] == "loan_signed" and e["step"] < closed_at_step and (index == 0 or e["slot"] == 1):
                values[e["user_id"]] = values.get(e["user_id"], 0) + e["quantity"]
        if sum(values.values()) >= target:
            for uid, points in challenges.split_pool(pool, values).items():
                expected[uid] += points
    return expected


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_every_balance_equals_a_replay_of_the_unreversed_events(app, ops):
    db.session.remove()
    _empty_tables()
    now = utcnow()
    team = factories.team("Loans")
    admin = factories.user("admin", name="Admin")
    members = [factories.user("employee", team).id for _ in range(3)]
    for event_type, points in POINTS.items():
        rules.publish_rule(None, event_type=event_type, name=event_type, points=points)
    launched = [
        challenges.launch(
            admin,
            team_id=team.id,
            title=f"C{i}",
            event_type="loan_signed",
            target=target,
            pool=pool,
            starts_at=now - dt.timedelta(days=start),
            ends_at=now - dt.timedelta(days=end),
        ).id
        for i, (target, pool, start, end) in enumerate(CHALLENGES)
    ]
    db.session.commit()
    events: list[dict] = []
    ids: dict[str, int] = {}
    reversed_ids: set[str] = set()
    closes: dict[int, int] = {}
    for step, op in enumerate(ops):
        if op[0] == "event":
            _, who, type_, quantity, slot, partner = op
            participants = [members[partner]] if partner >= 0 and members[partner] != members[who] else []
            raw = {
                "external_id": f"e{step}",
                "type": type_,
                "user_id": members[who],
                "quantity": quantity,
                "occurred_at": (now - dt.timedelta(days=SLOTS[slot])).isoformat(),
                "participants": participants,
            }
            [result] = earning.ingest_events([raw], source="admin", actor_id=admin.id)
            ids[raw["external_id"]] = result.event.id
            events.append(raw | {"step": step, "slot": slot})
        elif op[0] == "close":
            challenges.close(admin, launched[op[1]])
            closes.setdefault(op[1], step)
        elif events:
            target = events[op[1] % len(events)]["external_id"]
            if target not in reversed_ids:
                if op[0] == "reverse":
                    earning.reverse_event(admin, ids[target], f"step {step}")
                else:
                    raw = {
                        "external_id": f"bad{step}",
                        "type": "bad_loan",
                        "user_id": members[0],
                        "occurred_at": now.isoformat(),
                        "related_external_id": target,
                    }
                    [result] = earning.ingest_events([raw], source="admin", actor_id=admin.id)
                    assert result.status == "created", result.error
                reversed_ids.add(target)
        db.session.commit()
    db.session.remove()
    expected = replay(events, reversed_ids, closes, members)
    assert {uid: ledger.wallet_summary(uid).balance for uid in members} == expected
    assert ledger.check_ledger() == []
    for challenge_id in launched:
        view = challenges.view(db.session.get(challenges.Challenge, challenge_id))
        assert sum(p["points"] for p in view.payouts) in (0, view.pool)
