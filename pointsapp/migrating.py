"""Schema migrations (Flask-Migrate with Alembic), loaded only when something asks for them.

Alembic and Flask-Migrate take some 11 MB of a process's memory, and a web
worker never migrates. So the app carries two stand-ins: its command group
imports Flask-Migrate's ``flask db`` commands when ``db`` is asked for, and
``app.extensions["migrate"]`` sets Flask-Migrate up on first use, as
``flask db …`` and ``flask_migrate.upgrade()`` from a deploy script do.
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from pointsapp.config import MIGRATIONS


def init_app(app: Flask) -> None:
    """Call before any command is added to ``app.cli`` (it is replaced)."""
    app.extensions["migrate"] = _MigrateOnFirstUse(app)
    commands = _Commands(app.cli.name)
    commands.commands.update(app.cli.commands)
    app.cli = commands


def setup(app: Flask):
    """Flask-Migrate's configuration for ``app``, set up now if it was not yet."""
    current = app.extensions.get("migrate")
    if isinstance(current, _MigrateOnFirstUse):
        from flask_migrate import Migrate

        from pointsapp.extensions import db

        Migrate(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    return app.extensions["migrate"]


class _MigrateOnFirstUse:
    """Stands for Flask-Migrate's configuration until an attribute of it is read."""

    def __init__(self, app: Flask):
        self._app = app

    def __getattr__(self, name: str):
        return getattr(setup(self._app), name)


class _Commands(AppGroup):
    """``app.cli``, whose ``db`` group (Flask-Migrate's own, options and all) is imported when it is asked for."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "db" and name not in self.commands:
            from flask_migrate.cli import db as migration_commands

            return migration_commands
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "db"})
