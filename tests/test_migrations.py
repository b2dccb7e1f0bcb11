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
            conn.exec_driver_sql(
                "INSERT INTO user_account (id, email, name, role, is_active_account, session_version, created_at, updated_at)"
                " VALUES (1, 'a@b.cn', 'A', 'employee', true, 0, '2026-11-29', '2026-11-29')"
            )
            conn.exec_driver_sql(
                "INSERT INTO ledger_entry (user_id, points, kind, reason, effective_at, created_at)"
                " VALUES (1, -5, 'forfeit', 'Left the bank', '2026-11-29', '2026-11-29')"
            )
            kinds = conn.exec_driver_sql("SELECT kind FROM ledger_entry").scalars().all()
            scopes = {c["name"] for c in sa.inspect(conn).get_check_constraints("integration")}
        db.engine.dispose()
    assert kinds == ["forfeit"]
    assert "ck_integration_scope" in scopes
