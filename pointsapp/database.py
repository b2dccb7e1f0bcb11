"""Engine set-up: SQLite in WAL mode with write transactions that start IMMEDIATE.

SQLite ignores ``SELECT ... FOR UPDATE``; a deferred transaction that reads
and then writes can fail or lose an update under concurrency. So every
transaction that may write starts with ``BEGIN IMMEDIATE`` (taking the write
lock up front, waiting up to the busy timeout, asking again every few
milliseconds), while requests with a safe method (GET, HEAD, OPTIONS) read in a
plain deferred transaction, and so does the lookup of a bearer token
(``reading_apart``): a batch of events is parsed before it waits for the lock.

Checkpoints (copying the write-ahead log back into the database file) are
taken after a write request's response has been sent, once the log holds more
than ``SQLITE_CHECKPOINT_PAGES`` pages (10,000, some 40 MB), instead of inside
the commit that crosses SQLite's own threshold: at 10,000 users an ingestion
batch writes 4,800-6,300 pages to the log, and copying them took a third of the
request. The commit's own checkpoint stays as a safety net at ten times that size.

On PostgreSQL a request with a safe method reads in autocommit until its first
write or lock (``_reads_without_transaction_block``): no BEGIN and COMMIT round
trips around reads that READ COMMITTED gives each their own snapshot anyway.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import logging
import os
import sqlite3
import time
import weakref
from collections.abc import Hashable, Iterator

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request

from pointsapp import bulk
from pointsapp.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 30_000
# The longest pause between two attempts of a writer waiting for SQLite's write lock (see _begin_immediate).
WRITER_POLL_S = 0.004
# Pages in the write-ahead log after which a write request checkpoints once its response is sent; a commit
# checkpoints by itself only past AUTOCHECKPOINT_FACTOR times as many. The log is reset only once a
# checkpoint has copied all of it with no reader left on it, so two writers at once can pile up past the
# net and one of them checkpoints in its commit; a net at 50 times SQLite's own threshold (1,000 pages) let
# the log grow so long that every page read searched further (two posters: 1,834 against 2,134 events/s at
# 10,000 users). Ten times that threshold lets a checkpoint copy a page changed by several batches once
# (the wallets, the current rollups, the busiest index leaves): at 10,000 users one client posted 5,794 and
# 5,898 events/s against 4,677 and 4,770 at 1,000 pages, two clients about the same (6,097-6,340).
CHECKPOINT_PAGES = 10_000
AUTOCHECKPOINT_FACTOR = 10
# A WAL frame is a page and its 24-byte header.
WAL_FRAME_HEADER = 24

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _Log:
    """A SQLite file's write-ahead log: its path (as SQLite itself names the file) and its frames' size."""

    path: str
    frame_bytes: int


# Each engine's log, found when it first connects to a file (none for an in-memory database).
_logs: weakref.WeakKeyDictionary[sa.Engine, _Log] = weakref.WeakKeyDictionary()


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
        if sa.engine.make_url(url).database not in (None, "", ":memory:"):  # a file: a pool of connections
            # The connection returned last is taken first: a worker keeps reusing one, whose own page cache
            # is warm and whose data version keys what the worker keeps between requests (read_version).
            options["pool_use_lifo"] = True
        return options
    # PostgreSQL: the connection returned last is taken first, and one idle for a while is checked before use
    # (see configure_engine): a busy worker keeps using a connection it knows to be alive.
    return {"pool_use_lifo": True}


# A pooled connection unused for longer than this is asked "SELECT 1" before it is handed out again.
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED_AT = "pointsapp_returned_at"


def _ping_when_idle(engine: sa.Engine) -> None:
    """Check a connection before use only when it has been idle a while: a restarted server or a cut
    connection is found before a request uses it, and a busy worker asks nothing more.

    SQLAlchemy's ``pool_pre_ping`` asks on every checkout, a round trip per request that cost
    PostgreSQL's wallet API about a tenth of its CPU. A connection that fails the check is
    discarded (``DisconnectionError``) and the pool hands out a fresh one; a connection lost
    while in use is still found by SQLAlchemy's own disconnect handling, which empties the pool.
    """

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is None or time.monotonic() - returned <= PING_AFTER_IDLE_SECONDS:
            return  # new, or in use a moment ago
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:  # noqa: BLE001 (any failure means the connection is not fit to use)
            raise sa.exc.DisconnectionError(f"idle connection failed its check: {error}") from error


def _reads_without_transaction_block(engine: sa.Engine) -> None:
    """PostgreSQL: a request with a safe method reads in autocommit, until it first writes or locks.

    Under READ COMMITTED every statement of a transaction reads its own, latest
    snapshot, so a transaction block around a request's reads changes nothing
    they see, and cost two round trips (psycopg's BEGIN before the first
    statement, the COMMIT at the end): two of the wallet API's five. So a transaction that begins within a GET, HEAD or
    OPTIONS request turns psycopg's autocommit on, and every statement that does not
    only read (``bulk.only_reads``) turns it off again before it is sent: a write, a
    savepoint, a ``SELECT … FOR UPDATE`` (whose lock must last) and everything after
    it run in one transaction, committed or rolled back with the request as before.
    A connection goes back to the pool with autocommit off. A connection asked for in
    autocommit (``isolation_level="AUTOCOMMIT"``, for VACUUM) is left as it is.

    One difference remains: a read that fails before the first write no longer
    aborts a transaction, so a view that caught its error could go on to write. The
    views catch database errors only inside savepoints, which begin the transaction.
    """

    @sa.event.listens_for(engine, "begin")
    def _read_in_autocommit(connection) -> None:
        fairy = connection.connection
        dbapi_connection = fairy.dbapi_connection
        if (
            has_request_context()
            and request.method in SAFE_METHODS
            and not dbapi_connection.autocommit  # not a connection asked for in autocommit (VACUUM)
            and dbapi_connection.info.transaction_status == _PG_IDLE
        ):
            dbapi_connection.autocommit = True
            fairy.info[_READING_IN_AUTOCOMMIT] = True

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _transaction_from_first_write(connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        fairy = connection.connection
        if fairy.info.get(_READING_IN_AUTOCOMMIT) and fairy.dbapi_connection.autocommit and not bulk.only_reads(statement):
            fairy.dbapi_connection.autocommit = False  # idle between statements in autocommit: psycopg begins before this one
            del fairy.info[_READING_IN_AUTOCOMMIT]

    @sa.event.listens_for(engine, "checkin")
    def _returned_in_transactions(dbapi_connection, record) -> None:
        if record.info.pop(_READING_IN_AUTOCOMMIT, False) and dbapi_connection is not None and dbapi_connection.autocommit:
            dbapi_connection.autocommit = False


_READING_IN_AUTOCOMMIT = "pointsapp_reading_in_autocommit"
_PG_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE: no transaction open


def _begin_statement() -> str:
    if has_request_context() and (request.method in SAFE_METHODS or g.get(_READING_APART)):
        return "BEGIN"
    return "BEGIN IMMEDIATE"


_READING_APART = "_pointsapp_reading_apart"


@contextlib.contextmanager
def reading_apart() -> Iterator[bool]:
    """Run a request's first reads (who is calling) in a short transaction of their own on SQLite.

    A write request's transaction takes SQLite's write lock with its first statement,
    so the lookup of a bearer token would wait for every other writer and then hold
    the lock while the request parses its body (a thousand events). Inside this block
    the transaction is a plain deferred read, ended when the block ends, without
    expiring what it loaded; the request's own transaction then begins IMMEDIATE at
    its next statement. The block must only read. Elsewhere (a request with a safe
    method already reads in a deferred transaction, PostgreSQL has no such lock), or
    when the session is already in a transaction, it changes nothing. It gives
    whether its reads were apart: what they loaded may then be read again, locked.
    """
    session = db.session()
    if (
        not has_request_context()
        or request.method in SAFE_METHODS
        or session.in_transaction()
        or session.get_bind().dialect.name != "sqlite"
    ):
        yield False
        return
    g.setdefault(_READING_APART, True)
    try:
        yield True
    finally:
        g.pop(_READING_APART, None)
        if session.in_transaction():
            if session.new or session.dirty or session.deleted:
                raise RuntimeError("reading_apart() is for reads: something was added or changed in it")
            expire, session.expire_on_commit = session.expire_on_commit, False
            try:
                session.commit()  # nothing written: this only ends the read
            finally:
                session.expire_on_commit = expire


def configure_engine(engine: sa.Engine, checkpoint_pages: int = CHECKPOINT_PAGES) -> None:
    if engine.dialect.name != "sqlite":
        _ping_when_idle(engine)
        _reads_without_transaction_block(engine)
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would not).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages * AUTOCHECKPOINT_FACTOR}")
            # Once a checkpoint has copied the whole log and no reader is left on it, the next writer starts
            # it afresh and cuts the file back to this size: the file's size tells what waits (checkpoint_if_due).
            frame_bytes = cursor.execute("PRAGMA page_size").fetchone()[0] + WAL_FRAME_HEADER
            cursor.execute(f"PRAGMA journal_size_limit={checkpoint_pages * frame_bytes}")
            # The file as SQLite opened it (a URI filename, a relative path): the log lies beside it.
            main_file = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
            if main_file:
                _logs[engine] = _Log(main_file + "-wal", frame_bytes)
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _begin_statement() == "BEGIN IMMEDIATE":
            _begin_immediate(connection)
        else:  # straight to the driver, as BEGIN IMMEDIATE goes: every request begins, most only read
            connection.connection.dbapi_connection.execute("BEGIN")
        # What the connection had changed before this transaction: read_version() tells a transaction that wrote.
        connection.connection.info[_CHANGES_AT_BEGIN] = connection.connection.dbapi_connection.total_changes


def _begin_immediate(connection: sa.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for another writer in steps of at most ``WRITER_POLL_S``.

    SQLite's own busy handler sleeps in growing steps, 100 ms each after the first
    quarter of a second: a writer waiting behind a 300 ms ingestion batch woke up to
    a tenth of a second after the lock was free. Here the lock is asked for without
    the busy handler and asked again sooner; after ``BUSY_TIMEOUT_MS`` the last
    attempt goes through SQLAlchemy, whose error says "database is locked" as before.
    """
    dbapi_connection = connection.connection.dbapi_connection
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = WRITER_POLL_S / 8
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    break
            time.sleep(pause)
            pause = min(pause * 2, WRITER_POLL_S)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


