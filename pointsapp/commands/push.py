"""flask push-worker: deliver the notification outbox (and schedule reminders)."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import outbox, scheduler
from pointsapp.extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.cli.add_command(push_worker)
    app.cli.add_command(run_jobs)


@click.command("run-jobs")
@with_appcontext
def run_jobs() -> None:
    """Run every periodic job once: close due challenges, expire redemptions, queue reminders."""
    ran = scheduler.Scheduler().tick()
    click.echo(f"Ran: {', '.join(ran)}.")


@click.command("push-worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Deliver what is queued now, then exit (schedules nothing).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between queue polls.")
def push_worker(once: bool, interval: float) -> None:
    """Deliver queued notifications by Web Push; also run the periodic jobs (see scheduler)."""
    if once:
        report = outbox.deliver_due(once=True)
        db.session.remove()
        click.echo(f"Delivered: {report}.")
        return
    click.echo("Push worker running; Ctrl+C stops it.")
    jobs = scheduler.Scheduler()
    try:
        while True:
            jobs.tick()
            try:
                report = outbox.deliver_due()
                if report.sent or report.gone or report.failed:
                    log.info("push worker: %s", report)
            except Exception:  # the database may be restarting; keep the worker alive
                db.session.rollback()
                log.exception("push worker: delivery round failed")
            db.session.remove()
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("Push worker stopped.")
