"""Databases built by earlier releases upgrade to exactly the models' schema and keep their data.

The initial revision 0001 was reissued twice after databases existed; the two
earlier forms are kept verbatim in ``tests/migration_history``. Each test builds
a database the way one release did (at 0001, then upgraded to any revision
before the repair in 0005), fills it, upgrades to head and compares schema and rows.
"""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from flask_migrate import stamp, upgrade

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Wallet
from pointsapp.periods import period_keys
from tests.conftest import make_test_app
from tests.test_migrations import empty_database_url  # noqa: F401 (fixture)

MOMENT = dt.datetime(2026, 11, 4, 3, 0)
REPAIR = "0005"  # the revision that brings early databases up to date
SCRIPTS = ScriptDirectory(str(Path(__file__).resolve().parents[1] / "migrations"))
BEFORE_REPAIR = sorted(
    script.revision for script in SCRIPTS.iterate_revisions(SCRIPTS.get_revision(REPAIR).down_revision, "base")
)


def _build_initial_schema(form: str) -> None:
    """Run an earlier 0001 on the app's empty database and stamp it as 0001."""
    module = importlib.import_module(f"tests.migration_history.initial_schema_{form}")
    with db.engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            module.upgrade()
    stamp(revision="0001")


def _fill(conn: sa.Connection) -> None:
    """A team, two people, points, a pending redemption with its hold, a challenge, a subscription, a notification."""
    meta = sa.MetaData()
    meta.reflect(conn)
    t = meta.tables
    now = MOMENT
    conn.execute(t["team"].insert(), [{"id": 1, "name": "Pudong branch", "created_at": now}])
    conn.execute(
        t["user_account"].insert(),
        [
            {
                "id": 1,
                "email": "hr@bank.example",
                "name": "HR",
                "role": "admin",
                "team_id": 1,
                "is_active_account": True,
                "session_version": 1,
                "created_at": now,
            },
            {
                "id": 2,
                "email": "chen@bank.example",
                "name": "陈静",
                "role": "employee",
                "team_id": 1,
                "is_active_account": True,
                "session_version": 1,
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["wallet"].insert(),
        [
            {"user_id": 1, "balance": 0, "held": 0, "lifetime_earned": 0, "updated_at": now},
            {"user_id": 2, "balance": 2_000_000_000, "held": 50, "lifetime_earned": 2_000_000_000, "updated_at": now},
        ],
    )
    conn.execute(
        t["ledger_entry"].insert(),
        [
            {
                "user_id": 2,
                "points": 1_000_000_000,
                "kind": "manual_award",
                "reason": "Loan signed",
                "actor_id": 1,
                "effective_at": now,
                "created_at": now,
            },
            {
                "user_id": 2,
                "points": 1_000_000_000,
                "kind": "manual_award",
                "reason": "Renewal",
                "actor_id": 1,
                "effective_at": now,
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["period_total"].insert(),
        [
            {"user_id": 2, "period": period, "period_key": key, "points": 2_000_000_000}
            for period, key in period_keys(MOMENT.replace(tzinfo=dt.timezone.utc)).items()
        ],
    )
    conn.execute(
        t["reward"].insert(),
        [
            {
                "id": 1,
                "name": "Paid leave day",
                "kind": "leave_day",
                "cost": 50,
                "stock": 4,
                "description": "",
                "active": True,
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["hold"].insert(),
        [{"id": 1, "user_id": 2, "points": 50, "status": "open", "reason": "Paid leave day", "created_at": now}],
    )
    conn.execute(
        t["redemption"].insert(),
        [
            {
                "id": 1,
                "user_id": 2,
                "reward_id": 1,
                "quantity": 1,
                "points": 50,
                "status": "pending",
                "hold_id": 1,
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["redemption_step"].insert(),
        [
            {"id": 1, "redemption_id": 1, "status": "requested", "actor_id": 2, "created_at": now},
        ],
    )
    conn.execute(
        t["challenge"].insert(),
        [
            {
                "id": 1,
                "team_id": 1,
                "title": "Q4 loans",
                "event_type": "loan_signed",
                "target": 10,
                "pool": 500,
                "starts_at": now,
                "ends_at": now + dt.timedelta(days=30),
                "status": "active",
                "progress": 3,
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["push_subscription"].insert(),
        [
            {
                "id": 1,
                "user_id": 2,
                "endpoint": "https://fcm.googleapis.com/fcm/send/abc",
                "p256dh": "key",
                "auth": "auth",
                "created_at": now,
            },
        ],
    )
    conn.execute(
        t["notification"].insert(),
        [
            {
                "id": 1,
                "user_id": 2,
                "kind": "award",
                "template": "award",
                "params": {"points": 5},
                "url": "/wallet",
                "status": "queued",
                "attempts": 0,
                "created_at": now,
            },
        ],
    )
    link = {"id": 1, "team_id": 1, "token_hash": "0" * 64, "created_by_id": 1, "created_at": now}
    if "label" in t["board_link"].c:  # the second form of 0001 has it
        link["label"] = ""
    conn.execute(t["board_link"].insert(), [link])


def _snapshot(conn: sa.Connection) -> dict[str, list[dict]]:
    meta = sa.MetaData()
    meta.reflect(conn)
    return {
        name: [dict(row._mapping) for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))]
        for name, table in meta.tables.items()
        if name != "alembic_version"
    }


@pytest.mark.parametrize("form", ["a", "b"])
@pytest.mark.parametrize("at", BEFORE_REPAIR)
def test_an_early_database_upgrades_to_the_models_schema_and_keeps_its_data(empty_database_url, form, at):  # noqa: F811
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        _build_initial_schema(form)
        if at != "0001":
            upgrade(revision=at)
        with db.engine.begin() as conn:
            _fill(conn)
            before = _snapshot(conn)

        upgrade()

        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
            after = _snapshot(conn)
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
        inspector = sa.inspect(db.engine)
        checks = {
            c["name"]
            for table in ("wallet", "ledger_entry", "hold", "reward", "redemption_step")
            for c in inspector.get_check_constraints(table)
        }

        assert diff == []
        assert version == SCRIPTS.get_current_head()
        for table, rows in before.items():
            if table == "rule":
                continue  # seeded by 0002 and given Chinese names by 0004's data migration: not the test's data
            assert [{k: row[k] for k in old} for row, old in zip(after[table], rows)] == rows, table
        assert after["board_link"][0]["label"] == ""
        assert after["redemption"][0]["request_token"] is None
        assert {
            "ck_wallet_held_not_negative",
            "ck_ledger_entry_points_not_zero",
            "ck_hold_points_positive",
            "ck_reward_stock_not_negative",
            "ck_redemption_step_status",
        } <= checks

        # The upgraded ledger is whole, and now holds a balance past 32 bits.
        assert ledger.check_ledger() == []
        ledger.post(
            2,
            ledger.MAX_ENTRY_POINTS,
            kind="manual_award",
            reason="Syndicated loan",
            effective_at=dt.datetime.now(dt.timezone.utc),
        )
        db.session.commit()
        assert db.session.get(Wallet, 2).balance == 3_000_000_000
        assert ledger.check_ledger() == []
        db.session.remove()
        db.engine.dispose()


def test_the_repair_changes_nothing_on_a_database_built_from_the_current_initial_schema(empty_database_url):  # noqa: F811
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision=BEFORE_REPAIR[-1])
        with db.engine.connect() as conn:
            ddl_before = _snapshot_schema(conn)
        upgrade(revision=REPAIR)
        with db.engine.connect() as conn:
            ddl_after = _snapshot_schema(conn)
        db.engine.dispose()
    assert ddl_after == ddl_before


def _snapshot_schema(conn: sa.Connection) -> dict:
    inspector = sa.inspect(conn)
    return {
        table: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            sorted(i["name"] for i in inspector.get_indexes(table)),
        )
        for table in inspector.get_table_names()
        if table != "alembic_version"
    }
