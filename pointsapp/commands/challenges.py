"""close-challenges: close every active challenge whose end has passed (run by the scheduler)."""

from __future__ import annotations

import click
from flask import Flask

from pointsapp import challenges
from pointsapp.extensions import db


@click.command("close-challenges")
def close_challenges() -> None:
    """Close challenges past their end and pay out the successful ones."""
    closed = 0
    for challenge_id in challenges.due_for_closing():
        try:
            result = challenges.close(None, challenge_id)
            db.session.commit()  # one transaction per challenge: a failure stops nothing else
        except Exception:
            db.session.rollback()
            click.echo(f"Challenge {challenge_id}: could not be closed; it will be retried next run.", err=True)
            continue
        closed += 1
        click.echo(f"Challenge {challenge_id} '{result.title}': {result.status}, {len(result.payouts)} payout(s).")
    click.echo(f"{closed} challenge(s) closed.")


def register(app: Flask) -> None:
    app.cli.add_command(close_challenges)
