"""Python calls per 1,000-event batch, posted in-process to a seeded database; prints, asserts nothing.

    .venv/bin/python benchmarks/batch_calls.py sqlite:///$PWD/instance/bench/bench-10000-12.db
    .venv/bin/python benchmarks/batch_calls.py postgresql+psycopg://root@127.0.0.1:5432/pointsapp_bench

A figure that does not depend on the machine's speed, for comparing two versions of the
write path: each batch is the whole request (token, parsing, rules, entries, wallets,
rollups, notifications, commit), as ``make bench`` posts them, through a test client. The
batches are stored (like ``make bench``'s, they add events to the database). Prints the
median of three batches after a first one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("POINTSAPP_INSTANCE", tempfile.mkdtemp(prefix="pointsapp-calls-"))

import sqlalchemy as sa  # noqa: E402

from benchmarks.http_bench import batch_events  # noqa: E402
from pointsapp import auth, create_app  # noqa: E402
from pointsapp.extensions import db  # noqa: E402
from pointsapp.models import Integration, User  # noqa: E402


def main(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False, "SECRET_KEY": "bench"})
    with app.app_context():
        integration = Integration(name=f"Calls {time.time_ns()}")
        db.session.add(integration)
        db.session.flush()
        token = auth.issue_token(integration=integration)
        user_ids = list(db.session.scalars(sa.select(User.id).where(User.role != "admin")))
        db.session.commit()
    now, stamp = dt.datetime.now(dt.timezone.utc), time.time_ns()

    def body(n: int) -> bytes:  # the same events as make bench posts
        return json.dumps({"events": batch_events(n, f"calls-{stamp}", now, user_ids)}).encode()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    client.post("/api/v1/events", data=body(0), headers=headers)  # the first one compiles and warms up
    counts = []
    for n in (1, 2, 3):
        data, counted = body(n), [0]

        def seen(_frame, event, _arg, counted=counted):
            if event in ("call", "c_call"):
                counted[0] += 1

        sys.setprofile(seen)
        response = client.post("/api/v1/events", data=data, headers=headers)
        sys.setprofile(None)
        if response.status_code != 201:
            raise SystemExit(f"the batch was answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        counts.append(counted[0])
    print(f"Python calls per 1,000-event batch: {statistics.median(counts):,.0f}")


if __name__ == "__main__":
    main(sys.argv[1])
