"""Earning commands: import events from CSV, close a period's bonuses, seed the default rules."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import events_import, period_bonus, rules
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.periods import PERIODS


def register(app: Flask) -> None:
    app.cli.add_command(import_events)
    app.cli.add_command(close_period)
    app.cli.add_command(seed_rules)


@click.command("import-events")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_events(file: Path) -> None:
    """Import events from a CSV file (source "admin", like the import page); exit 1 if a row failed."""
    try:
        rows = events_import.read_rows(file.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        click.echo("Error: the file is not UTF-8 text.", err=True)
        sys.exit(1)
    except DomainError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    lines: list[dict] = []
    for start in range(0, len(rows), events_import.CHUNK_SIZE):
        lines += events_import.import_rows(rows[start : start + events_import.CHUNK_SIZE], actor_id=None)
        db.session.commit()  # each chunk is applied once, even if a later one fails
    for line in lines:
        if line["status"] in ("invalid", "conflict"):
            column = f", column {line['column']}" if line.get("column") else ""
            click.echo(f"Row {line['row']}{column}: {line['status']}: {line['message']}")
    counts = events_import.summary(lines)
    click.echo(
        f"{len(lines)} rows: {counts['created']} created, {counts['duplicate']} duplicate, "
        f"{counts['conflict']} conflict, {counts['invalid']} invalid; {counts['points']} points awarded."
    )
    if counts["invalid"] or counts["conflict"]:
        sys.exit(1)


@click.command("close-period")
@with_appcontext
@click.argument("period", type=click.Choice(PERIODS))
@click.argument("key")
def close_period(period: str, key: str) -> None:
    """Award the active period bonuses for e.g. `quarter 2026-Q3`, once per user."""
    try:
        results = period_bonus.close_period(None, period, key)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    if not results:
        click.echo(f"No active {period} bonus rule; nothing awarded.")
    for result in results:
        click.echo(
            f"{result.rule.name} {key}: {len(result.awarded)} awarded, {len(result.already_paid)} already paid, "
            f"{len(result.vetoed)} skipped under a compliance veto."
        )


@click.command("seed-rules")
@with_appcontext
def seed_rules() -> None:
    """Insert the default points rules for types that have none (idempotent)."""
    created = rules.seed_default_rules()
    db.session.commit()
    click.echo(f"{len(created)} rule(s) created.")
