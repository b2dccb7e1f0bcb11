"""Levels from lifetime points, with thresholds and names from the setting ``LEVELS``.

``LEVELS`` is a list of (minimum lifetime points, name), lowest first.
"""

from __future__ import annotations

import dataclasses

from flask import current_app
from flask_babel import lazy_gettext as _l

# The default names, so that they are translated; other configured names show as written.
LABELS = {
    "Bronze": _l("Bronze"),
    "Silver": _l("Silver"),
    "Gold": _l("Gold"),
    "Platinum": _l("Platinum"),
    "Diamond": _l("Diamond"),
}


@dataclasses.dataclass(frozen=True)
class Level:
    name: str
    floor: int
    next_name: str | None
    next_floor: int | None
    lifetime: int

    @property
    def label(self) -> str:
        return str(LABELS.get(self.name, self.name))

    @property
    def next_label(self) -> str | None:
        return str(LABELS.get(self.next_name, self.next_name)) if self.next_name else None

    @property
    def to_next(self) -> int:
        return max(0, self.next_floor - self.lifetime) if self.next_floor is not None else 0

    @property
    def percent(self) -> int:
        if self.next_floor is None:
            return 100
        span = self.next_floor - self.floor
        return min(100, max(0, (self.lifetime - self.floor) * 100 // span)) if span > 0 else 100


def level_for(lifetime: int, levels: list[tuple[int, str]] | None = None) -> Level:
    """The level reached with ``lifetime`` points and what the next one needs."""
    levels = sorted(levels if levels is not None else current_app.config["LEVELS"])
    index = 0
    for i, (floor, _name) in enumerate(levels):
        if lifetime >= floor:
            index = i
    floor, name = levels[index]
    following = levels[index + 1] if index + 1 < len(levels) else None
    return Level(
        name=name,
        floor=floor,
        next_name=following[1] if following else None,
        next_floor=following[0] if following else None,
        lifetime=lifetime,
    )
