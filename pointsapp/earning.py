"""Earning: rules, events, awards, reversals, vetoes, period bonuses.

(Being built.) The interface other areas rely on is fixed here:

* ``EVENT_LISTENERS``: functions called as ``listener(event)`` in the same
  transaction, right after an event (and its awards) has been stored — badges
  use it to award the moment a threshold is crossed.
* ``vetoed_user_ids(period, period_key)``: users under a compliance veto that
  covers any part of that period (no bonus, honour or pool share).
"""

from __future__ import annotations

from collections.abc import Callable

EVENT_LISTENERS: list[Callable] = []


def vetoed_user_ids(period: str, period_key: str) -> set[int]:
    """Users vetoed for (any part of) the period; filled in by the earning area."""
    return set()
