"""What one ingestion batch costs SQLite itself: CPU and write-ahead log pages per statement; prints, asserts nothing.

    .venv/bin/python benchmarks/batch_pages.py instance/bench/bench-10000-12.db
    DROP=ix_event_type_time .venv/bin/python benchmarks/batch_pages.py instance/bench/bench-10000-12.db

Works on a copy of the seeded file (the original is not changed). Posts one batch of
1,000 new events in-process, as ``make bench`` posts them, keeping the statements the
batch sent to the driver (``bulk.Many``) with their rows; then replays each statement
alone ``ROUNDS`` times on the copy, with fresh ids and external ids, one transaction
each, and measures its CPU and the pages its commit wrote to the log (the log's growth;
checkpoints are held off and the log is emptied between statements). ``DROP`` drops the
named indexes from the copy first: the difference is what an index costs a batch.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-pages-"))

import sqlalchemy as sa  # noqa: E402

from pointsapp import auth, bulk, create_app  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import Integration, User  # noqa: E402

ROUNDS = int(os.environ.get("ROUNDS", "3"))
TYPES = ("loan_signed", "client_revisit_positive", "wealth_product_sold", "product_renewal", "cross_dept_referral")
# Where a statement's rows carry an id or an identity that a replay must make new.
ID_COLUMN = {"event": 0, "ledger_entry": 0}
EXTERNAL_ID_COLUMN = {"event": 2}


def copy_of(source: Path, folder: Path) -> Path:
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = folder / "pages.db"
    shutil.copyfile(source, target)
    drops = [name for name in os.environ.get("DROP", "").split(",") if name]
    with sqlite3.connect(target) as conn:
        for name in drops:
            conn.execute(f'DROP INDEX "{name}"')
    return target


def one_batch(url: str) -> list[tuple[str, list[tuple]]]:
    """Post 1,000 new events as the bench does; the statements sent to the driver, with their rows."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        integration = Integration(name=f"Pages {time.time()}")
        db.session.add(integration)
        db.session.flush()
        token = auth.issue_token(integration=integration)
        user_ids = list(db.session.scalars(sa.select(User.id).where(User.role == "employee")))
        db.session.commit()
    now = dt.datetime.now(dt.timezone.utc)
    stamp = int(time.time())
    events = [
        {
            "external_id": f"pages-{stamp}-{i}",
            "type": TYPES[i % 5],
            "user_id": user_ids[(i * 1009) % len(user_ids)],
            "occurred_at": (now - dt.timedelta(minutes=i)).isoformat(),
            **({"participants": [user_ids[(i * 17) % len(user_ids)]]} if i % 5 == 4 else {}),
        }
        for i in range(1000)
    ]
    sent: list[tuple[str, list[tuple]]] = []
    rows_of = bulk.Many._driver_rows

    def kept(self, dialect, rows):
        sql, converted = rows_of(self, dialect, rows)
        if isinstance(self.statement, sa.Insert | sa.Update):
            sent.append((sql, converted))
        return sql, converted

    bulk.Many._driver_rows = kept
    try:
        response = app.test_client().post("/api/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"})
    finally:
        bulk.Many._driver_rows = rows_of
    assert response.status_code in (200, 201), response.get_data(as_text=True)[:300]
    return sent


def table_of(sql: str) -> str:
    words = sql.split()
    return words[2] if words[0] == "INSERT" else words[1]


def fresh(sql: str, rows: list[tuple], round_no: int) -> list[tuple]:
    """The rows with new ids and external ids (the same users, rules, periods)."""
    table = table_of(sql)
    if table not in ID_COLUMN:
        return rows
    shift = 10_000_000 * round_no
    out = []
    for row in rows:
        row = list(row)
        row[ID_COLUMN[table]] += shift
        if table in EXTERNAL_ID_COLUMN:
            row[EXTERNAL_ID_COLUMN[table]] = f"{row[EXTERNAL_ID_COLUMN[table]]}-r{round_no}"
        if table == "ledger_entry" and row[6] is not None:  # event_id: the replayed event's
            row[6] += shift
        out.append(tuple(row))
    return out


def main(source: str) -> None:
    with tempfile.TemporaryDirectory(prefix="pointsapp-pages-") as folder:
        path = copy_of(Path(source), Path(folder))
        sent = one_batch(f"sqlite:///{path}")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("PRAGMA foreign_keys=ON")
        wal = f"{path}-wal"
        frame = conn.execute("PRAGMA page_size").fetchone()[0] + 24
        print(
            f"{source}: one batch of 1,000 events, each statement replayed {ROUNDS} times; dropped: {os.environ.get('DROP') or '-'}"
        )
        totals = [0.0, 0]
        for sql, rows in sent:
            cpu, pages = [], []
            for round_no in range(1, ROUNDS + 1):
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                replay = fresh(sql, rows, round_no)
                started = time.process_time()
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(sql, replay)
                conn.execute("COMMIT")
                cpu.append((time.process_time() - started) * 1000)
                pages.append(os.path.getsize(wal) // frame)
            totals[0] += statistics.median(cpu)
            totals[1] += int(statistics.median(pages))
            print(
                f"  {' '.join(sql.split()[:3])[:30]:<30} {len(rows):>6,} rows  {statistics.median(cpu):7.1f} ms CPU  "
                f"{int(statistics.median(pages)):>6,} log pages"
            )
        print(f"  {'the batch':<30} {'':>11}  {totals[0]:7.1f} ms CPU  {totals[1]:>6,} log pages")
        conn.close()


if __name__ == "__main__":
    main(sys.argv[1])
