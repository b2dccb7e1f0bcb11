"""Column types shared by every model."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not dt.timezone.utc:  # most are UTC already: a batch binds thousands
            if value.tzinfo is None:
                raise ValueError("naive datetime given; pass an aware UTC datetime")
            value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


def translations_column() -> so.Mapped[dict]:
    """Names in other languages: {"zh": {"name": …, "description": …}}; the base columns are the fallback."""
    return so.mapped_column(sa.JSON, default=dict)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def enum_check(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK that keeps a string column within a fixed set (portable enum)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=name)
