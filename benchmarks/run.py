"""Benchmarks for the hot paths; prints figures, asserts nothing.

    .venv/bin/python benchmarks/run.py                  # SQLite in a temp folder
    BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench .venv/bin/python benchmarks/run.py

Measures, on a fresh database with a few hundred advisors:
- ledger.post (the one write path for points), single-threaded;
- POST /api/v1/awards through the full request cycle, single-threaded and with 8 threads;
- GET /api/v1/me/wallet;
- POST /api/v1/events with a 1,000-event batch, then the same batch replayed;
- GET /api/v1/leaderboard for a month with every advisor ranked.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-bench-"))

import sqlalchemy as sa  # noqa: E402

from pointsapp import auth, create_app, ledger, org  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import Team  # noqa: E402

USERS = int(os.environ.get("BENCH_USERS", "300"))


def timed(label: str, count: int, fn) -> None:
    start = time.perf_counter()
    latencies = fn()
    elapsed = time.perf_counter() - start
    line = f"{label:<52} {count:>6} ops  {count / elapsed:>9.1f} ops/s"
    if latencies:
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        line += f"  median {statistics.median(latencies) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms"
    print(line, flush=True)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(os.environ['POINTSAPP_INSTANCE']) / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    print(f"database: {url.split('@')[-1]}  users: {USERS}")
    with app.app_context():
        db.drop_all()
        db.create_all()
        branch = Team(name="Branch")
        db.session.add(branch)
        db.session.flush()
        teams = [Team(name=f"Team {i}", parent_id=branch.id) for i in range(10)]
        db.session.add_all(teams)
        db.session.flush()
        admin = org.create_user(None, email="admin@bench.example", name="Admin", role="admin")
        users = [
            org.create_user(None, email=f"u{i}@bench.example", name=f"Advisor {i}", team_id=teams[i % 10].id)
            for i in range(USERS)
        ]
        admin_token = auth.issue_token(user=admin)
        user_token = auth.issue_token(user=users[0])
        integration = org.create_integration("Bench CRM")
        crm_token = auth.issue_token(integration=integration)
        db.session.commit()
        user_ids = [u.id for u in users]

        def post_entries():
            for i in range(2000):
                ledger.post(
                    user_ids[i % USERS],
                    10,
                    kind="manual_award",
                    reason="bench",
                    effective_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=i % 60),
                )
                if i % 100 == 99:
                    db.session.commit()
            db.session.commit()

        timed("ledger.post (commit every 100)", 2000, post_entries)

    bearer = {"Authorization": f"Bearer {admin_token}"}

    def award(i):
        client = app.test_client()
        start = time.perf_counter()
        response = client.post(
            "/api/v1/awards", json={"user_id": user_ids[i % USERS], "points": 5, "reason": "bench"}, headers=bearer
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return time.perf_counter() - start

    timed("POST /awards, 1 thread", 300, lambda: [award(i) for i in range(300)])

    def awards_threaded():
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            return list(pool.map(award, range(400)))

    timed("POST /awards, 8 threads", 400, awards_threaded)

    def wallet(_):
        client = app.test_client()
        start = time.perf_counter()
        response = client.get("/api/v1/me/wallet", headers={"Authorization": f"Bearer {user_token}"})
        assert response.status_code == 200
        return time.perf_counter() - start

    timed("GET /me/wallet", 500, lambda: [wallet(i) for i in range(500)])

    now = dt.datetime.now(dt.timezone.utc)
    batch = {
        "events": [
            {
                "external_id": f"bench-{i}",
                "type": "loan_signed",
                "user_id": user_ids[i % USERS],
                "occurred_at": (now - dt.timedelta(hours=i)).isoformat(),
            }
            for i in range(1000)
        ]
    }
    crm = {"Authorization": f"Bearer {crm_token}"}
    with app.app_context():
        from pointsapp import earning

        if hasattr(earning, "seed_default_rules"):
            earning.seed_default_rules()
            db.session.commit()

    def events_once():
        response = app.test_client().post("/api/v1/events", json=batch, headers=crm)
        if response.status_code not in (200, 201):
            print(f"  events answered {response.status_code}: {response.get_data(as_text=True)[:200]}")
        return []

    timed("POST /events, 1,000-event batch (new)", 1000, events_once)
    timed("POST /events, same batch replayed", 1000, events_once)

    def leaderboard(_):
        start = time.perf_counter()
        response = app.test_client().get("/api/v1/leaderboard?period=month", headers={"Authorization": f"Bearer {user_token}"})
        if response.status_code != 200:
            raise SystemExit(f"leaderboard answered {response.status_code}")
        return time.perf_counter() - start

    timed(f"GET /leaderboard?period=month ({USERS} ranked)", 200, lambda: [leaderboard(i) for i in range(200)])

    with app.app_context():
        start = time.perf_counter()
        problems = ledger.check_ledger()
        entries = db.session.scalar(sa.text("SELECT count(*) FROM ledger_entry"))
        print(
            f"{'check_ledger over ' + str(entries) + ' entries':<52} {time.perf_counter() - start:>6.2f} s  problems: {len(problems)}"
        )


if __name__ == "__main__":
    main()
