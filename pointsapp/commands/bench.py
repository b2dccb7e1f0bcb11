"""Benchmark commands: seed a bank-sized organisation."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import bench_seed
from pointsapp.extensions import db
from pointsapp.models import User


def register(app: Flask) -> None:
    app.cli.add_command(seed_bench)


@click.command("seed-bench")
@click.option("--users", default=10_000, show_default=True, type=click.IntRange(10, 1_000_000))
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 60))
@with_appcontext
def seed_bench(users: int, months: int) -> None:
    """Fill an empty database with a bank-sized organisation and a history of events (bulk inserts)."""
    started = time.perf_counter()
    with bench_seed.bulk_writes(db.engine):
        if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
            click.echo("The database already has users; nothing seeded (seed-bench fills an empty one).")
            return
        report = bench_seed.seed(users, months)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":  # what autovacuum would do by morning: statistics and visibility maps
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    click.echo(
        f"Seeded {report.users:,} users in {report.teams:,} teams: {report.events:,} events, {report.entries:,} entries, "
        f"{report.redemptions:,} redemptions, {report.challenges:,} challenges in {time.perf_counter() - started:.1f} s."
    )
    click.echo(f"Every user's password: {bench_seed.PASSWORD} (admin: {bench_seed.ADMIN_EMAIL})")
