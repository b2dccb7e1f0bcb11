"""The periodic jobs the push worker runs: closing challenges, expiring redemptions, reminders."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, rewards, scheduler
from pointsapp.extensions import db
from pointsapp.models import Challenge, Redemption, Reward
from tests import factories

NOW = dt.datetime.now(dt.timezone.utc)


def _ended_challenge(api_as, org) -> int:
    response = api_as(org.wealth_lead).post(
        "/challenges",
        {
            "team_id": org.wealth.id,
            "title": "November revisits",
            "event_type": "client_revisit_positive",
            "target": 2,
            "pool": 100,
            "starts_at": (NOW - dt.timedelta(days=10)).isoformat(),
            "ends_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def _stale_redemption(org) -> int:
    reward = Reward(name="Remote day", kind="remote_day", cost=40, description="")
    db.session.add(reward)
    db.session.commit()
    factories.give_points(org.alice, 100)
    redemption = rewards.redeem(org.alice, reward.id, 1)
    redemption.created_at = NOW - dt.timedelta(days=30)
    db.session.commit()
    return redemption.id


def test_one_tick_closes_ended_challenges_and_expires_stale_redemptions(api_as, org):
    challenge_id = _ended_challenge(api_as, org)
    factories.recorded_event(org.alice, "client_revisit_positive", occurred_at=NOW - dt.timedelta(days=2), quantity=2)
    redemption_id = _stale_redemption(org)

    ran = scheduler.Scheduler().tick()

    assert ran == ["close-challenges", "expire-redemptions", "reminders"]
    db.session.remove()
    assert db.session.get(Challenge, challenge_id).status == "succeeded"
    assert ledger.wallet_summary(org.alice.id).balance == 200  # 100 own + the whole pool of 100
    assert db.session.get(Redemption, redemption_id).status == "expired"
    assert ledger.wallet_summary(org.alice.id).held == 0


def test_jobs_wait_for_their_interval(monkeypatch):
    calls = []
    clock = iter([0.0, 0.0, 100.0, 100.0, 400.0, 400.0])
    jobs = (
        scheduler.Job("often", 300, lambda: calls.append("often")),
        scheduler.Job("hourly", 3600, lambda: calls.append("hourly")),
    )
    ticker = scheduler.Scheduler(jobs=jobs, clock=lambda: next(clock))
    assert ticker.tick() == ["often", "hourly"]
    assert ticker.tick() == []
    assert ticker.tick() == ["often"]
    assert calls == ["often", "hourly", "often"]


def test_a_failing_job_does_not_stop_the_others():
    calls = []

    def broken():
        raise RuntimeError("database restarting")

    jobs = (scheduler.Job("broken", 60, broken), scheduler.Job("fine", 60, lambda: calls.append("fine")))
    assert scheduler.Scheduler(jobs=jobs).tick() == ["broken", "fine"]
    assert calls == ["fine"]


def test_run_jobs_command_runs_every_job_once(api_as, org, cli):
    challenge_id = _ended_challenge(api_as, org)
    result = cli.invoke(args=["run-jobs"])
    assert result.exit_code == 0
    assert "close-challenges, expire-redemptions, reminders" in result.output
    db.session.remove()
    assert db.session.scalar(sa.select(Challenge.status).where(Challenge.id == challenge_id)) == "failed"
