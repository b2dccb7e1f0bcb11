"""Time (and optionally profile) single requests in-process against a seeded database; prints, asserts nothing.

    .venv/bin/python benchmarks/profile_requests.py sqlite:///instance/bench/bench-10000-12.db
    PROFILE=/api/v1/me/wallet .venv/bin/python benchmarks/profile_requests.py URL    # pyinstrument tree for one path

One request at a time as the median earner (so my rank is counted, not read off
the top rows), each a WSGI call of the app as gunicorn makes it, with the signed-in
session's cookie or the bearer token (no test client around it): median and p95 wall
time per path over ``REQUESTS`` calls, and the mean CPU time of the process per call
(the figure that does not depend on the neighbours' load; on PostgreSQL it leaves out
the server's own work). ``RATELIMIT=1`` keeps the rate limiter on, as served.
``COUNT=1`` prints instead what does not depend on the machine's speed: the Python
function calls a request makes and the statements it sends to the database (SQLite:
every statement the connection runs, BEGIN and COMMIT included; PostgreSQL: its round
trips, each query and the BEGIN psycopg sends before a transaction's first one, and the
COMMIT or ROLLBACK of a transaction left open), the median over ``REQUESTS`` calls.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-profile-"))

import sqlalchemy as sa  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from pointsapp import auth, bench_seed, create_app  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import User, Wallet  # noqa: E402

PATHS = ("/api/v1/me/wallet", "/wallet", "/api/v1/leaderboard?period=month", "/rewards")
REQUESTS = int(os.environ.get("REQUESTS", "100"))


def main(url: str) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": os.environ.get("RATELIMIT") == "1"}
    )
    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(User.id)
                .join(Wallet, Wallet.user_id == User.id)
                .where(User.role == "employee")
                .order_by(Wallet.lifetime_earned, User.id)
            )
        )
        user = db.session.get(User, ids[len(ids) // 2])
        token = auth.issue_token(user=user, label="profile")
        db.session.commit()
        email = user.email
    client = app.test_client()
    agent = {"User-Agent": "pointsapp-profile"}  # signed in and measured with one (session protection)
    page = client.get("/login", headers=agent).get_data(as_text=True)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/login", data={"email": email, "password": bench_seed.PASSWORD, "csrf_token": csrf}, headers=agent)
    client.get("/wallet", headers=agent)  # the first page adds its CSRF secret to the session, as a browser would keep it
    signed_in = {**agent, "Cookie": f"session={client.get_cookie('session').value}"}
    bearer = {**agent, "Authorization": f"Bearer {token}"}
    profiled = os.environ.get("PROFILE")
    sent = _count_statements(app) if os.environ.get("COUNT") == "1" else None
    for path in PATHS:
        call, statuses = wsgi_call(app, path, bearer if path.startswith("/api") else signed_in)
        call()
        assert statuses[-1].startswith("200"), (path, statuses[-1])
        if sent is not None:
            calls, statements = [], []
            for _ in range(REQUESTS):
                counted, before = [0], len(sent)

                def seen(_frame, event, _arg, counted=counted):
                    if event in ("call", "c_call"):
                        counted[0] += 1

                sys.setprofile(seen)
                call()
                sys.setprofile(None)
                calls.append(counted[0])
                statements.append(len(sent) - before)
            print(
                f"{path:<40} Python calls {statistics.median(calls):7,.0f}   statements sent {statistics.median(statements):3.0f}"
            )
            continue
        if profiled == path:
            from pyinstrument import Profiler

            with Profiler(interval=0.0005) as profiler:
                for _ in range(REQUESTS):
                    call()
            print(profiler.output_text(unicode=True, show_all=os.environ.get("ALL") == "1"))
            continue
        times, cpu = [], []
        for _ in range(REQUESTS):
            started, started_cpu = time.perf_counter(), time.process_time()
            call()
            cpu.append((time.process_time() - started_cpu) * 1000)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        print(
            f"{path:<40} median {statistics.median(times):7.1f} ms   p95 {times[int(len(times) * 0.95) - 1]:7.1f} ms"
            f"   CPU mean {statistics.fmean(cpu):6.2f} ms"
        )


def _count_statements(app) -> list:
    """A list that grows by one for each statement the app's connections send to the database."""
    sent: list = []
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            engine.dispose()  # connections made from now on report what they run

            @sa.event.listens_for(engine, "connect")
            def _trace(dbapi_connection, _record):
                dbapi_connection.set_trace_callback(sent.append)

            return sent
    import psycopg

    idle = psycopg.pq.TransactionStatus.IDLE

    def counted(send):
        def execute(self, *args, **kwargs):
            if not self.connection.autocommit and self.connection.info.transaction_status == idle:
                sent.append("BEGIN")  # psycopg begins the transaction before the statement: a round trip of its own
            sent.append("statement")
            return send(self, *args, **kwargs)

        return execute

    def ending(end, word):
        def finish(self):
            if self.info.transaction_status != idle:  # with nothing open psycopg sends nothing
                sent.append(word)
            return end(self)

        return finish

    for name in ("execute", "executemany"):
        setattr(psycopg.Cursor, name, counted(getattr(psycopg.Cursor, name)))
    psycopg.Connection.commit = ending(psycopg.Connection.commit, "COMMIT")
    psycopg.Connection.rollback = ending(psycopg.Connection.rollback, "ROLLBACK")
    return sent


def wsgi_call(app, path: str, headers: dict):
    """A call of the app for one request, as a WSGI server makes it, and the statuses it answered."""
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    statuses: list[str] = []

    def start_response(status, _headers, _exc_info=None):
        statuses.append(status)

    def call() -> None:
        body = app(dict(environ), start_response)
        try:
            b"".join(body)
        finally:
            getattr(body, "close", lambda: None)()

    return call, statuses


if __name__ == "__main__":
    main(sys.argv[1])
