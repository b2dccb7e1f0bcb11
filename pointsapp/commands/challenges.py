"""close-challenges: close every active challenge whose end has passed (run by the scheduler)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import scheduler


@click.command("close-challenges")
@with_appcontext
def close_challenges() -> None:
    """Close challenges past their end and pay out the successful ones."""
    closed = scheduler.close_due_challenges()
    for result in closed:
        click.echo(f"Challenge {result.id} '{result.title}': {result.status}, {len(result.payouts)} payout(s).")
    click.echo(f"{len(closed)} challenge(s) closed.")


def register(app: Flask) -> None:
    app.cli.add_command(close_challenges)