_CHANGES_AT_BEGIN = "pointsapp_changes_at_begin"
_SERIAL = "pointsapp_connection_serial"
_serials = itertools.count(1)
# The txid_ spellings (PostgreSQL 10 onwards; pg_current_snapshot() and pg_current_xact_id_if_assigned() from 13).
_PG_VERSION_COLUMNS = ("txid_current_snapshot()::text", "txid_current_if_assigned() IS NOT NULL")
_PG_VERSION = "SELECT " + ", ".join(_PG_VERSION_COLUMNS)


def read_version() -> Hashable | None:
    """A token of what the session's transaction reads: where two tokens are equal, so is everything read.

    For what a worker keeps between requests (a leaderboard's top rows): kept under
    the token it was read with, it is served again only under the same token, so a
    change committed by any worker or host is never missed. None when it cannot
    tell (a transaction that has written: its own changes are in no token; a
    database other than SQLite and PostgreSQL): then nothing may be kept.

    * SQLite: the connection's data version (it moves with every other connection's
      commit, as this transaction sees it) and the rows this connection has ever
      changed (its own commits do not move the data version), under a number given
      to the connection (data versions of two connections do not compare).
    * PostgreSQL: the snapshot. Two equal snapshots see the same committed
      transactions, so the same rows; a transaction that completed in between
      changes the snapshot's upper bound or its list of those in progress.

    What is read after the token can only be newer than it (a later statement's
    snapshot), so a kept value is never older than its token says.
    """
    session = db.session()
    session.flush()  # what is pending would be this transaction's own change
    connection = session.connection()
    name = connection.dialect.name
    if name == "sqlite":
        fairy = connection.connection
        changes = fairy.dbapi_connection.total_changes
        if changes != fairy.info.get(_CHANGES_AT_BEGIN):
            return None
        serial = fairy.info.get(_SERIAL) or fairy.info.setdefault(_SERIAL, next(_serials))
        (version,) = fairy.dbapi_connection.execute("PRAGMA data_version").fetchone()
        (schema,) = fairy.dbapi_connection.execute("PRAGMA schema_version").fetchone()  # a table dropped and made again
        return ("sqlite", serial, version, schema, changes)
    if name == "postgresql":
        snapshot, written = connection.exec_driver_sql(_PG_VERSION).one()
        return _pg_version(snapshot, written)
    return None


