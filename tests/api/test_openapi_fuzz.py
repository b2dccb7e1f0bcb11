"""schemathesis against the JSON API: every operation, every default check, as each kind of caller.

The document at /api/v1/openapi.json is the only input. Requests go in-process
(WSGI) through the test client, against a small organisation that already has
a rule, an event, a reward, a pending redemption and a challenge; half the
examples aim their path ids at such rows, the rest anywhere. Every example is
sent by each caller in turn (admin, employee, lead, integration), each time with
a fresh token, so one that revokes its own token (DELETE /auth/token) cannot
spoil the next. The conftest checks the ledger after every operation's run.

``FUZZ_EXAMPLES`` sets the generated examples per operation and generation mode
(``make fuzz`` runs many); the coverage phase's boundary cases come on top.
"""

from __future__ import annotations

import datetime as dt
import os

import hypothesis
import hypothesis.strategies as st
import pytest
import schemathesis

from tests import factories
from tests.conftest import make_test_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
ROLES = ("admin", "employee", "lead", "integration")
SEEDED_IDS = st.integers(min_value=1, max_value=12)  # the world below creates fewer rows of any one kind than this

CONFIG = schemathesis.Config.from_dict(
    {
        # The test sends each caller's token itself; a generated (or mutated) Authorization header would be replaced.
        "generation": {"deterministic": True, "max-examples": EXAMPLES, "with-security-parameters": False},
        # The contract answers 422 for a well-formed request that a business rule refuses (an unknown user named
        # in a body, too few points, a push endpoint off the allowlist); no schema can say which those are.
        "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}},
    }
)
# The document is read once from an app of its own; the examples run against the suite's app.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", make_test_app(), config=CONFIG)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Aim half the valid ids at rows that exist, so approve, reverse or close meet real objects."""
    ids = {name: value for name, value in (path_parameters or {}).items() if name.endswith("_id") and type(value) is int}
    if not ids:
        return st.just(path_parameters)
    aimed = st.fixed_dictionaries({name: st.one_of(st.just(value), SEEDED_IDS) for name, value in ids.items()})
    return aimed.map(lambda chosen: {**path_parameters, **chosen})


@pytest.fixture()
def world(org, api_as):
    """The small organisation, with a rule, an awarded event, a reward, a pending redemption and a challenge."""
    admin, alice = api_as(org.admin), api_as(org.alice)
    now = dt.datetime.now(dt.timezone.utc)
    assert admin.post("/rules", {"event_type": "loan_signed", "name": "Loan signed", "points": 40}).status_code == 201
    event = {"external_id": "crm-1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": now.isoformat()}
    assert admin.post("/events", event).json["items"][0]["awards"][0]["points"] == 40
    reward = admin.post("/rewards", {"name": "Leave day", "kind": "leave_day", "cost": 10, "stock": 3}).json
    assert alice.post("/redemptions", {"reward_id": reward["id"]}).json["status"] == "pending"
    challenge = {
        "team_id": org.wealth.id,
        "title": "Ten loans",
        "event_type": "loan_signed",
        "target": 10,
        "pool": 100,
        "starts_at": (now - dt.timedelta(days=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=6)).isoformat(),
    }
    assert admin.post("/challenges", challenge).status_code == 201
    return org


@pytest.fixture()
def callers(world):
    """Who sends every example, in turn: one test per operation keeps the suite's per-test set-up to 44, not 176."""
    return {"admin": world.admin, "employee": world.alice, "lead": world.wealth_lead, "integration": factories.integration()}


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(hypothesis.HealthCheck)
)
def test_every_operation_keeps_to_its_document(case, callers, app):
    for role in ROLES:
        token = factories.token_for(callers[role])  # fresh each time: an example may revoke its own
        try:
            # identity: the WSGI transport hands back the raw body, so ask for it uncompressed
            headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
            case.call_and_validate(session=app.test_client(), headers=headers)
        except Exception as failure:
            failure.add_note(f"(sent as the {role})")
            raise
