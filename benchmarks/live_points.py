"""What live points cost: an open wallet's poll (answered 204) against a wallet page render; prints, asserts nothing.

    .venv/bin/python benchmarks/live_points.py
    BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/bench .venv/bin/python benchmarks/live_points.py

An advisor with a few hundred entries; 8 threads render the wallet page, first
alone, then while 8 more threads poll /wallet/live as fast as they can (each
thread stands for hundreds of open phones polling every 5 seconds).
"""

from __future__ import annotations

import concurrent.futures
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-bench-"))

from pointsapp import create_app, ledger, org  # noqa: E402
from pointsapp.extensions import db  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
PASSWORD = "bench-password-2026"


def signed_in_client(app, email):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html)[1]
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    return client


def hammer(app, email, path, stop_at, expect) -> int:
    client, count = signed_in_client(app, email), 0
    while time.perf_counter() < stop_at:
        assert client.get(path).status_code == expect
        count += 1
    return count


def run(app, email, poll_path, pollers: int) -> tuple[float, float]:
    stop_at = time.perf_counter() + SECONDS
    with concurrent.futures.ThreadPoolExecutor(max_workers=8 + pollers) as pool:
        pages = [pool.submit(hammer, app, email, "/wallet", stop_at, 200) for _ in range(8)]
        polls = [pool.submit(hammer, app, email, poll_path, stop_at, 204) for _ in range(pollers)]
        return sum(f.result() for f in pages) / SECONDS, sum(f.result() for f in polls) / SECONDS


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(os.environ['POINTSAPP_INSTANCE']) / 'bench.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        member = org.create_user(None, email="advisor@bench.example", name="Advisor", password=PASSWORD)
        for i in range(400):
            ledger.post(member.id, 10, kind="manual_award", reason=f"bench {i}")
        db.session.commit()
        email = member.email
    client = signed_in_client(app, email)
    html = client.get("/wallet").get_data(as_text=True)
    poll_path = re.search(r'id="live" hidden hx-get="([^"]+)"', html)[1].replace("&amp;", "&")
    print(f"database: {url.split('@')[-1]}  {SECONDS:.0f} s per run")
    for label, path, status in (("wallet page", "/wallet", 200), ("live poll (204)", poll_path, 204)):
        start = time.perf_counter()
        for _ in range(200):
            assert client.get(path).status_code == status
        print(f"{label:<17} one thread: {(time.perf_counter() - start) / 200 * 1000:6.2f} ms per request")
    alone, _ = run(app, email, poll_path, 0)
    print(f"wallet page, 8 threads, alone:                    {alone:8.1f} pages/s")
    busy, polls = run(app, email, poll_path, 8)
    print(f"wallet page, 8 threads, beside 8 polling threads:  {busy:8.1f} pages/s  ({polls:.1f} polls/s answered 204)")
    share = (alone - busy) / alone * 100
    print(f"wallet throughput lost while serving {polls:.0f} polls/s: {share:.0f}%")
    print(f"{polls:.0f} polls/s = {polls * 5:.0f} open wallets polling every 5 s")


if __name__ == "__main__":
    main()
