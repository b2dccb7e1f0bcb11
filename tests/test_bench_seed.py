"""seed-bench: a bank-sized organisation from bulk inserts, checked small (100 users)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from pointsapp import auth, bench_seed, ledger
from pointsapp.earning import EventInput
from pointsapp.extensions import db
from pointsapp.models import Event, Hold, Integration, LedgerEntry, PeriodTotal, Redemption, Rule, Team, User, Wallet
from pointsapp.periods import utcnow
from tests.conftest import ApiClient, login, make_test_app
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)


def _seed(cli, users=100, months=3):
    result = cli.invoke(args=["seed-bench", "--users", str(users), "--months", str(months)])
    assert result.exit_code == 0, result.output
    return result


def test_seed_bench_builds_an_organisation_whose_ledger_checks(cli):
    result = _seed(cli)
    assert "Seeded 100 users in 8 teams" in result.output
    assert ledger.check_ledger() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "lead")) == 8
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.role == "admin")) == 1
    # company → branches → teams
    branches = db.session.scalars(sa.select(Team).where(Team.parent_id.is_not(None), Team.name.like("Branch%"))).all()
    assert len(branches) == 2
    events = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    assert events > 1000 and entries > 1000
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Wallet)) == 101
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeriodTotal)) > 100


def test_every_seeded_event_pays_exactly_its_rule(cli):
    _seed(cli)
    paid = db.session.execute(
        sa.select(Event.id, Rule.points, sa.func.sum(LedgerEntry.points))
        .join(Rule, Rule.id == Event.rule_id)
        .join(LedgerEntry, LedgerEntry.event_id == Event.id)
        .group_by(Event.id, Rule.points)
    ).all()
    assert paid and all(rule_points == total for _, rule_points, total in paid)
    shared = db.session.scalar(
        sa.select(sa.func.count()).select_from(LedgerEntry).where(LedgerEntry.reason.like("%(share 1 of 2 of%"))
    )
    assert shared > 0


def test_seeded_activity_is_skewed_toward_a_few_stars(cli):
    _seed(cli)
    earned = sorted(db.session.scalars(sa.select(Wallet.lifetime_earned).where(Wallet.lifetime_earned > 0)), reverse=True)
    top_tenth = sum(earned[: len(earned) // 10])
    assert top_tenth > sum(earned) * 0.2  # an even spread would give the top tenth a tenth
    assert earned[0] > 4 * earned[len(earned) // 2]


def test_seeded_redemptions_hold_or_spend_their_points(cli):
    _seed(cli, users=200, months=6)
    redemptions = db.session.scalars(sa.select(Redemption)).all()
    assert {r.status for r in redemptions} == {"approved", "pending"}
    for redemption in redemptions:
        hold = db.session.get(Hold, redemption.hold_id)
        assert hold.points == redemption.points
        spent = db.session.scalar(sa.select(LedgerEntry.points).where(LedgerEntry.hold_id == hold.id))
        assert (hold.status, spent) == (("open", None) if redemption.status == "pending" else ("captured", -redemption.points))


def test_a_seeded_user_signs_in_and_sees_their_wallet_and_rank(app, cli):
    _seed(cli)
    user = db.session.scalar(sa.select(User).where(User.role == "employee").order_by(User.id))
    wallet = db.session.get(Wallet, user.id)
    client = login(app.test_client(), user, bench_seed.PASSWORD)
    page = client.get("/wallet").get_data(as_text=True)
    assert f"{wallet.balance - wallet.held:,}" in page
    api = ApiClient(app, auth.issue_token(user=user))
    db.session.commit()
    board = api.get("/leaderboard?period=year")
    assert board.status_code == 200
    assert board.json["me"]["points"] == db.session.scalar(
        sa.select(PeriodTotal.points)
        .where(PeriodTotal.user_id == user.id, PeriodTotal.period == "year")
        .order_by(PeriodTotal.period_key.desc())
    )


def test_after_seeding_new_ids_follow_the_seeded_ones_and_replays_are_duplicates(app, cli):
    _seed(cli)
    integration = db.session.scalar(sa.select(Integration))
    seeded = db.session.scalar(sa.select(Event).where(Event.source == f"integration:{integration.id}").order_by(Event.id))
    crm = ApiClient(app, auth.issue_token(integration=integration))
    db.session.commit()
    replay = {
        "external_id": seeded.external_id,
        "type": seeded.type,
        "user_id": seeded.user_id,
        "occurred_at": seeded.occurred_at.isoformat(),
        "participants": seeded.participants,
    }
    fresh = {
        "external_id": "after-seed-1",
        "type": "loan_signed",
        "user_id": seeded.user_id,
        "occurred_at": seeded.occurred_at.isoformat(),
    }
    response = crm.post("/events", {"events": [replay, fresh]})
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    statuses = [item["status"] for item in response.json["items"]]
    assert statuses == ["duplicate", "created"]
    assert response.json["items"][1]["id"] > seeded.id


def test_seed_bench_leaves_a_database_with_users_alone(cli):
    _seed(cli)
    again = cli.invoke(args=["seed-bench", "--users", "100"])
    assert again.exit_code == 0
    assert "already has users; nothing seeded" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 101


def _schema() -> list[tuple]:
    """Every index, constraint and table definition, as the database reports them."""
    if db.engine.dialect.name == "postgresql":
        return sorted(
            db.session.execute(
                sa.text(
                    "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                    "UNION ALL SELECT 'constraint', c.conrelid::regclass::text || '.' || c.conname, pg_get_constraintdef(c.oid) "
                    "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema()"
                )
            ).all()
        )
    return sorted(db.session.execute(sa.text("SELECT type, name, sql FROM sqlite_master")).all(), key=repr)


def test_seeding_leaves_every_index_and_constraint_as_it_found_them(cli):
    before = _schema()
    db.session.remove()
    _seed(cli)
    after = _schema()
    assert any("ix_ledger_entry_user_created" in repr(row) for row in after)
    assert after == before
    if db.engine.dialect.name == "sqlite":  # foreign keys were not enforced row by row while seeding
        assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    else:  # the foreign keys were dropped for the load and validated when added back
        orphans = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(LedgerEntry)
            .outerjoin(Event, Event.id == LedgerEntry.event_id)
            .where(LedgerEntry.event_id.is_not(None), Event.id.is_(None))
        )
        assert orphans == 0


def test_seeded_events_carry_the_payload_hash_ingestion_would_compute(cli):
    _seed(cli)
    events = db.session.scalars(sa.select(Event)).all()
    assert len(events) > 1000
    for event in events:
        item = EventInput(event.external_id, event.type, event.user_id, event.occurred_at, event.quantity, event.participants)
        assert event.payload_hash == item.payload_hash, event.external_id


def test_seeded_timestamps_read_back_as_utc_moments_in_the_seeded_span(cli):
    _seed(cli, months=3)
    now = utcnow()
    rows = db.session.execute(
        sa.select(Event.occurred_at, Event.created_at, LedgerEntry.effective_at, LedgerEntry.created_at).join(
            LedgerEntry, LedgerEntry.event_id == Event.id
        )
    ).all()
    assert rows
    for occurred, created, effective, entered in rows:
        assert occurred.tzinfo is not None and now - dt.timedelta(days=91) < occurred < now
        assert effective == occurred
        assert created - occurred == dt.timedelta(minutes=1) and entered - occurred == dt.timedelta(minutes=2)


def test_event_stamps_carry_over_midnight_in_the_databases_own_text():
    utc = dt.timezone.utc
    first = int(dt.datetime(2026, 2, 1, tzinfo=utc).timestamp())
    clock = bench_seed._Clock(first, first + 60 * 86_400, "sqlite")
    late = int(dt.datetime(2026, 3, 1, 23, 59, 30, tzinfo=utc).timestamp())
    assert clock.event_stamps(late) == (
        "2026-03-01 23:59:30.000000",
        "2026-03-02 00:00:30.000000",
        "2026-03-02 00:01:30.000000",
        "2026-03-01T23:59:30.000000+00:00",
    )
    on_postgres = bench_seed._Clock(first, first + 60 * 86_400, "postgresql")
    assert on_postgres.event_stamps(late - 3600)[:3] == (
        "2026-03-01 22:59:30.000000+00",
        "2026-03-01 23:00:30.000000+00",
        "2026-03-01 23:01:30.000000+00",
    )


def test_a_migrated_database_keeps_exactly_the_migrations_schema_after_seeding(empty_database_url):
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        migrated = _schema()
        db.session.remove()
        result = app.test_cli_runner().invoke(args=["seed-bench", "--users", "30", "--months", "1"])
        assert result.exit_code == 0, result.output
        assert "Seeded 30 users" in result.output
        assert _schema() == migrated
        assert ledger.check_ledger() == []
        if db.engine.dialect.name == "sqlite":  # seeded through a rollback journal, left in WAL mode as migrated
            assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert db.session.execute(sa.text("PRAGMA foreign_key_check")).all() == []
        db.session.remove()  # SQLite: the session's transaction holds the write lock
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
        db.engine.dispose()
    assert diff == []
