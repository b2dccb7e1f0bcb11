"""HTTP benchmark: pointsapp under gunicorn against a seeded database, side by side with hello-world.

    make bench             # 10,000 users, 12 months (seeded once, then reused), 3 rounds of 10 s
    make bench-quick       # 2,000 users, 2 months, 2 rounds of 4 s: under 3 minutes
    BENCH_DB=postgres make bench      # BENCH_DATABASE_URL, default postgresql+psycopg://root@127.0.0.1:5432/pointsapp_bench

Both apps run under the same gunicorn settings (2 sync workers unless
``BENCH_WORKERS``), on 127.0.0.1, on free ports; wrk (-t2 -c16) drives each
target in turn, and every round measures hello-world again, so a noisy machine
shows up in the ratios less than in the absolute figures. Ingestion posts
1,000-event batches over HTTP; the bare loop inserts and updates scratch rows
on the same engine. Prints a table and, last, one machine-readable line. It
asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
QUICK = os.environ.get("BENCH_QUICK") == "1"
USERS = int(os.environ.get("BENCH_USERS", "2000" if QUICK else "10000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "2" if QUICK else "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2" if QUICK else "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "4" if QUICK else "10"))
WORKERS = os.environ.get("BENCH_WORKERS", "2")
# Ingestion is measured from one client, then from this many at once (one per worker, at least two).
POSTERS = max(int(WORKERS), 2)
# A nightly CRM batch is hundreds of batches: enough of them that each worker's first one (statements
# compiled, caches filled) weighs what it would, not half the figure.
INGEST_BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "6" if QUICK else "20"))
PASSWORD = "bench-points-2026"
# Flask-Login's "strong" session protection ties a session to the address and the User-Agent: sign in and
# measure with the same one, or every measured page is a redirect to the login page.
AGENT = "pointsapp-bench"


def database_url() -> str:
    if os.environ.get("BENCH_DB", "sqlite") == "postgres":
        return os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://root@127.0.0.1:5432/pointsapp_bench")
    folder = Path(os.environ.get("BENCH_DIR", ROOT / "instance" / "bench"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / f'bench-{USERS}-{MONTHS}.db'}"


def environment(url: str) -> dict:
    instance = ROOT / "instance" / "bench"
    instance.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": url,
        "POINTSAPP_INSTANCE": str(instance),
        "FLASK_APP": "pointsapp",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-secret-key"),
    }


def flask(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=check)


def prepare(env: dict) -> None:
    """Migrate, and seed when the database has no bench users yet (a seeded database is reused)."""
    flask(env, "db", "upgrade")
    seeded = flask(env, "seed-bench", "--users", str(USERS), "--months", str(MONTHS))
    first = seeded.stdout.strip().splitlines()[0]
    print("reusing the seeded database" if "already has users" in first else first, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 in its own process group; stopped on exit whatever happens."""

    def __init__(self, app: str, env: dict, chdir: Path):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "python:pointsapp.gunicorn_conf",  # the same settings as make run, for both apps
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                WORKERS,
                "--no-control-socket",
                "--chdir",
                str(chdir),
                app,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit(f"{app} did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _workers(self) -> list[tuple[Path, list[str]]]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[1] == str(self.process.pid):
                found.append((stat.parent, fields))
        return found

    def worker_rss_mb(self) -> float:
        rss = []
        for folder, _ in self._workers():
            try:
                rss.append(int(re.search(r"VmRSS:\s+(\d+)", (folder / "status").read_text()).group(1)) / 1024)
            except (OSError, AttributeError):
                continue
        return max(rss, default=0.0)

    def cpu_seconds(self) -> float:
        """User + system CPU of the workers so far: what requests cost, whatever the neighbours do to wall time."""
        return sum(int(fields[11]) + int(fields[12]) for _, fields in self._workers()) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def sign_in(base: str, email: str) -> tuple[str, str]:
    """A browser session cookie (through the login form) and an API token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    page = opener.open(f"{base}/login").read().decode()
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": csrf}).encode()
    opener.open(f"{base}/login", data=form).read()
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    request = urllib.request.Request(
        f"{base}/api/v1/auth/token",
        data=json.dumps({"email": email, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": AGENT},
    )
    token = json.loads(urllib.request.urlopen(request).read())["token"]
    return cookie, token


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def answers_200(url: str, header: str | None) -> None:
    """Refuse to measure a target that redirects (to the login page) or fails: wrk counts a 302 as a success."""
    name, _, value = (header or "").partition(": ")
    request = urllib.request.Request(url, headers={"User-Agent": AGENT, **({name: value} if header else {})})
    try:
        status = urllib.request.build_opener(_NoRedirect).open(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    if status != 200:
        raise SystemExit(f"{url} answered {status}, not 200")


def wrk(server: Server, url: str, header: str | None = None) -> dict:
    command = ["wrk", "-t2", "-c16", f"-d{SECONDS}s", "--latency", "-H", f"User-Agent: {AGENT}", url]
    if header:
        command[1:1] = ["-H", header]
    cpu = server.cpu_seconds()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - cpu
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    count = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": _ms(out, "50%"),
        "p99": _ms(out, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
        "cpu_ms": cpu * 1000 / max(count, 1),
    }


def _ms(out: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def ingest(server: Server, token: str, user_ids: list[int], posters: int = 1) -> tuple[float, float]:
    """POST 1,000-event batches of new events, from ``posters`` clients at once; events/s, and per worker CPU second.

    One poster is a CRM sending its batches one after another; two keep both workers busy,
    as a nightly import split in two would.
    """
    import concurrent.futures

    base = server.base
    now = dt.datetime.now(dt.timezone.utc)
    stamp = f"bench-{int(time.time())}-{posters}"
    bodies = [json.dumps({"events": batch_events(n, stamp, now, user_ids)}).encode() for n in range(INGEST_BATCHES)]

    def post(first: int) -> None:
        for data in bodies[first::posters]:
            request = urllib.request.Request(
                f"{base}/api/v1/events",
                data=data,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            urllib.request.urlopen(request, timeout=300).read()

    cpu = server.cpu_seconds()
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(posters) as pool:
        list(pool.map(post, range(posters)))
    elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    return INGEST_BATCHES * 1000 / elapsed, INGEST_BATCHES * 1000 / max(cpu, 1e-9)


def batch_events(n: int, stamp: str, now: dt.datetime, user_ids: list[int]) -> list[dict]:
    """The n-th batch of 1,000 new events: five types in turn, spread over people, every fifth shared with another."""
    types = ("loan_signed", "client_revisit_positive", "wealth_product_sold", "product_renewal", "cross_dept_referral")
    return [
        {
            "external_id": f"{stamp}-{n}-{i}",
            "type": types[i % 5],
            "user_id": user_ids[(n * 1009 + i * 31) % len(user_ids)],
            "occurred_at": (now - dt.timedelta(minutes=i)).isoformat(),
            **({"participants": [user_ids[(i * 17) % len(user_ids)]]} if i % 5 == 4 else {}),
        }
        for i in range(1000)
    ]


def bare_loop(url: str) -> tuple[float, float]:
    """INSERT a row and UPDATE another per event, 1,000 per transaction, in scratch tables: the engine alone."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_scratch_event")
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_scratch_wallet")
        conn.exec_driver_sql(
            "CREATE TABLE bench_scratch_event (id INTEGER PRIMARY KEY, external_id VARCHAR(64) UNIQUE, user_id INTEGER, points INTEGER)"
        )
        conn.exec_driver_sql("CREATE TABLE bench_scratch_wallet (user_id INTEGER PRIMARY KEY, balance BIGINT)")
        conn.execute(sa.text("INSERT INTO bench_scratch_wallet VALUES (:u, 0)"), [{"u": u} for u in range(1000)])
    insert = sa.text("INSERT INTO bench_scratch_event (id, external_id, user_id, points) VALUES (:i, :x, :u, 30)")
    update = sa.text("UPDATE bench_scratch_wallet SET balance = balance + 30 WHERE user_id = :u")
    started, cpu = time.perf_counter(), time.process_time()
    for n in range(INGEST_BATCHES):
        with engine.begin() as conn:
            for i in range(1000):
                conn.execute(insert, {"i": n * 1000 + i, "x": f"x-{n}-{i}", "u": i})
                conn.execute(update, {"u": i})
    rate = INGEST_BATCHES * 1000 / (time.perf_counter() - started)
    per_cpu = INGEST_BATCHES * 1000 / max(time.process_time() - cpu, 1e-9)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_scratch_event")
        conn.exec_driver_sql("DROP TABLE bench_scratch_wallet")
    engine.dispose()
    return rate, per_cpu


