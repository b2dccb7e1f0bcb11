"""PostgreSQL's pooled connections: one idle for a while is checked before use, one used a moment ago is not."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from pointsapp import database
from pointsapp.extensions import db
from tests.conftest import DATABASE_URL, ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="the idle check is for PostgreSQL's connections")


def _one_pooled_connection_cut() -> int:
    """Leave exactly one connection in the pool, then end its server process from outside; its pid."""
    db.session.remove()
    db.engine.dispose()
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    db.session.remove()  # back to the pool
    outside = sa.create_engine(DATABASE_URL, poolclass=sa.pool.NullPool)
    try:
        with outside.connect() as connection:
            assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        outside.dispose()
    time.sleep(0.05)  # the server process is gone
    return pid


def test_a_connection_cut_while_idle_is_replaced_before_a_request_uses_it(monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    cut = _one_pooled_connection_cut()
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()  # no error: the check found it first
    assert pid != cut


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_check(monkeypatch):
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)
    _one_pooled_connection_cut()
    with pytest.raises(sa.exc.OperationalError) as raised:  # nothing asked before use: the cut shows on first use
        db.session.execute(sa.text("SELECT pg_backend_pid()"))
    assert raised.value.connection_invalidated
    db.session.remove()
    assert db.session.execute(sa.text("SELECT 1")).scalar_one() == 1  # and the pool recovers on its own
