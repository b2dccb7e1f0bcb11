"""Flask commands: create-admin, create-integration, revoke-tokens, check-ledger, seed-demo (each area's are in commands/).

Commands that print a token print it alone on the last line of standard output.
"""

from __future__ import annotations

import secrets
import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import auth, demo, ledger, org
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.models import User
from pointsapp.models.org import INTEGRATION_SCOPES


def register(app: Flask) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(create_integration)
    app.cli.add_command(check_ledger)
    app.cli.add_command(revoke_tokens)
    app.cli.add_command(seed_demo)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.command("create-admin")
@with_appcontext
@click.argument("email")
@click.option("--password", help="At least 12 characters; a random one is generated when omitted.")
@click.option("--name", default="Administrator", show_default=True)
def create_admin(email: str, password: str | None, name: str) -> None:
    """Create an admin (or reuse the existing one) and print a fresh API token."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    try:
        if user is None:
            generated = password is None
            password = password or secrets.token_urlsafe(12)
            user = org.create_user(None, email=email, name=name, role="admin", password=password)
            click.echo(f"Created admin {user.email}.")
            if generated:
                click.echo(f"Password: {password}")
        else:
            if user.role != "admin":
                _fail(f"{user.email} exists and is not an admin.")
            if password:
                user.password_hash = auth.hash_password(password)
                click.echo(f"Updated the password of {user.email}.")
            else:
                click.echo(f"Admin {user.email} already exists.")
        token = auth.issue_token(user=user, label="create-admin")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _fail(error.message)
    click.echo(token)


@click.command("create-integration")
@with_appcontext
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(INTEGRATION_SCOPES),
    default="events",
    show_default=True,
    help="events: a CRM or risk system posting business events; scim: an HR system provisioning people.",
)
def create_integration(name: str, scope: str) -> None:
    """Create an integration client (CRM, risk or HR system) and print its API token."""
    try:
        integration = org.create_integration(name, scope=scope)
        token = auth.issue_token(integration=integration, label=name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        _fail(error.message)
    if scope == "scim":
        click.echo(f"Created integration {integration.name}; it may provision people at /scim/v2 and nothing else.")
    else:
        click.echo(f"Created integration {integration.name}; it may post events and nothing else.")
    click.echo(token)


@click.command("revoke-tokens")
@with_appcontext
@click.argument("email")
def revoke_tokens(email: str) -> None:
    """Revoke every API token of a user and end their browser sessions (a lost phone)."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if user is None:
        _fail(f"There is no user {email}.")
    count = auth.revoke_all(user)
    db.session.commit()
    click.echo(f"Revoked {count} token(s) of {user.email}; their sessions have ended.")


@click.command("check-ledger")
@with_appcontext
def check_ledger() -> None:
    """Rebuild every wallet and rollup from the entries; exit 1 on any mismatch."""
    problems = ledger.check_ledger()
    for problem in problems:
        click.echo(problem)
    if problems:
        click.echo(f"{len(problems)} mismatch(es).", err=True)
        sys.exit(1)
    count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    click.echo(f"Ledger consistent: {count} users checked.")


@click.command("seed-demo")
@with_appcontext
@click.option("--force", is_flag=True, help="Seed even if users exist.")
def seed_demo(force: bool) -> None:
    """Seed a demo organisation when the database is empty, and print the logins."""
    if not force and db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("The database already has users; nothing seeded.")
        return
    logins = demo.seed()
    db.session.commit()
    click.echo("Demo organisation seeded. Log in with:")
    for role, email, password in logins:
        click.echo(f"  {role:<9} {email:<32} {password}")
