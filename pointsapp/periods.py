"""Period keys (week, month, quarter, year) in the organisation's time zone.

Timestamps are stored in UTC; which week or month a moment belongs to is
decided in ``POINTSAPP_TIMEZONE``. Keys are strings: ``2026-W48`` (ISO week),
``2026-11``, ``2026-Q4``, ``2026``.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

from pointsapp.models.types import utcnow  # noqa: F401  (one clock for the whole app)

PERIODS = ("week", "month", "quarter", "year")
_KEY_KINDS = (
    ("week", re.compile(r"^\d{4}-W\d{2}$")),
    ("month", re.compile(r"^\d{4}-\d{2}$")),
    ("quarter", re.compile(r"^\d{4}-Q[1-4]$")),
    ("year", re.compile(r"^\d{4}$")),
)
DEFAULT_TZ = "Asia/Shanghai"


def org_timezone() -> ZoneInfo:
    name = current_app.config["POINTSAPP_TIMEZONE"] if has_app_context() else DEFAULT_TZ
    return ZoneInfo(name)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """Treat naive datetimes (as SQLite returns them) as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def local(moment: dt.datetime, tz: ZoneInfo | None = None) -> dt.datetime:
    return as_utc(moment).astimezone(tz or org_timezone())


def period_key(kind: str, moment: dt.datetime, tz: ZoneInfo | None = None) -> str:
    """Return the key of the period of ``kind`` that contains ``moment``."""
    day = local(moment, tz).date()
    if kind == "week":
        year, week, _weekday = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if kind == "year":
        return f"{day.year:04d}"
    raise ValueError(f"unknown period {kind!r}")


def period_keys(moment: dt.datetime, tz: ZoneInfo | None = None) -> dict[str, str]:
    return {kind: period_key(kind, moment, tz) for kind in PERIODS}


_KEY_PATTERNS = {
    "week": re.compile(r"^(\d{4})-W(\d{2})$"),
    "month": re.compile(r"^(\d{4})-(\d{2})$"),
    "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
    "year": re.compile(r"^(\d{4})$"),
}


def period_bounds(kind: str, key: str, tz: ZoneInfo | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Return the [start, end) of a period as UTC datetimes; ValueError on a bad key."""
    try:
        return _bounds(kind, key, tz or org_timezone())
    except OverflowError:  # the calendar's edges: 0001 starts before UTC does, 9999-W52 ends after it
        raise ValueError(f"{key!r} is out of range") from None


def _bounds(kind: str, key: str, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    match = _KEY_PATTERNS.get(kind, re.compile(r"$^")).match(key)
    if not match:
        raise ValueError(f"{key!r} is not a {kind} key")
    year = int(match.group(1))
    if kind == "week":
        start = dt.date.fromisocalendar(year, int(match.group(2)), 1)
        end = start + dt.timedelta(days=7)
    elif kind == "month":
        month = int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"{key!r} is not a month key")
        start = dt.date(year, month, 1)
        end = dt.date(year + month // 12, month % 12 + 1, 1)
    elif kind == "quarter":
        first = (int(match.group(2)) - 1) * 3 + 1
        start = dt.date(year, first, 1)
        end = dt.date(year + (first + 3) // 13, (first + 2) % 12 + 1, 1)
    else:
        start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)

    def to_utc(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.timezone.utc)

    return to_utc(start), to_utc(end)


def current_key(kind: str) -> str:
    return period_key(kind, utcnow())


def period_of_key(key: str) -> str | None:
    """Which period a key names ("2026-11" → month), or None for a free-form key (e.g. "C12")."""
    return next((kind for kind, pattern in _KEY_KINDS if pattern.match(key)), None)
