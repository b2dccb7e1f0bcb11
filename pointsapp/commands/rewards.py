"""Rewards commands: expire stale redemptions, export for payroll and HR; the demo catalog."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import exports, scheduler
from pointsapp.errors import DomainError


def register(app: Flask) -> None:
    app.cli.add_command(expire_redemptions)
    app.cli.add_command(export_payroll)
    app.cli.add_command(export_hr)


@click.command("expire-redemptions")
@with_appcontext
@click.option("--days", type=int, default=None, help="Age in days (default: REDEMPTION_EXPIRY_DAYS).")
def expire_redemptions(days: int | None) -> None:
    """Expire pending redemptions older than the configured days; points and stock go back."""
    count = scheduler.expire_stale_redemptions(days)
    click.echo(f"{count} pending redemption(s) expired.")


def _export(render, month: str, output) -> None:
    try:
        text = render(None, month)
    except DomainError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    output.write(text)


@click.command("export-payroll")
@with_appcontext
@click.option("--month", required=True, help="The month in the organisation's time zone, e.g. 2026-11.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def export_payroll(month: str, output) -> None:
    """Write the month's approved bonus cash as CSV for payroll."""
    _export(exports.payroll_csv, month, output)


@click.command("export-hr")
@with_appcontext
@click.option("--month", required=True, help="The month in the organisation's time zone, e.g. 2026-11.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def export_hr(month: str, output) -> None:
    """Write the month's approved leave and remote days as CSV for the HR system."""
    _export(exports.hr_csv, month, output)
