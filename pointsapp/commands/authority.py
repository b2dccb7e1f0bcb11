"""Authority commands: export the audit trail as CSV; the demo's team budgets and lead awards."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import audit, demo, exports


def register(app: Flask) -> None:
    app.cli.add_command(export_audit)


@click.command("export-audit")
@with_appcontext
@click.option("--action", default=None, help="Only this action, e.g. award.created.")
@click.option("--since", default=None, help="Only records from this date on (YYYY-MM-DD, UTC).")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def export_audit(action: str | None, since: str | None, output) -> None:
    """Write the audit trail, newest first, as CSV (formula-like cells neutralised)."""
    filters: dict = {"action": action}
    if since:
        try:
            filters["since"] = dt.datetime.fromisoformat(since).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            click.echo(f"Error: --since must be a date like 2026-11-01, not {since!r}.", err=True)
            sys.exit(1)
    output.write(exports.to_csv(audit.CSV_COLUMNS, audit.csv_rows(audit.all_records(None, filters))))


# --- demo data -------------------------------------------------------------------------

DEMO_BUDGETS = {"wealth": 8000, "loans": 6000, "branch": 3000}
DEMO_LEAD_AWARDS = [
    ("lead_wealth", "chen.jing", 120, "Stayed late to finish the Zhang family's wealth review"),
    ("lead_wealth", "wang.fang", 80, "Covered the counter for a sick colleague"),
    ("lead_loans", "zhou.tao", 100, "First loan file complete without a single correction"),
]


def seed_demo_budgets(people: dict, rng) -> None:
    """HR sets the teams' budgets; leads award from them; a short challenge that missed its target gives its pool back."""
    from pointsapp import awards, budgets, challenges
    from pointsapp.periods import utcnow

    teams, admin, now = people["_teams"], people["admin"], utcnow()
    for key, points in DEMO_BUDGETS.items():
        budgets.set_budget(admin, teams[key].id, points)
    for lead, advisor, points, reason in DEMO_LEAD_AWARDS:
        awards.award(people[lead], people[advisor].id, points, reason)
    blitz = challenges.launch(
        people["lead_loans"], team_id=teams["loans"].id, title="Weekend revisit blitz: 40 good revisits",
        event_type="client_revisit_positive", target=40, pool=300,
        starts_at=now - dt.timedelta(days=9), ends_at=now - dt.timedelta(days=2),
    )
    challenges.close(people["lead_loans"], blitz.id)


demo.DEMO_AFTER_STEPS.insert(0, seed_demo_budgets)
