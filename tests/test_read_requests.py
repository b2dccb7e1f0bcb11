"""PostgreSQL: a request with a safe method reads without a transaction block, until it writes or locks."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import jsonify

from pointsapp import lifecycle
from pointsapp.extensions import db
from pointsapp.models import Team, Wallet
from pointsapp.models.org import team_subtree_ids
from tests import factories
from tests.conftest import ON_POSTGRES, make_test_app

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="autocommit reads are for PostgreSQL's connections")


def _status() -> str:
    """psycopg's transaction status of the connection the request's session uses."""
    return db.session.connection().connection.dbapi_connection.info.transaction_status.name


@pytest.fixture(scope="module")
def probe_app():
    """The app with views that read, write, fail and lock, and report their connection's transaction status."""
    app = make_test_app()

    def read():
        db.session.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one()
        return jsonify(status=_status())

    def write(name):
        db.session.execute(sa.select(sa.func.count()).select_from(Team)).scalar_one()
        before = _status()
        db.session.add(Team(name=name))
        db.session.flush()
        after = _status()
        if name.startswith("refused"):
            lifecycle.refuse()  # answered, but nothing it wrote may stay
            return jsonify(before=before, after=after), 409
        return jsonify(before=before, after=after)

    def lock(user_id):
        db.session.execute(sa.select(Wallet.user_id).where(Wallet.user_id == user_id).with_for_update()).all()
        locked = _status()
        db.session.execute(sa.select(sa.literal(1))).scalar_one()
        return jsonify(locked=locked, after=_status())

    def vacuum():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM team")  # refused inside a transaction block
        return jsonify(status=_status())

    def subtree(team_id):
        found = team_subtree_ids(team_id)  # WITH RECURSIVE …: a read
        return jsonify(found=sorted(found), status=_status())

    app.add_url_rule("/probe/vacuum", "probe_vacuum", vacuum)
    app.add_url_rule("/probe/subtree/<int:team_id>", "probe_subtree", subtree)
    app.add_url_rule("/probe/read", "probe_read", read, methods=["GET", "POST"])
    app.add_url_rule("/probe/write/<name>", "probe_write", write)
    app.add_url_rule("/probe/lock/<int:user_id>", "probe_lock", lock)
    return app


def test_a_safe_requests_reads_leave_no_transaction_open(probe_app):
    client = probe_app.test_client()
    assert client.get("/probe/read").json == {"status": "IDLE"}  # no BEGIN was sent, so no COMMIT is owed


def test_a_recursive_read_is_a_read(probe_app, org):
    db.session.commit()
    answer = probe_app.test_client().get(f"/probe/subtree/{org.branch.id}").json
    assert answer["status"] == "IDLE" and {org.branch.id, org.wealth.id, org.loans.id} <= set(answer["found"])


def test_a_request_that_may_write_reads_in_its_transaction(probe_app, monkeypatch):
    monkeypatch.setitem(probe_app.config, "WTF_CSRF_ENABLED", False)
    assert probe_app.test_client().post("/probe/read").json == {"status": "INTRANS"}


def test_a_safe_request_that_writes_does_so_in_one_transaction_kept_or_undone_with_it(probe_app):
    client = probe_app.test_client()

    kept = client.get("/probe/write/kept-team")
    refused = client.get("/probe/write/refused-team")

    assert kept.json == {"before": "IDLE", "after": "INTRANS"}
    assert refused.status_code == 409 and refused.json == {"before": "IDLE", "after": "INTRANS"}
    names = set(db.session.scalars(sa.select(Team.name)))
    assert "kept-team" in names and "refused-team" not in names


def test_a_lock_taken_by_a_safe_request_lasts_until_the_request_ends(probe_app):
    alice = factories.user()
    db.session.commit()

    answer = probe_app.test_client().get(f"/probe/lock/{alice.id}").json

    assert answer == {"locked": "INTRANS", "after": "INTRANS"}  # SELECT … FOR UPDATE began a transaction that held on


def test_a_connection_asked_for_in_autocommit_is_left_in_it(probe_app):
    assert probe_app.test_client().get("/probe/vacuum").json == {"status": "IDLE"}
    for _ in range(2):  # and again on the connection as the pool hands it back
        assert probe_app.test_client().get("/probe/vacuum").status_code == 200


def test_connections_go_back_to_the_pool_ready_for_transactions(probe_app):
    client = probe_app.test_client()
    for _ in range(3):
        client.get("/probe/read")
    with probe_app.app_context():
        connection = db.engine.raw_connection()  # the pool hands out the connection returned last
        try:
            assert connection.dbapi_connection.autocommit is False
        finally:
            connection.close()


def test_the_wallet_api_reads_in_autocommit_and_posting_events_writes_in_one_transaction(app, org, api_as):
    seen: list[tuple[str, bool]] = []

    def record(connection, _cursor, statement, _parameters, _context, _executemany):
        seen.append((statement.split()[0].upper(), connection.connection.dbapi_connection.autocommit))

    now = dt.datetime.now(dt.timezone.utc).isoformat()
    crm = api_as(factories.integration())
    reader = api_as(org.alice)
    db.session.commit()
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        wallet = reader.get("/me/wallet")
        reads, seen[:] = list(seen), []
        posted = crm.post(
            "/events", {"events": [{"external_id": "r-1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": now}]}
        )
        writes = list(seen)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    assert wallet.status_code == 200 and "balance" in wallet.json
    assert reads and all(autocommit for _, autocommit in reads), reads
    assert posted.status_code == 201 and posted.json["items"][0]["status"] == "created"
    assert writes and not any(autocommit for _, autocommit in writes), writes
