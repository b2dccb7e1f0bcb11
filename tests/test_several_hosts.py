"""Workers on several hosts at once: the periodic jobs and the outbox each do their work exactly once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, scheduler
from pointsapp.extensions import db
from pointsapp.models import Challenge, ChallengePayout, LedgerEntry, Redemption
from tests import factories
from tests.conftest import run_concurrently
from tests.test_scheduler import NOW, _ended_challenge, _stale_redemption


def test_two_schedulers_ticking_together_close_and_expire_once(app, api_as, org):
    challenge_id = _ended_challenge(api_as, org)
    factories.recorded_event(org.alice, "client_revisit_positive", occurred_at=NOW - dt.timedelta(days=2), quantity=2)
    redemption_id = _stale_redemption(org)

    def host(_i):
        with app.app_context():
            try:
                return scheduler.Scheduler().tick()
            finally:
                db.session.remove()

    ran = run_concurrently(host, 2)

    assert ran == [["close-challenges", "expire-redemptions", "reminders"]] * 2
    db.session.remove()
    assert db.session.get(Challenge, challenge_id).status == "succeeded"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChallengePayout)) == 1
    payouts = db.session.scalars(sa.select(LedgerEntry.points).where(LedgerEntry.kind == "challenge_payout")).all()
    assert payouts == [100]
    assert db.session.get(Redemption, redemption_id).status == "expired"
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.held) == (200, 0)
