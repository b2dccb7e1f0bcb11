"""SQLite writers: one at a time, the next one in as soon as the lock is free, a bearer token read without the lock.

Each test builds its own SQLite file, whatever database the suite runs on: these
concern SQLite's write lock alone.
"""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from pointsapp import auth, database
from pointsapp.extensions import db
from pointsapp.models import Integration
from tests import factories
from tests.conftest import make_test_app


@pytest.fixture()
def sqlite_app(tmp_path):
    path = tmp_path / "writers.db"
    app = make_test_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)")
    yield app, path
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _holder(path) -> sqlite3.Connection:
    """Another connection holding SQLite's write lock (BEGIN IMMEDIATE and a row written, not committed)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO scratch (body) VALUES ('holder')")
    return holder


def test_a_waiting_writer_begins_once_the_holder_commits_and_sees_its_row(sqlite_app):
    app, path = sqlite_app
    holder = _holder(path)
    seen = []

    def write():
        with app.app_context(), db.engine.begin() as conn:  # BEGIN IMMEDIATE: waits for the holder
            seen.append(conn.exec_driver_sql("SELECT body FROM scratch ORDER BY id").scalars().all())
            conn.exec_driver_sql("INSERT INTO scratch (body) VALUES ('writer')")

    writer = threading.Thread(target=write)
    writer.start()
    writer.join(0.3)
    assert writer.is_alive() and seen == []  # still waiting: the holder has the lock
    holder.execute("COMMIT")
    writer.join(10)
    assert seen == [["holder"]]  # it began after the holder's commit, never beside it
    assert [r[0] for r in holder.execute("SELECT body FROM scratch ORDER BY id")] == ["holder", "writer"]
    holder.close()


def test_a_writer_gives_up_with_database_is_locked_after_the_busy_timeout(sqlite_app, monkeypatch):
    app, path = sqlite_app
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    holder = _holder(path)
    with app.app_context():
        db.engine.dispose()  # new connections take the shorter timeout
        with pytest.raises(sa.exc.OperationalError, match="database is locked"), db.engine.begin():
            pass
        raw = db.engine.raw_connection()
        try:
            assert raw.cursor().execute("PRAGMA busy_timeout").fetchone()[0] == 200  # the busy handler is back
        finally:
            raw.close()
        holder.execute("ROLLBACK")
        with db.engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO scratch (body) VALUES ('after')")
            assert conn.exec_driver_sql("SELECT body FROM scratch").scalars().all() == ["after"]
    holder.close()


def test_reading_apart_reads_while_another_writer_holds_the_lock_and_keeps_what_it_loaded(sqlite_app, monkeypatch):
    app, path = sqlite_app
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    with app.app_context():
        db.session.add(Integration(name="CRM"))
        db.session.commit()
        db.engine.dispose()
    holder = _holder(path)
    with app.test_request_context("/api/v1/events", method="POST"):
        with database.reading_apart():
            integration = db.session.scalar(sa.select(Integration))  # a POST, yet no write lock is asked for
        assert not db.session().in_transaction()
        assert not sa.inspect(integration).expired and integration.name == "CRM"  # nothing is read again
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):
            db.session.execute(sa.text("SELECT 1"))  # the request's own transaction wants the write lock
        db.session.rollback()
    holder.execute("ROLLBACK")
    holder.close()


def test_reading_apart_refuses_a_change_made_inside_it(sqlite_app):
    app, _path = sqlite_app
    with app.test_request_context("/api/v1/events", method="POST"):
        with pytest.raises(RuntimeError, match="for reads"), database.reading_apart():
            db.session.scalar(sa.select(sa.func.count(Integration.id)))
            db.session.add(Integration(name="written inside"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Integration.id))) == 0


def test_a_bearer_token_is_read_in_a_deferred_transaction_ended_before_the_batch_takes_the_lock(sqlite_app):
    app, _path = sqlite_app
    with app.app_context():
        admin = factories.user("admin")
        token = auth.issue_token(user=admin, label="crm")
        db.session.commit()
        admin_id = admin.id
        statements: list[str] = []
        db.engine.dispose()
        sa.event.listen(db.engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(statements.append))
    event = {"external_id": "e1", "type": "client_meeting", "user_id": admin_id, "occurred_at": "2026-11-20T09:00:00+08:00"}
    response = app.test_client().post("/api/v1/events", json=event, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_json()
    transactions = [s.split()[0] for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK")]
    begins = [s.strip() for s in statements if s.startswith("BEGIN")]
    token_read = next(i for i, s in enumerate(statements) if "api_token" in s)
    event_insert = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO event"))
    assert begins == ["BEGIN", "BEGIN IMMEDIATE"] and transactions == ["BEGIN", "COMMIT", "BEGIN", "COMMIT"]
    assert statements.index("BEGIN") < token_read < statements.index("BEGIN IMMEDIATE") < event_insert
    # The caller is a user: read again under the lock, so that what the request does as them starts from now.
    locked = statements.index("BEGIN IMMEDIATE")
    assert any("FROM user_account" in s and "WHERE user_account.id" in s for s in statements[locked:event_insert])


def test_a_read_request_with_a_bearer_token_stays_one_deferred_transaction(sqlite_app):
    app, _path = sqlite_app
    with app.app_context():
        token = auth.issue_token(user=factories.user(), label="phone")
        db.session.commit()
        statements: list[str] = []
        db.engine.dispose()
        sa.event.listen(db.engine, "connect", lambda dbapi, _record: dbapi.set_trace_callback(statements.append))
    response = app.test_client().get("/api/v1/me/wallet", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.get_json()["balance"] == 0
    transactions = [s.split()[0] for s in statements if s.split()[0] in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert [s for s in statements if s.startswith("BEGIN")] == ["BEGIN"] and len(transactions) == 2
