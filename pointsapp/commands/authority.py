"""Authority commands: export the audit trail as CSV."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import audit, exports


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