def vacuum(url: str) -> None:
    """PostgreSQL: clear the dead row versions earlier runs' ingestion left, as autovacuum would between runs.

    Every rollup upsert leaves one behind: after a few runs on a server with
    autovacuum off, the month board's "my place" (an index-only count) visited
    half a million of them and took twice as long (11.1 against 5.6 ms in-process).
    """
    if not url.startswith("postgresql"):
        return
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    engine.dispose()


def people(url: str) -> tuple[str, list[int]]:
    """A typical advisor (the median earner, so my rank is counted, not read off the top rows) and every user id."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT u.id, u.email FROM user_account u JOIN wallet w ON w.user_id = u.id "
                "WHERE u.role = 'employee' ORDER BY w.lifetime_earned, u.id"
            )
        ).all()
    engine.dispose()
    return rows[len(rows) // 2][1], [r[0] for r in rows]


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install Debian's wrk package (make bench installs it when run as root)")
    url = database_url()
    env = environment(url)
    print(
        f"database: {url.split('@')[-1]}  users: {USERS:,}  months: {MONTHS}  rounds: {ROUNDS} x {SECONDS}s  "
        f"gunicorn workers: {WORKERS}  wrk -t2 -c16",
        flush=True,
    )
    if os.environ.get("BENCH_REUSE") != "1":  # BENCH_REUSE=1: measure another checkout against an already seeded database
        prepare(env)
    vacuum(url)
    email, user_ids = people(url)
    servers: list[Server] = []
    try:
        app = Server("pointsapp:create_app()", env, ROOT)
        servers.append(app)
        hello = Server("hello:app", env, ROOT / "benchmarks")
        servers.append(hello)
        cookie, token = sign_in(app.base, email)
        targets = {
            "hello-world (ceiling)": (hello, f"{hello.base}/", None),
            "GET /api/v1/me/wallet": (app, f"{app.base}/api/v1/me/wallet", f"Authorization: Bearer {token}"),
            "GET /wallet (signed in)": (app, f"{app.base}/wallet", f"Cookie: {cookie}"),
            "GET /api/v1/leaderboard?period=month": (
                app,
                f"{app.base}/api/v1/leaderboard?period=month",
                f"Authorization: Bearer {token}",
            ),
            "GET /rewards (signed in)": (app, f"{app.base}/rewards", f"Cookie: {cookie}"),
        }
        for _, target, header in targets.values():
            answers_200(target, header)
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for round_no in range(ROUNDS):
            for name, (server, target, header) in targets.items():
                runs[name].append(wrk(server, target, header))
            print(f"round {round_no + 1}/{ROUNDS} done", flush=True)
        rss = app.worker_rss_mb()
        crm = flask(env, "create-integration", f"Bench CRM {int(time.time())}").stdout.strip().splitlines()[-1]
        ingest_rates = []
        for posters in (1, POSTERS):
            try:
                ingest_rates.append(ingest(app, crm, user_ids, posters))
            except urllib.error.HTTPError as error:  # still report what was measured
                print(f"ingestion failed: {error}", flush=True)
                ingest_rates.append((0.0, 0.0))
        rss = max(rss, app.worker_rss_mb())
    finally:
        for server in servers:
            server.stop()
    report(runs, ingest_rates, bare_loop(url), rss)


def report(runs: dict[str, list[dict]], ingest_rates: list[tuple[float, float]], bare: tuple[float, float], rss: float) -> None:
    if ROUNDS == 0:  # BENCH_ROUNDS=0: ingestion alone
        (one, one_cpu), (several, several_cpu) = ingest_rates
        print(
            f"ingest_per_s={one:.0f} ingest_per_cpu_s={one_cpu:.0f} ingest_{POSTERS}_clients_per_s={several:.0f} "
            f"ingest_{POSTERS}_clients_per_cpu_s={several_cpu:.0f} bare_per_s={bare[0]:.0f}"
        )
        return
    ceiling = runs["hello-world (ceiling)"]
    print(f"\n{'target':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7} {'CPU ms':>7} {'CPU ratio':>9} {'non-2xx':>8}")
    ratios = {}
    hello_cpu = statistics.median(r["cpu_ms"] for r in ceiling)
    for name, results in runs.items():
        ratios[name] = statistics.median(r["rps"] / c["rps"] for r, c in zip(results, ceiling))
        cpu = statistics.median(r["cpu_ms"] for r in results)
        print(
            f"{name:<40} {statistics.median(r['rps'] for r in results):>8.0f} {statistics.median(r['p50'] for r in results):>8.1f} "
            f"{max(r['p99'] for r in results):>8.1f} {ratios[name]:>6.1%} {cpu:>7.2f} {hello_cpu / cpu:>8.1%} "
            f"{sum(r['errors'] for r in results):>8}"
        )
    print(
        "(req/s, p50: median of the rounds; p99: the worst round; ratio: median of each round's req/s over that round's\n"
        " hello-world; CPU ms: worker CPU per request; CPU ratio: hello-world's CPU per request over the target's)"
    )
    (one, one_cpu), (several, several_cpu) = ingest_rates
    print(f"\nPOST /api/v1/events, {INGEST_BATCHES} x 1,000 new events")
    print(f"  one client, batch after batch         {one:>8,.0f} events/s   {one_cpu:>8,.0f} per worker CPU second")
    print(
        f"  {POSTERS} clients at once                    {several:>8,.0f} events/s   {several_cpu:>8,.0f} per worker CPU second"
    )
    print(f"bare INSERT + UPDATE loop, same engine   {bare[0]:>8,.0f} rows/s     {bare[1]:>8,.0f} per CPU second (client side)")
    print(f"largest gunicorn worker RSS              {rss:>8.0f} MB")
    leaderboard_p99 = max(r["p99"] for r in runs["GET /api/v1/leaderboard?period=month"])
    print(
        f"wallet_ratio={ratios['GET /api/v1/me/wallet']:.3f} page_ratio={ratios['GET /wallet (signed in)']:.3f} "
        f"leaderboard_p99_ms={leaderboard_p99:.1f} ingest_per_s={one:.0f} rss_mb={rss:.0f} ingest_{POSTERS}_clients_per_s={several:.0f}"
    )


if __name__ == "__main__":
    main()
