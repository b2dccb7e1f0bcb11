"""Authorization rules: the teams a lead manages are looked up once per request, and stay right when teams change."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from pointsapp import policy
from pointsapp.extensions import db
from pointsapp.models import Team
from tests import factories
from tests.conftest import login


@contextlib.contextmanager
def recursive_queries():
    """Collect the recursive (team tree) statements run on the engine meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "RECURSIVE" in statement.upper():
            seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def test_the_award_form_looks_the_leads_teams_up_once_however_many_members(org, client):
    for n in range(12):
        factories.user("employee", org.wealth if n % 2 else org.loans, name=f"Member {n}")
    login(client, org.wealth_lead)
    with recursive_queries() as seen:
        html = client.get("/admin/awards").get_data(as_text=True)
    assert "Member 1" in html and "Member 0" not in html  # loans members are not the wealth lead's
    assert len(seen) == 1


def test_a_team_created_in_the_same_transaction_is_managed_at_once(org):
    assert policy.managed_team_ids(org.branch_lead) == {org.branch.id, org.wealth.id, org.loans.id}
    desk = Team(name="Private banking desk", parent_id=org.wealth.id)
    db.session.add(desk)
    db.session.flush()
    assert desk.id in policy.managed_team_ids(org.branch_lead)
    db.session.rollback()
    assert policy.managed_team_ids(org.branch_lead) == {org.branch.id, org.wealth.id, org.loans.id}


def test_role_checks_of_the_menu_come_from_policy(org):
    assert policy.is_lead_or_admin(org.wealth_lead) and policy.is_lead_or_admin(org.admin)
    assert not policy.is_lead_or_admin(org.alice) and not policy.is_lead_or_admin(None)
