"""Leaderboard calls in-process on a seeded database: CPU per call of the boards, my place and my neighbours.

    flask --app pointsapp seed-bench --users 10000 --months 12        # into DATABASE_URL
    .venv/bin/python benchmarks/leaderboard_scale.py sqlite:///instance/bench/bench-10000.db
    .venv/bin/python benchmarks/leaderboard_scale.py postgresql+psycopg://root@127.0.0.1:5432/NAME

Each line is one public call made ``REQUESTS`` times by two viewers: the median earner
of the month, and an employee with no points this week (the usual case on a Monday
morning). CPU is this process's (time.process_time) plus, on PostgreSQL, the server
backend's (from /proc), per call; wall times are shown too but the machine is shared.
The full board ("everyone") is what every call did before the index reads. A board's top
rows are kept by the worker while nothing changes (``leaderboard._top``): the month board
is timed both ways, kept and read afresh (as after any change). Asserts nothing.
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
from flask import current_app  # noqa: E402

from pointsapp import create_app, leaderboard  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import PeriodTotal, User  # noqa: E402
from pointsapp.periods import current_key  # noqa: E402
from pointsapp.web.recognition import rank_panel  # noqa: E402

REQUESTS = int(os.environ.get("REQUESTS", "30"))
TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int | None) -> float:
    """Seconds of CPU the PostgreSQL backend serving this session has used (0 on SQLite)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def timed(label: str, fn, backend: int | None, count: int = REQUESTS) -> None:
    fn()  # warm the caches once
    db.session.rollback()
    times = []
    cpu, server = time.process_time(), _backend_cpu(backend)
    for _ in range(count):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    cpu_ms = (time.process_time() - cpu) * 1000 / count
    server_ms = (_backend_cpu(backend) - server) * 1000 / count
    times.sort()
    print(
        f"{label:<52} CPU {cpu_ms + server_ms:8.2f} ms/call (server {server_ms:6.2f})   "
        f"wall median {statistics.median(times):7.2f} ms  p95 {times[int(len(times) * 0.95) - 1]:7.2f} ms",
        flush=True,
    )


def _afresh(fn):
    """``fn`` with the kept top rows forgotten first: what a view costs after any change to the data."""

    def call():
        current_app.extensions.pop("leaderboard_tops", None)
        return fn()

    return call


def _viewers():
    month = current_key("month")
    earners = list(
        db.session.scalars(
            sa.select(User.id)
            .join(PeriodTotal, PeriodTotal.user_id == User.id)
            .where(User.role == "employee", User.is_active_account.is_(True))
            .where(PeriodTotal.period == "month", PeriodTotal.period_key == month)
            .order_by(PeriodTotal.points, User.id)
        )
    )
    week = sa.select(PeriodTotal.user_id).where(
        PeriodTotal.period == "week", PeriodTotal.period_key == current_key("week"), PeriodTotal.points != 0
    )
    idle = db.session.scalar(
        sa.select(User.id).where(User.role == "employee", User.is_active_account.is_(True), User.id.not_in(week)).limit(1)
    )
    return db.session.get(User, earners[len(earners) // 2]), db.session.get(User, idle) if idle else None


def main(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context(), app.test_request_context():
        postgres = db.engine.dialect.name == "postgresql"
        users = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        week_rows = db.session.scalar(
            sa.select(sa.func.count()).where(PeriodTotal.period == "week", PeriodTotal.period_key == current_key("week"))
        )
        median, idle = _viewers()
        team_id = median.team_id
        backend = db.session.scalar(sa.text("SELECT pg_backend_pid()")) if postgres else None
        print(f"{url.split('@')[-1]}: {users:,} users, {week_rows:,} with points this week; REQUESTS={REQUESTS}")
        for who, viewer in (("median earner", median), ("nobody this week", idle)):
            if viewer is None:
                continue
            timed(f"[{who}] API month board, top 100 + me", lambda v=viewer: leaderboard.board(v, "month", limit=100), backend)
            timed(
                f"[{who}] API month board, top 100 read afresh + me",
                _afresh(lambda v=viewer: leaderboard.board(v, "month", limit=100)),
                backend,
            )
            timed(f"[{who}] API week board, top 100 + me", lambda v=viewer: leaderboard.board(v, "week", limit=100), backend)
            timed(f"[{who}] standing(me, week)", lambda v=viewer: leaderboard.standing(v, "week"), backend)
            timed(f"[{who}] wallet rank panel (place ±2, week)", lambda v=viewer: rank_panel(v), backend)
        timed("TV board, team top 10 (month)", lambda: leaderboard.board(None, "month", team_id=team_id, limit=10), backend)
        timed(
            "month board, everyone ranked in Python (reference)",
            lambda: leaderboard.board(median, "month"),
            backend,
            max(3, REQUESTS // 5),
        )


if __name__ == "__main__":
    main(sys.argv[1])
