"""Weekly goals (being built). Interface other areas rely on:

``goal_status(user) -> GoalStatus(weekly_points, earned, remaining)`` for the
current week, after new-hire staging.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class GoalStatus:
    weekly_points: int
    earned: int
    remaining: int


def goal_status(user) -> GoalStatus:
    raise NotImplementedError
