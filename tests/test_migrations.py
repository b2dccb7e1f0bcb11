"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from pointsapp.extensions import db
from tests.conftest import DATABASE_URL, ON_POSTGRES, make_test_app


@pytest.fixture()
def empty_database_url(tmp_path):
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"pa_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield DATABASE_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_migrations_produce_exactly_the_models_schema(empty_database_url):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_migrations_create_the_check_constraints_the_ledger_relies_on(empty_database_url):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        inspector = sa.inspect(db.engine)
        checks = {
            c["name"] for table in ("wallet", "ledger_entry", "hold", "reward") for c in inspector.get_check_constraints(table)
        }
        uniques = {c["name"] for c in inspector.get_unique_constraints("idempotency_record")}
        db.engine.dispose()
    assert {
        "ck_wallet_held_not_negative",
        "ck_ledger_entry_points_not_zero",
        "ck_hold_points_positive",
        "ck_reward_stock_not_negative",
    } <= checks
    assert "uq_idempotency_caller_key" in uniques


def test_the_identity_migration_lets_the_ledger_record_a_forfeit(empty_database_url):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.begin() as conn:
            _insert_user(conn, 1)
            conn.exec_driver_sql(
                "INSERT INTO ledger_entry (user_id, points, kind, reason, effective_at, created_at)"
                " VALUES (1, -5, 'forfeit', 'Left the bank', '2026-11-29', '2026-11-29')"
            )
            kinds = conn.exec_driver_sql("SELECT kind FROM ledger_entry").scalars().all()
            scopes = {c["name"] for c in sa.inspect(conn).get_check_constraints("integration")}
        db.engine.dispose()
    assert kinds == ["forfeit"]
    assert "ck_integration_scope" in scopes


def _index_definitions(conn) -> dict[str, str]:
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    else:
        rows = conn.exec_driver_sql("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()")
    return {name: definition for name, definition in rows}


def _insert_user(conn, user_id: int) -> None:
    """An employee row written as any revision's schema takes it (the columns every revision has)."""
    conn.exec_driver_sql(
        "INSERT INTO user_account (id, email, name, role, is_active_account, session_version, created_at, updated_at)"
        f" VALUES ({user_id}, 'u{user_id}@b.cn', 'U', 'employee', true, 0, '2026-11-29', '2026-11-29')"
    )


def _insert_entry(conn, **values) -> None:
    row = {
        "user_id": 1,
        "points": 5,
        "kind": "manual_award",
        "reason": "r",
        "effective_at": "2026-11-29",
        "created_at": "2026-11-29",
    }
    row.update(values)
    columns = ", ".join(row)
    conn.execute(sa.text(f"INSERT INTO ledger_entry ({columns}) VALUES ({', '.join(':' + c for c in row)})"), row)


def test_the_write_path_indexes_hold_only_rows_with_a_value_and_keep_their_uniqueness(empty_database_url):
    from flask_migrate import downgrade

    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as conn:
            _insert_user(conn, 1)
            conn.exec_driver_sql(
                "INSERT INTO hold (id, user_id, points, status, reason, created_at) VALUES (7, 1, 5, 'captured', 'r', '2026-11-29')"
            )
            _insert_entry(conn, id=1)
            _insert_entry(conn, id=2, dedupe_key="period_bonus:1:2026-Q3")
            _insert_entry(conn, id=3, points=-5, kind="redemption", hold_id=7)
            _insert_entry(conn, id=4, points=-5, kind="reversal", reverses_id=1)
            conn.exec_driver_sql(
                "INSERT INTO period_total (user_id, period, period_key, points) VALUES (1, 'week', '2026-W48', 5)"
            )
        upgrade(revision="0014")  # the user's notification index changed again in 0015
        with db.engine.begin() as conn:
            definitions = _index_definitions(conn)
            kept = conn.exec_driver_sql("SELECT id, dedupe_key, hold_id, reverses_id FROM ledger_entry ORDER BY id").all()
            rollups = conn.exec_driver_sql("SELECT user_id, period, period_key, points FROM period_total").all()
            rollup_table = (
                conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'period_total'").scalar()
                if conn.dialect.name == "sqlite"
                else None
            )
        refused = []
        for values in (
            {"id": 5, "dedupe_key": "period_bonus:1:2026-Q3"},
            {"id": 6, "points": -5, "kind": "redemption", "hold_id": 7},
            {"id": 7, "points": -5, "kind": "reversal", "reverses_id": 1},
        ):
            try:
                with db.engine.begin() as conn:
                    _insert_entry(conn, **values)
            except sa.exc.IntegrityError:
                refused.append(values["id"])
        with db.engine.begin() as conn:  # any number of entries without a key, a hold or a reversal
            _insert_entry(conn, id=8)
            _insert_entry(conn, id=9, dedupe_key="period_bonus:1:2026-Q4")
            count = conn.exec_driver_sql("SELECT count(*) FROM ledger_entry").scalar()
        downgrade(revision="0012")
        with db.engine.connect() as conn:
            back = conn.exec_driver_sql("SELECT count(*) FROM ledger_entry").scalar()
            old_definitions = _index_definitions(conn)
        db.engine.dispose()
    partial = {
        "uq_ledger_entry_user_dedupe": "dedupe_key IS NOT NULL",
        "uq_ledger_entry_hold_id": "hold_id IS NOT NULL",
        "uq_ledger_entry_reverses_id": "reverses_id IS NOT NULL",
        "ix_ledger_entry_corrects_id": "corrects_id IS NOT NULL",
        "ix_ledger_entry_cause_event_id": "cause_event_id IS NOT NULL",
        "ix_event_related_event_id": "related_event_id IS NOT NULL",
    }
    for name, condition in partial.items():
        assert condition in definitions[name].replace("(", "").replace(")", ""), definitions[name]
    assert "UNIQUE" in definitions["uq_ledger_entry_hold_id"].upper()
    assert "ix_notification_user_id" not in definitions and "ix_notification_user_created" in definitions
    assert kept == [(1, None, None, None), (2, "period_bonus:1:2026-Q3", None, None), (3, None, 7, None), (4, None, None, 1)]
    assert rollups == [(1, "week", "2026-W48", 5)]
    if rollup_table is not None:
        assert rollup_table.rstrip().endswith("WITHOUT ROWID")
    assert refused == [5, 6, 7]
    assert count == 6 and back == 6
    assert "ix_notification_user_id" in old_definitions and "WHERE" not in old_definitions.get("ix_ledger_entry_corrects_id", "")


