"""flask push-worker: deliver the notification outbox (and schedule reminders)."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask

from pointsapp import notify, periods, push
from pointsapp.extensions import db

log = logging.getLogger(__name__)
SCHEDULE_EVERY_SECONDS = 300


def register(app: Flask) -> None:
    app.cli.add_command(push_worker)


@click.command("push-worker")
@click.option("--once", is_flag=True, help="Deliver what is queued now, then exit (schedules nothing).")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between queue polls.")
def push_worker(once: bool, interval: float) -> None:
    """Deliver queued notifications by Web Push; also schedule goal reminders and rank nudges."""
    if once:
        report = push.deliver_due(once=True)
        db.session.remove()
        click.echo(f"Delivered: {report}.")
        return
    click.echo("Push worker running; Ctrl+C stops it.")
    last_schedule = 0.0
    try:
        while True:
            if time.monotonic() - last_schedule >= SCHEDULE_EVERY_SECONDS:
                last_schedule = time.monotonic()
                _schedule()
            try:
                report = push.deliver_due()
                if report.sent or report.gone or report.failed:
                    log.info("push worker: %s", report)
            except Exception:  # the database may be restarting; keep the worker alive
                db.session.rollback()
                log.exception("push worker: delivery round failed")
            db.session.remove()
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("Push worker stopped.")


def _schedule() -> None:
    """Queue this week's reminders and nudges; a failure never stops delivery."""
    try:
        queued = notify.schedule_reminders(periods.utcnow())
        db.session.commit()
        if queued:
            log.info("push worker: queued %s reminders", queued)
    except Exception:
        db.session.rollback()
        log.exception("push worker: scheduling reminders failed")
