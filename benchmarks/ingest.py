"""Event ingestion in events/s, next to a bare insert + update loop on the same engine; prints, asserts nothing.

    .venv/bin/python benchmarks/ingest.py                     # SQLite in a temp folder
    BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench .venv/bin/python benchmarks/ingest.py

Seeds 2,000 users (seed-bench, one month), then posts ``BENCH_BATCHES`` batches of
1,000 new events to ``POST /api/v1/events`` in-process (the whole request: token,
parsing, rules, entries, wallets, rollups, notifications, commit), then replays one
batch. The bare loop inserts the same number of rows into ``event`` and updates a
wallet per row, committing per 1,000: what the engine alone does on this machine.
Prints ``ingest_per_s=… bare_per_s=…`` on its last line.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-bench-"))

import sqlalchemy as sa  # noqa: E402

from pointsapp import auth, bench_seed, create_app  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import Integration, User  # noqa: E402

BATCHES = int(os.environ.get("BENCH_BATCHES", "5"))
TYPES = ("loan_signed", "client_revisit_positive", "wealth_product_sold", "product_renewal", "cross_dept_referral")


def build_app():
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(os.environ['POINTSAPP_INSTANCE']) / 'ingest.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        bench_seed.seed(2000, 1)
        integration = Integration(name="Bench CRM")
        db.session.add(integration)
        db.session.flush()
        token = auth.issue_token(integration=integration)
        user_ids = list(db.session.scalars(sa.select(User.id).where(User.role != "admin")))
        db.session.commit()
    return app, token, user_ids


def batch(n: int, user_ids: list[int]) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    events = []
    for i in range(1000):
        uid = user_ids[(n * 7919 + i * 31) % len(user_ids)]
        kind = TYPES[i % len(TYPES)]
        item = {
            "external_id": f"bench-{n}-{i}",
            "type": kind,
            "user_id": uid,
            "occurred_at": (now - dt.timedelta(minutes=i)).isoformat(),
        }
        if kind == "cross_dept_referral":
            item["participants"] = [user_ids[(i * 17) % len(user_ids)]]
        events.append(item)
    return {"events": events}


def ingest(app, token, user_ids) -> tuple[float, float]:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [batch(n, user_ids) for n in range(BATCHES)]
    started, cpu = time.perf_counter(), time.process_time()
    for body in bodies:
        response = client.post("/api/v1/events", json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    fresh = BATCHES * 1000 / (time.perf_counter() - started)
    print(
        f"POST /events: {(time.process_time() - cpu) * 1000 / BATCHES:,.0f} ms of CPU per 1,000 new events "
        "(SQLite work included; PostgreSQL's own is not)"
    )
    started = time.perf_counter()
    client.post("/api/v1/events", json=bodies[0], headers=headers)
    replay = 1000 / (time.perf_counter() - started)
    return fresh, replay


def bare_loop(app, user_ids) -> float:
    """INSERT an event row and UPDATE a wallet per row, 1,000 per transaction: the engine's own pace."""
    with app.app_context():
        engine = db.engine
        now = dt.datetime.now(dt.timezone.utc)
        insert = sa.text(
            "INSERT INTO event (source, external_id, type, user_id, occurred_at, quantity, participants, payload_hash, created_at)"
            " VALUES ('bare', :x, 'loan_signed', :u, :t, 1, '[]', 'x', :t)"
        )
        update = sa.text("UPDATE wallet SET balance = balance + 1 WHERE user_id = :u")
        stamp = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
        started = time.perf_counter()
        for n in range(BATCHES):
            with engine.begin() as conn:
                for i in range(1000):
                    uid = user_ids[(n * 1000 + i) % len(user_ids)]
                    conn.execute(insert, {"x": f"bare-{n}-{i}", "u": uid, "t": stamp})
                    conn.execute(update, {"u": uid})
        rate = BATCHES * 1000 / (time.perf_counter() - started)
        with engine.begin() as conn:  # leave the ledger as it was
            conn.execute(sa.text("DELETE FROM event WHERE source = 'bare'"))
            for n in range(BATCHES):
                for i in range(1000):
                    conn.execute(
                        sa.text("UPDATE wallet SET balance = balance - 1 WHERE user_id = :u"),
                        {"u": user_ids[(n * 1000 + i) % len(user_ids)]},
                    )
        return rate


def main() -> None:
    app, token, user_ids = build_app()
    fresh, replay = ingest(app, token, user_ids)
    bare = bare_loop(app, user_ids)
    print(f"POST /events, {BATCHES} x 1,000 new events        {fresh:>9,.0f} events/s")
    print(f"POST /events, 1,000 replayed (all duplicates)  {replay:>9,.0f} events/s")
    print(f"bare INSERT + UPDATE loop, same engine         {bare:>9,.0f} rows/s   (ratio {fresh / bare:.2f})")
    print(f"ingest_per_s={fresh:.0f} replay_per_s={replay:.0f} bare_per_s={bare:.0f}")


if __name__ == "__main__":
    main()
