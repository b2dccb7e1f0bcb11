"""award-honours: name each team's Best customer manager for a period (once per period)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import honours
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.models import Team
from pointsapp.periods import PERIODS


@click.command("award-honours")
@with_appcontext
@click.argument("period", type=click.Choice(PERIODS))
@click.argument("key")
def award_honours(period: str, key: str) -> None:
    """Name each team's Best customer manager for PERIOD KEY, e.g. `award-honours month 2026-11`."""
    try:
        awarded = honours.award_best_managers(period, key)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    for honor in awarded:
        team = db.session.get(Team, honor.team_id)
        click.echo(f"{team.name if team else '-'}: {honor.title} {key} — user {honor.user_id}")
    click.echo(f"{len(awarded)} honour(s) awarded for {period} {key}.")


def register(app: Flask) -> None:
    app.cli.add_command(award_honours)
