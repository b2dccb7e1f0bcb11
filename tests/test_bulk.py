"""Bulk inserts of an ingestion batch: the rows stored as the ORM stores them, ids that name the stored rows."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp import bulk, earning, ledger, notify
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, Notification, PeriodTotal, User, Wallet
from tests.conftest import ON_POSTGRES

UTC = dt.timezone.utc
WHOLE_SECOND = dt.datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # a time the driver alone would write without microseconds


def _as_text(table: sa.Table, row_id: int, columns: tuple[str, ...]) -> tuple:
    """The row as the database holds it, every column read as text (no type conversion on the way back)."""
    picked = [sa.cast(table.c[name], sa.Text) for name in columns]
    return db.session.execute(sa.select(*picked).where(table.c.id == row_id)).one()


def test_bulk_rows_are_stored_exactly_as_the_orm_stores_the_same_values(org):
    """SQLite: the compiled rows; PostgreSQL: one array per column. Either way the text stored is the ORM's."""
    moment = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # the same instant, at +08:00
    orm = Event(
        source="test",
        external_id="orm",
        type="loan_signed",
        user_id=org.alice.id,
        occurred_at=WHOLE_SECOND,
        quantity=2,
        participants=[org.bob.id],
        payload_hash="h",
        created_at=WHOLE_SECOND,
    )
    db.session.add(orm)
    db.session.flush()
    item = earning.parse_event(
        {
            "external_id": "bulk",
            "type": "loan_signed",
            "user_id": org.alice.id,
            "occurred_at": moment.isoformat(),
            "quantity": 2,
            "participants": [org.bob.id],
        }
    )
    item.__dict__["payload_hash"] = "h"  # the same hash as the ORM row, to compare every column
    ids = earning._insert_events([(0, item)], "test", None, {"bulk": None}, WHOLE_SECOND)
    compared = ("occurred_at", "quantity", "participants", "payload_hash", "created_at", "user_id")
    by_orm, by_bulk = _as_text(Event.__table__, orm.id, compared), _as_text(Event.__table__, ids["bulk"], compared)
    assert by_bulk == by_orm and by_orm[0].startswith("2026-11-20 01:00:00")
    # Read back through the model, the bulk row is the same aware UTC time.
    db.session.expire_all()
    assert db.session.get(Event, ids["bulk"]).occurred_at == WHOLE_SECOND


def test_json_values_given_as_arrays_are_stored_as_the_orm_stores_them(org):
    """Notifications' parameters (a dict, an empty one, a text with quotes and Chinese, None) through ``Many.insert``."""
    params = [{"points": 5, "reason": '他说 "好"; a\\b'}, {}, {"nested": [1, {"x": None}]}, None]
    by_orm = []
    for value in (params[0], params[3]):
        orm = Notification(user_id=org.alice.id, kind="award", template="points_awarded", params=value, created_at=WHOLE_SECOND)
        db.session.add(orm)
        db.session.flush()
        by_orm.append(_as_text(Notification.__table__, orm.id, ("params",)))
    stored = notify._NOTIFICATION_ROWS.execute(
        [(org.bob.id, "award", "points_awarded", value, "/wallet", "queued", 0, WHOLE_SECOND) for value in params]
    )
    assert stored == 4
    rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == org.bob.id).order_by(Notification.id)).all()
    assert [row.params for row in rows] == params
    assert [row.url for row in rows] == ["/wallet"] * 4 and all(row.created_at == WHOLE_SECOND for row in rows)
    by_bulk = [_as_text(Notification.__table__, rows[i].id, ("params",)) for i in (0, 3)]
    assert by_bulk == by_orm


def test_among_finds_the_same_rows_as_in_with_many_values_or_none(org):
    everyone = set(db.session.scalars(sa.select(User.id)))
    asked = sorted(everyone)[:2] + [10**9]  # one that is not there
    found = set(db.session.scalars(sa.select(User.id).where(bulk.among(User.id, asked))))
    assert found == set(sorted(everyone)[:2])
    assert set(db.session.scalars(sa.select(User.id).where(bulk.among(User.id, [])))) == set()
    assert set(db.session.scalars(sa.select(User.id).where(bulk.among(User.id, range(1, 5001))))) == {
        u for u in everyone if u <= 5000
    }


def test_new_ids_are_ascending_and_free(org):
    ledger.post(org.alice.id, 5, kind="manual_award", reason="one entry before")
    first = bulk.new_ids(LedgerEntry.__table__, 3)
    assert first == sorted(first) and len(set(first)) == 3 and bulk.new_ids(LedgerEntry.__table__, 0) == []
    assert min(first) > max(db.session.scalars(sa.select(LedgerEntry.id)))
    if ON_POSTGRES:  # taken from the sequence: never handed out again
        assert not set(first) & set(bulk.new_ids(LedgerEntry.__table__, 3))