def _rollup_key(conn: sa.Connection) -> list[str]:
    return sa.inspect(conn).get_pk_constraint("period_total")["constrained_columns"]


def test_the_rollups_are_keyed_period_first_and_keep_their_rows_and_uniqueness(empty_database_url):
    from flask_migrate import downgrade

    rows = [(1, "week", "2026-W48", 5), (1, "month", "2026-11", 5), (2, "week", "2026-W48", -3), (2, "year", "2026", 9)]
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            for user_id in (1, 2):
                _insert_user(conn, user_id)
            conn.execute(
                sa.text("INSERT INTO period_total (user_id, period, period_key, points) VALUES (:u, :p, :k, :v)"),
                [{"u": u, "p": p, "k": k, "v": v} for u, p, k, v in rows],
            )
            before = _rollup_key(conn)
        upgrade()
        with db.engine.begin() as conn:
            after = _rollup_key(conn)
            kept = sorted(conn.exec_driver_sql("SELECT user_id, period, period_key, points FROM period_total").all())
            board = {index["name"] for index in sa.inspect(conn).get_indexes("period_total")}
            ddl = (
                conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'period_total'").scalar()
                if conn.dialect.name == "sqlite"
                else ""
            )
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO period_total (user_id, period, period_key, points) VALUES (1, 'week', '2026-W48', 1)"
            )
        downgrade(revision="0013")
        with db.engine.connect() as conn:
            back = _rollup_key(conn)
            kept_back = sorted(conn.exec_driver_sql("SELECT user_id, period, period_key, points FROM period_total").all())
        db.engine.dispose()
    assert before == ["user_id", "period", "period_key"] and back == before
    assert after == ["period", "period_key", "user_id"]
    assert kept == sorted(rows) and kept_back == sorted(rows)
    assert "ix_period_total_board" in board
    assert ddl == "" or ddl.rstrip().endswith("WITHOUT ROWID")


def test_the_unread_count_reads_the_users_notification_index_alone(empty_database_url):
    """0015: read_at joins the user's notification index; the rows stay and the count reads no table row."""
    from flask_migrate import downgrade

    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    unread = "SELECT count(*) FROM notification WHERE user_id = 1 AND read_at IS NULL"
    with app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            _insert_user(conn, 1)
            for n, read_at in enumerate((None, None, "2026-11-30 01:00:00", None)):
                conn.execute(
                    sa.text(
                        "INSERT INTO notification (id, user_id, kind, template, params, url, status, attempts, created_at, read_at)"
                        " VALUES (:id, 1, 'award', 'points_awarded', '{}', '/wallet', 'queued', 0, :at, :read_at)"
                    ),
                    {"id": n + 1, "at": f"2026-11-29 0{n}:00:00", "read_at": read_at},
                )
            count_before = conn.exec_driver_sql(unread).scalar()
        upgrade()
        with db.engine.begin() as conn:
            definitions = _index_definitions(conn)
            columns = {index["name"]: index["column_names"] for index in sa.inspect(conn).get_indexes("notification")}
            count_after = conn.exec_driver_sql(unread).scalar()
            plan = (
                " ".join(str(row) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + unread))
                if conn.dialect.name == "sqlite"
                else None
            )
        downgrade(revision="0014")
        with db.engine.connect() as conn:
            old_columns = {index["name"]: index["column_names"] for index in sa.inspect(conn).get_indexes("notification")}
            count_back = conn.exec_driver_sql(unread).scalar()
        db.engine.dispose()
    assert columns["ix_notification_user_created_read"] == ["user_id", "created_at", "read_at"]
    assert "ix_notification_user_created" not in definitions
    assert count_before == count_after == count_back == 3
    if plan is not None:
        assert "COVERING INDEX ix_notification_user_created_read" in plan
    assert old_columns["ix_notification_user_created"] == ["user_id", "created_at"]
    assert "ix_notification_user_created_read" not in old_columns


def test_the_rollups_are_vacuumed_after_a_fiftieth_of_them_changed_on_postgresql(empty_database_url):
    """0016 sets period_total's autovacuum thresholds on PostgreSQL, and resets them going back; SQLite has none to set."""
    from flask_migrate import downgrade

    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    read = "SELECT reloptions FROM pg_class WHERE relname = 'period_total'"
    with app.app_context():
        upgrade(revision="0016")
        with db.engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            after = conn.exec_driver_sql(read).scalar() if postgres else None
            head = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        downgrade(revision="0015")
        with db.engine.connect() as conn:
            back = conn.exec_driver_sql(read).scalar() if postgres else None
            previous = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        db.engine.dispose()
    assert head == "0016" and previous == "0015"
    if postgres:
        assert sorted(after) == ["autovacuum_analyze_scale_factor=0.02", "autovacuum_vacuum_scale_factor=0.02"]
        assert back is None
