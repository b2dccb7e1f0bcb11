"""Engine set-up: SQLite in WAL mode with write transactions that start IMMEDIATE.

SQLite ignores ``SELECT ... FOR UPDATE``; a deferred transaction that reads
and then writes can fail or lose an update under concurrency. So every
transaction that may write starts with ``BEGIN IMMEDIATE`` (taking the write
lock up front, waiting up to the busy timeout), while requests with a safe
method (GET, HEAD, OPTIONS) read in a plain deferred transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, has_request_context, request

from pointsapp.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BUSY_TIMEOUT_MS = 30_000


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}}
    return {"pool_pre_ping": True}


# Rows per statement when SQLAlchemy sends thousands of rows as one multi-row INSERT ("insertmanyvalues").
# psycopg rewrites the placeholders of each statement it is given, at a cost that grows faster than the
# statement: a thousand rows in one statement cost PostgreSQL ingestion more client CPU than all else.
BULK_PAGE_ROWS = 100


def _begin_statement() -> str:
    if has_request_context() and request.method in SAFE_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def configure_engine(engine: sa.Engine) -> None:
    if engine.dialect.name != "sqlite":
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
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql(_begin_statement())


def init_database(app: Flask) -> None:
    with app.app_context():
        configure_engine(db.engine)
