"""Bounds of the database's 32-bit INTEGER columns, checked before a value reaches them.

SQLite refuses Python ints beyond 64 bits ("int too large to convert") and
PostgreSQL refuses anything beyond 32 bits in an INTEGER column; both would be
a server error instead of a message on the field.
"""

from __future__ import annotations

from pointsapp.extensions import db

INT_MAX = 2**31 - 1


def is_whole(value, low: int, high: int) -> bool:
    """True for an int (not a bool) from ``low`` to ``high``."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def get_by_id(model, row_id, **options):
    """The row with this id, or None; ids no INTEGER column can hold have no row (and are never sent to the database)."""
    if not is_whole(row_id, 1, INT_MAX):
        return None
    return db.session.get(model, row_id, **options)
