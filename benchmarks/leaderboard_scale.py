"""The month leaderboard and my place, in-process, on a seeded database: top rows + counts vs ranking everyone.

    .venv/bin/python benchmarks/leaderboard_scale.py sqlite:///instance/bench/bench-100000-1.db

"ranking everyone" is ``leaderboard.board(viewer, "month")`` without a limit: what every
board and every wallet view did before (load each ranked user, sort in Python). Prints
median and p95 over ``REQUESTS`` calls; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-profile-"))

import sqlalchemy as sa  # noqa: E402

from pointsapp import create_app, leaderboard  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import User, Wallet  # noqa: E402

REQUESTS = int(os.environ.get("REQUESTS", "30"))


def timed(label: str, fn, count: int = REQUESTS) -> None:
    times, cpu = [], time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    times.sort()
    cpu_ms = (time.process_time() - cpu) * 1000 / count
    print(
        f"{label:<58} median {statistics.median(times):8.1f} ms  p95 {times[int(len(times) * 0.95) - 1]:8.1f} ms  "
        f"CPU {cpu_ms:7.1f} ms",
        flush=True,
    )


def main(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        ids = list(
            db.session.scalars(
                sa.select(User.id)
                .join(Wallet, Wallet.user_id == User.id)
                .where(User.role == "employee")
                .order_by(Wallet.lifetime_earned, User.id)
            )
        )
        median = db.session.get(User, ids[len(ids) // 2])
        print(f"{url.split('@')[-1]}: {users:,} users; viewer: the median earner")
        timed("month board, top 100 + my place (now)", lambda: leaderboard.board(median, "month", limit=100))
        timed("my week place for the wallet page (now)", lambda: leaderboard.standing(median, "week"))
        timed(
            "month board, everyone ranked in Python (before)", lambda: leaderboard.board(median, "month"), max(3, REQUESTS // 5)
        )


if __name__ == "__main__":
    main(sys.argv[1])
