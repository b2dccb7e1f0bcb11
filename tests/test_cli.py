"""The CLI: create-admin, create-integration, check-ledger, seed-demo."""

from __future__ import annotations

import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import BadgeAward, Challenge, Event, Redemption, Rule, Team, User, Wallet
from tests.conftest import ApiClient


def _last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def test_create_admin_prints_a_working_token_on_the_last_line(app, cli):
    result = cli.invoke(args=["create-admin", "hr@example.com", "--password", "a strong password"])
    assert result.exit_code == 0, result.output
    token = _last_line(result)
    me = ApiClient(app, token).get("/me")
    assert me.json["email"] == "hr@example.com" and me.json["role"] == "admin"


def test_create_admin_reuses_the_existing_admin_with_a_fresh_token(app, cli):
    first = _last_line(cli.invoke(args=["create-admin", "hr@example.com", "--password", "a strong password"]))
    second = cli.invoke(args=["create-admin", "HR@example.com"])
    assert second.exit_code == 0
    assert _last_line(second) != first
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
    assert ApiClient(app, _last_line(second)).get("/me").json["email"] == "hr@example.com"
    assert ApiClient(app, first).get("/me").status_code == 200


def test_create_admin_refuses_a_short_password(cli):
    result = cli.invoke(args=["create-admin", "hr@example.com", "--password", "short"])
    assert result.exit_code == 1
    assert "12 characters" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_create_integration_prints_a_token_that_may_not_read_users(app, cli):
    result = cli.invoke(args=["create-integration", "Core banking CRM"])
    assert result.exit_code == 0
    response = ApiClient(app, _last_line(result)).get("/me")
    assert response.status_code == 403


def test_check_ledger_passes_on_a_consistent_ledger_and_fails_on_drift(org, cli):
    from tests import factories

    factories.give_points(org.alice, 40)
    ok = cli.invoke(args=["check-ledger"])
    assert ok.exit_code == 0 and "consistent" in ok.output
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(balance=41))
    db.session.commit()
    bad = cli.invoke(args=["check-ledger"])
    assert bad.exit_code == 1
    assert f"user {org.alice.id}: balance 41 but entries sum to 40" in bad.output
    db.session.execute(sa.update(Wallet).where(Wallet.user_id == org.alice.id).values(balance=40))
    db.session.commit()


def test_seed_demo_builds_a_branch_with_two_teams_and_history_once(cli):
    result = cli.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "hr.ma@demo.bank" in result.output and "chen.jing@demo.bank" in result.output
    teams = {t.name: t for t in db.session.scalars(sa.select(Team))}
    assert teams["Pudong Branch"].parent_id == teams["Huaxia Commercial Bank"].id
    assert teams["Wealth Management Team"].parent_id == teams["Pudong Branch"].id
    roles = [u.role for u in db.session.scalars(sa.select(User))]
    assert roles.count("lead") == 2 and roles.count("employee") == 8
    advisors = db.session.scalars(sa.select(User).where(User.role == "employee")).all()
    assert all(db.session.get(Wallet, a.id).lifetime_earned > 0 for a in advisors)
    # Every step ran, in order: events under rules, then challenges and badges on them, then redemptions with the points.
    assert db.session.scalar(sa.select(sa.func.count(Rule.id))) > 0 and db.session.scalar(sa.select(sa.func.count(Event.id))) > 50
    # Two running challenges, and the lead's missed one whose pool went back to the team budget.
    assert sorted(db.session.scalars(sa.select(Challenge.status))) == ["active", "active", "failed"]
    assert db.session.scalar(sa.select(sa.func.count(BadgeAward.id))) > 0
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) > 0
    again = cli.invoke(args=["seed-demo"])
    assert "nothing seeded" in again.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 11


def test_revoke_tokens_ends_tokens_and_sessions_of_a_lost_phone(app, org, cli, client):
    from tests import factories
    from tests.conftest import login

    token = factories.token_for(org.alice)
    login(client, org.alice)
    result = cli.invoke(args=["revoke-tokens", org.alice.email])
    assert result.exit_code == 0 and "Revoked 1 token(s)" in result.output
    assert ApiClient(app, token).get("/me").status_code == 401
    assert client.get("/wallet").status_code == 302
