"""Leaderboards (being built). Interface other areas rely on:

``standing(user, period) -> Standing(rank, points, gap_to_next, gap_to_top3)``
for the company-wide individual board, or None when the user has no place.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Standing:
    rank: int
    points: int
    gap_to_next: int
    gap_to_top3: int


def standing(user, period: str = "week") -> Standing | None:
    raise NotImplementedError
