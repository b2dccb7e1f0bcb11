"""Every command works as an operator runs it: through the CLI runner, with no app context pushed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, has_app_context

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Integration, User
from tests.conftest import make_test_app


def test_the_suites_cli_runner_starts_every_command_without_an_app_context(app, cli):
    assert has_app_context()  # the test's own context, set aside for the invocation

    @click.command("probe")
    def probe():
        click.echo(f"context: {has_app_context()}")
        click.echo(current_app.name)

    fresh = make_test_app()
    fresh.cli.add_command(probe)
    result = fresh.test_cli_runner().invoke(args=["probe"])
    assert result.output.splitlines()[0] == "context: False"
    assert isinstance(result.exception, RuntimeError)
    assert "Working outside of application context" in str(result.exception)


def _invocations(org, tmp_path) -> dict[str, tuple[list[str], str]]:
    """Each command → (arguments, a line its output must contain)."""
    events = tmp_path / "events.csv"
    events.write_text(f"external_id,type,user_id,occurred_at\nc1,loan_signed,{org.alice.id},2026-11-20T10:30:00+08:00\n")
    return {
        "create-admin": (
            ["create-admin", "ops@bank.example", "--password", "Quarterly-Ledger-Audit-7"],
            "Created admin ops@bank.example.",
        ),
        "create-integration": (["create-integration", "Core CRM"], "Created integration Core CRM"),
        "revoke-tokens": (["revoke-tokens", org.alice.email], f"token(s) of {org.alice.email}"),
        "check-ledger": (["check-ledger"], "Ledger consistent"),
        "seed-demo": (["seed-demo"], "The database already has users; nothing seeded."),
        "seed-bench": (["seed-bench", "--users", "100"], "The database already has users; nothing seeded"),
        "seed-rules": (["seed-rules"], "rule(s) created."),
        "import-events": (["import-events", str(events)], "1 rows: 1 created"),
        "close-period": (["close-period", "quarter", "2026-Q3"], "quarter bonus rule"),
        "close-challenges": (["close-challenges"], "challenge(s) closed."),
        "award-honours": (["award-honours", "month", "2026-10"], "honour(s) awarded for month 2026-10."),
        "expire-redemptions": (["expire-redemptions"], "pending redemption(s) expired."),
        "export-payroll": (["export-payroll", "--month", "2026-11"], ""),
        "export-hr": (["export-hr", "--month", "2026-11"], ""),
        "export-audit": (["export-audit", "--action", "user.created"], "id,at,actor_id"),
        "run-jobs": (["run-jobs"], "Ran: "),
        "push-worker": (["push-worker", "--once"], "Delivered: "),
        "db": (["db", "heads"], ""),  # Alembic prints to the real standard output
        "openapi": (["openapi", "print"], '"openapi"'),
    }


def test_every_command_runs_without_a_pushed_app_context(app, cli, org, tmp_path):
    rules.seed_default_rules()
    db.session.commit()
    invocations = _invocations(org, tmp_path)
    assert set(app.cli.commands) <= set(invocations), "a new command needs a line here"
    for name in sorted(app.cli.commands):
        args, expected = invocations[name]
        result = cli.invoke(args=args)
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert result.exit_code == 0, (name, result.output)
        assert expected in result.output, (name, result.output)
    # The commands wrote through their own contexts: the test's context sees it.
    assert db.session.scalar(sa.select(User).where(User.email == "ops@bank.example")).role == "admin"
    assert db.session.scalar(sa.select(Integration.name)) == "Core CRM"
    assert ledger.wallet_summary(org.alice.id).balance > 0  # the imported event paid


def test_flask_db_upgrade_from_a_shell_migrates_though_the_app_loads_migrations_only_when_asked(tmp_path):
    """``flask db`` is Flask-Migrate's own group (its options included), imported when the command runs."""
    env = dict(
        os.environ, POINTSAPP_INSTANCE=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'shell.db'}", FLASK_APP="pointsapp"
    )
    env.pop("TEST_DATABASE_URL", None)
    flask = str(Path(sys.executable).parent / "flask")
    upgraded = subprocess.run([flask, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=300, check=True)
    current = subprocess.run([flask, "db", "-x", "unused=1", "current"], env=env, capture_output=True, text=True, timeout=120)
    listing = subprocess.run([flask, "--help"], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert "Running upgrade" in upgraded.stderr
    assert current.returncode == 0 and "(head)" in current.stdout
    assert any(line.split()[:1] == ["db"] for line in listing.stdout.splitlines())