def test_post_many_answers_the_ids_of_the_entries_it_stored_in_order(org):
    versions = dict(db.session.execute(sa.select(Wallet.user_id, Wallet.version)).all())
    postings = [
        ledger.Posting(org.alice.id, 5, "manual_award", "first"),
        ledger.Posting(org.bob.id, 7, "manual_award", "second"),
        ledger.Posting(org.alice.id, -2, "manual_deduction", "third"),
    ]
    answered = ledger.post_many(postings)
    rows = {e.id: (e.user_id, e.points, e.reason) for e in db.session.scalars(sa.select(LedgerEntry))}
    assert [(e.user_id, e.points, e.kind, e.reason) for e in answered] == [
        (p.user_id, p.points, p.kind, p.reason) for p in postings
    ]
    assert [rows[e.id] for e in answered] == [(p.user_id, p.points, p.reason) for p in postings]
    assert [e.id for e in answered] == sorted(e.id for e in answered)
    # One wallet update per user for the batch: its sum, and the version one further (a value the statement fixes).
    db.session.expire_all()
    alice, bob = db.session.get(Wallet, org.alice.id), db.session.get(Wallet, org.bob.id)
    assert (alice.balance, bob.balance) == (3, 7)
    assert (alice.version, bob.version) == (versions[org.alice.id] + 1, versions[org.bob.id] + 1)


def test_a_dialect_with_named_parameters_is_refused_rather_than_given_rows_in_the_wrong_order():
    from sqlalchemy.dialects.postgresql import psycopg

    insert = bulk.Many(sa.insert(Notification.__table__), ("user_id", "kind"))
    with pytest.raises(ValueError, match="named parameters"):
        insert._for(psycopg.dialect())


def test_post_many_puts_each_entry_in_the_periods_post_would(org):
    """Moments around Shanghai's midnight, a week's, a quarter's and a year's turn: the same rollups as ``post``."""
    utc, shanghai = dt.timezone.utc, dt.timezone(dt.timedelta(hours=8))
    moments = [
        dt.datetime(2026, 12, 31, 15, 59, 59, tzinfo=utc),  # 23:59:59 on 31 December in Shanghai
        dt.datetime(2026, 12, 31, 16, 0, tzinfo=utc),  # 1 January in Shanghai
        dt.datetime(2026, 11, 29, 23, 59, tzinfo=shanghai),  # Sunday night: week 48
        dt.datetime(2026, 11, 30, 0, 0, tzinfo=shanghai),  # Monday: week 49
        dt.datetime(2026, 9, 30, 16, 14, tzinfo=utc),  # 1 October 00:14 in Shanghai, Q4
        dt.datetime(2026, 9, 30, 15, 46, tzinfo=utc),  # 30 September 23:46, Q3
    ]
    ledger.post_many(
        [ledger.Posting(org.alice.id, n + 1, "manual_award", "batch", effective_at=m) for n, m in enumerate(moments)]
    )
    for n, moment in enumerate(moments):
        ledger.post(org.bob.id, n + 1, kind="manual_award", reason="one by one", effective_at=moment)
    db.session.flush()
    totals = db.session.execute(sa.select(PeriodTotal.user_id, PeriodTotal.period, PeriodTotal.period_key, PeriodTotal.points))
    by_user: dict[int, dict] = {org.alice.id: {}, org.bob.id: {}}
    for user_id, period, key, points in totals:
        if user_id in by_user:
            by_user[user_id][(period, key)] = points
    assert by_user[org.alice.id] == by_user[org.bob.id]
    alice = by_user[org.alice.id]
    assert alice[("year", "2027")] == 2 and alice[("quarter", "2027-Q1")] == 2
    assert alice[("week", "2026-W53")] == 1 + 2 and alice[("week", "2026-W48")] == 3 and alice[("week", "2026-W49")] == 4
    assert alice[("quarter", "2026-Q4")] == 1 + 3 + 4 + 5 and alice[("quarter", "2026-Q3")] == 6
    assert ledger.check_ledger() == []


def test_a_lookup_reads_what_the_session_reads_with_its_fixed_values_bound_in_place(org):
    """``bulk.Lookup``: the parameter given and the one the statement fixes itself ("pending") each go where they belong."""
    notification = Notification.__table__
    lookup = bulk.Lookup(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((notification.c.status == "queued", 1), else_=0)),
        ).where(notification.c.user_id == sa.bindparam("user_id"), notification.c.kind != "nothing"),
        ("user_id",),
    )
    for status in ("queued", "queued", "sent"):
        db.session.add(Notification(user_id=org.alice.id, kind="award", template="points_awarded", status=status))
    db.session.flush()
    for user in (org.alice, org.bob):
        expected = db.session.execute(lookup.statement, {"user_id": user.id}).one()
        assert tuple(lookup.first(user.id)) == tuple(expected)
    assert tuple(lookup.first(org.alice.id)) == (3, 2)


def test_a_lookup_answers_none_when_no_row_matches(org):
    wallet = Wallet.__table__
    lookup = bulk.Lookup(sa.select(wallet.c.version).where(wallet.c.user_id == sa.bindparam("user_id")), ("user_id",))
    assert lookup.first(10**9) is None
    assert lookup.first(org.alice.id) == (db.session.get(Wallet, org.alice.id).version,)


def test_a_lookup_reads_what_the_request_added_but_had_not_yet_written(org):
    """As ``session.execute`` does, on every database: what is pending is flushed before the read."""
    lookup = bulk.Lookup(
        sa.select(sa.func.count()).where(Notification.__table__.c.user_id == sa.bindparam("user_id")), ("user_id",)
    )
    before = lookup.first(org.alice.id)[0]
    db.session.add(Notification(user_id=org.alice.id, kind="award", template="points_awarded"))
    assert lookup.first(org.alice.id)[0] == before + 1
