"""Periodic jobs: closing challenges past their end, expiring stale redemptions, reminders.

The long-running ``flask push-worker`` calls ``Scheduler.tick`` between delivery
rounds, so ``make run`` needs no cron. ``flask run-jobs`` runs every job once
(for deployments that prefer cron). Each job commits per item and a failing
item or job is logged and retried on the next run: it never stops the others.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable

from pointsapp import challenges, redemptions, reminders
from pointsapp.extensions import db
from pointsapp.periods import utcnow

log = logging.getLogger(__name__)


def close_due_challenges() -> list:
    """Close every active challenge whose end has passed; return the closed results."""
    closed = []
    for challenge_id in challenges.due_for_closing():
        try:
            closed.append(challenges.close(None, challenge_id))
            db.session.commit()  # one transaction per challenge
        except Exception:
            db.session.rollback()
            log.exception("challenge %s could not be closed; retried next run", challenge_id)
    return closed


def expire_stale_redemptions(days: int | None = None) -> int:
    """Expire pending redemptions older than the configured days; return how many."""
    count = 0
    for redemption_id in redemptions.stale_ids(days=days):
        try:
            # One transaction each: a long sweep never holds many wallets' locks at once.
            count += redemptions.expire(redemption_id, days=days)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("redemption %s could not be expired; retried next run", redemption_id)
    return count


def queue_reminders() -> int:
    """Queue this week's goal reminders and rank nudges that are due (each once)."""
    queued = reminders.schedule_reminders(utcnow())
    db.session.commit()
    return queued


@dataclasses.dataclass
class Job:
    name: str
    every_seconds: float
    run: Callable[[], object]


JOBS = (
    Job("close-challenges", 300, close_due_challenges),
    Job("expire-redemptions", 3600, expire_stale_redemptions),
    Job("reminders", 300, queue_reminders),
)


@dataclasses.dataclass
class Scheduler:
    """Runs each job when its interval has passed (monotonic clock, first tick runs all)."""

    jobs: tuple[Job, ...] = JOBS
    clock: Callable[[], float] = time.monotonic
    last_run: dict[str, float] = dataclasses.field(default_factory=dict)

    def tick(self) -> list[str]:
        """Run the jobs that are due; return their names."""
        ran = []
        for job in self.jobs:
            now = self.clock()
            if job.name in self.last_run and now - self.last_run[job.name] < job.every_seconds:
                continue
            self.last_run[job.name] = now
            try:
                job.run()
            except Exception:
                db.session.rollback()
                log.exception("scheduled job %s failed; it runs again next interval", job.name)
            ran.append(job.name)
        return ran
