"""Text both databases can store: no NUL (PostgreSQL refuses it) and no lone surrogate (not encodable as UTF-8).

JSON may carry either (``"\\u0000"``, ``"\\ud800"``); they are refused as input,
with the field named, before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import marshmallow as ma
from flask_babel import gettext as _

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_DEPTH = 50


def storable(value, depth: int = 0) -> bool:
    """True unless a string in ``value`` (keys included, nested lists and objects) cannot be stored."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is None
    if depth > MAX_DEPTH:
        return True
    if isinstance(value, Mapping):
        return all(storable(k, depth + 1) and storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v, depth + 1) for v in value)
    return True


def printable_name(name) -> str:
    """A field name safe to echo back in an error."""
    return _UNSTORABLE.sub("\ufffd", str(name))


def refuse_unstorable(data, skip: frozenset[str] = frozenset()) -> None:
    """Raise a marshmallow ValidationError naming every field of ``data`` with text that cannot be stored."""
    if isinstance(data, Mapping):
        bad = [name for name in data if name not in skip and not (storable(name) and storable(data.get(name)))]
        if bad:
            message = _("Must be text without NUL characters or unpaired surrogates.")
            raise ma.ValidationError({printable_name(name): [message] for name in bad})
