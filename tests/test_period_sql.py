"""Period keys computed by the database agree with periods.period_keys, in every kind of zone."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from pointsapp import period_sql
from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime
from pointsapp.periods import PERIODS, period_keys

UTC = dt.timezone.utc
ZONES = (
    "Asia/Shanghai",  # no daylight saving time now, some in its history
    "Europe/London",
    "America/New_York",
    "America/St_Johns",  # half-hour offset with daylight saving time
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # moves by half an hour
    "Pacific/Apia",  # skipped a whole day at the end of 2011
)
FIRST, LAST = dt.datetime(2010, 12, 1, tzinfo=UTC), dt.datetime(2027, 1, 10, tzinfo=UTC)


def _moments(spans) -> list[dt.datetime]:
    """Random moments (with microseconds), each transition and a second either side, and every year's edges."""
    rng = random.Random(15)
    span = (LAST - FIRST).total_seconds()
    moments = [FIRST + dt.timedelta(seconds=rng.random() * span) for _ in range(400)]
    for since, _offset in spans[1:]:
        moments += [since - dt.timedelta(seconds=1), since, since + dt.timedelta(seconds=1), since + dt.timedelta(minutes=30)]
    for year in range(2011, 2027):
        for day in (dt.datetime(year - 1, 12, 28, tzinfo=UTC) + dt.timedelta(hours=h) for h in range(0, 9 * 24, 5)):
            moments.append(day)
    return [m for m in moments if FIRST <= m <= LAST]


@pytest.fixture()
def probe():
    table = sa.Table("probe_moment", sa.MetaData(), sa.Column("moment", UTCDateTime), prefixes=["TEMPORARY"])
    connection = db.session.connection()
    table.create(connection)
    yield table, connection
    table.drop(connection)
    db.session.rollback()


@pytest.mark.parametrize("zone", ZONES)
def test_sql_period_keys_match_python_at_random_moments_transitions_and_year_ends(probe, zone):
    table, connection = probe
    tz = ZoneInfo(zone)
    spans = period_sql.offsets(FIRST, LAST, tz)
    moments = _moments(spans)
    connection.execute(table.insert(), [{"moment": m} for m in moments])
    dialect = connection.dialect.name
    day = period_sql.local_day("moment", spans, dialect)
    keys = ", ".join(period_sql.period_key_sql(period, "day", dialect) for period in PERIODS)
    rows = connection.execute(
        sa.text(f"SELECT moment, {keys} FROM (SELECT moment, {day} AS day FROM probe_moment) AS local_days")
    )
    checked = 0
    for moment, *sql_keys in rows:
        moment = moment if isinstance(moment, dt.datetime) else dt.datetime.fromisoformat(moment)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        expected = period_keys(moment, tz)
        assert dict(zip(PERIODS, sql_keys)) == expected, (zone, moment)
        checked += 1
    assert checked == len(moments)


def test_offsets_find_each_daylight_saving_change_to_the_second():
    spans = period_sql.offsets(
        dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 12, 31, tzinfo=UTC), ZoneInfo("Europe/London")
    )
    assert spans == [
        (None, 0),
        (dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 3600),
        (dt.datetime(2026, 10, 25, 1, 0, tzinfo=UTC), 0),
    ]
    assert period_sql.offsets(
        dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 12, 31, tzinfo=UTC), ZoneInfo("Asia/Shanghai")
    ) == [(None, 28800)]
