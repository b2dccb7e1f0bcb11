"""Period keys computed by the database, for checks that sum millions of entries.

``periods.period_keys`` decides in Python which week, month, quarter and year a
moment belongs to; summing two million entries through it takes minutes. Here
the same keys are SQL expressions, so that a ``GROUP BY`` does the work.

The local time is the UTC time plus the zone's offset, and the offsets come
from the same ``zoneinfo`` data Python uses (not the database's own time zone
tables, which may be another tzdata release): the zone's transitions between
the first and last moment are found in Python and become a ``CASE`` on the
column. Tests compare every key with ``period_keys`` across zones with and
without daylight saving time, on both databases.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

HOUR = dt.timedelta(hours=1)


def offsets(first: dt.datetime, last: dt.datetime, tz: ZoneInfo) -> list[tuple[dt.datetime | None, int]]:
    """The zone's UTC offset (seconds) over [first, last]: (from this UTC moment on, offset), oldest first.

    The first item's moment is None (it holds from the beginning). Offsets
    are probed hour by hour and each change pinned to the second by bisection;
    zones do not change twice within an hour.
    """

    def offset_at(moment: dt.datetime) -> int:
        return int(moment.astimezone(tz).utcoffset().total_seconds())

    moment = first.astimezone(dt.timezone.utc).replace(microsecond=0)
    end = last.astimezone(dt.timezone.utc)
    found: list[tuple[dt.datetime | None, int]] = [(None, offset_at(moment))]
    while moment < end:
        step = min(moment + HOUR, end.replace(microsecond=0) + dt.timedelta(seconds=1))
        if offset_at(step) != found[-1][1]:
            low, high = moment, step  # the offset at low is the old one, at high the new one
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if offset_at(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high, offset_at(high)))
        moment = step
    return found


def _offset_case(column: str, spans: list[tuple[dt.datetime | None, int]], dialect: str) -> str:
    """A CASE giving each row's offset: the last transition at or before the moment decides."""
    if len(spans) == 1:
        return str(spans[0][1])
    parts = ["CASE"]
    for (_since, offset), (until, _next) in zip(spans, spans[1:]):
        parts.append(f"WHEN {column} < {_literal(until, dialect)} THEN {offset}")
    parts.append(f"ELSE {spans[-1][1]} END")
    return " ".join(parts)


def _literal(moment: dt.datetime, dialect: str) -> str:
    """A UTC moment as the column stores it (SQLite: naive text that sorts as time does)."""
    moment = moment.astimezone(dt.timezone.utc)
    if dialect == "postgresql":
        return f"TIMESTAMPTZ '{moment.strftime('%Y-%m-%d %H:%M:%S')}+00'"
    return f"'{moment.strftime('%Y-%m-%d %H:%M:%S.%f')}'"


def local_day(column: str, spans: list[tuple[dt.datetime | None, int]], dialect: str) -> str:
    """The local calendar day of a UTC timestamp column: its midnight (a plain timestamp) on PostgreSQL, 'YYYY-MM-DD' on SQLite."""
    offset = _offset_case(column, spans, dialect)
    if dialect == "postgresql":
        return f"date_trunc('day', ({column} AT TIME ZONE 'UTC') + make_interval(secs => {offset}))"
    return f"date({column}, printf('%+d seconds', {offset}))"


def period_key_sql(period: str, day: str, dialect: str) -> str:
    """The key of the week, month, quarter or year of a local day expression (as ``periods.period_key``)."""
    if dialect == "postgresql":
        pattern = {"week": 'IYYY-"W"IW', "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q', "year": "YYYY"}[period]
        return f"to_char({day}, '{pattern}')"
    if period == "year":
        return f"substr({day}, 1, 4)"
    if period == "month":
        return f"substr({day}, 1, 7)"
    if period == "quarter":
        return f"substr({day}, 1, 4) || '-Q' || ((CAST(substr({day}, 6, 2) AS INTEGER) + 2) / 3)"
    # ISO week: the week (and its year) of the Thursday of the Monday-to-Sunday week the day is in.
    thursday = f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days', '+3 days')"
    return f"strftime('%Y', {thursday}) || '-W' || printf('%02d', (CAST(strftime('%j', {thursday}) AS INTEGER) - 1) / 7 + 1)"