def _pg_version(snapshot: str, written: bool) -> Hashable | None:
    return None if written else ("postgresql", snapshot)


def read_version_and(value: bulk.Lookup, *values) -> tuple[Hashable | None, object]:
    """``read_version()`` and the single value ``value`` reads for ``values`` (None when it finds no row).

    On PostgreSQL both come from one statement, a round trip fewer for a view that
    needs them together (the leaderboard: its version, then my points). The value is
    read no earlier than the version, as when read after it.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        version = read_version()
        row = value.first(*values)
        return version, None if row is None else row[0]
    db.session.flush()  # as read_version does
    snapshot, written, found = _with_version(value).first(*values)
    return _pg_version(snapshot, written), found


@functools.cache
def _with_version(value: bulk.Lookup) -> bulk.Lookup:
    """PostgreSQL: the read version's two columns and ``value``'s statement as a third, in one statement."""
    return bulk.Lookup(
        sa.select(*map(sa.literal_column, _PG_VERSION_COLUMNS), value.statement.scalar_subquery()),
        value.names,
    )


def init_database(app: Flask) -> None:
    with app.app_context():
        configure_engine(db.engine, app.config.get("SQLITE_CHECKPOINT_PAGES", CHECKPOINT_PAGES))
    app.after_request(_checkpoint_after_writes)


def _checkpoint_after_writes(response):
    """After a request that may have written to a SQLite file, checkpoint once the response is sent."""
    if request.method not in SAFE_METHODS and db.engine in _logs:
        pages = current_app.config.get("SQLITE_CHECKPOINT_PAGES", CHECKPOINT_PAGES)
        response.call_on_close(functools.partial(checkpoint_if_due, db.engine, pages))
    return response


def checkpoint_if_due(engine: sa.Engine, pages: int = CHECKPOINT_PAGES) -> bool:
    """Checkpoint (PASSIVE: never waiting for readers or writers) when the log has grown past ``pages`` pages.

    The log's file size measures it (the next writer after a complete checkpoint cuts
    the file back to ``pages`` pages); only when it is larger is a connection taken. A
    checkpoint that fails is logged and left to the next request or the commit's own.
    """
    wal = _logs.get(engine)
    try:
        size = os.stat(wal.path).st_size if wal is not None else 0
    except OSError:
        return False
    if wal is None or size <= pages * wal.frame_bytes:
        return False
    try:
        connection = engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            connection.close()
    except Exception:
        log.exception("checkpoint after the response failed")
        return False
    return True
