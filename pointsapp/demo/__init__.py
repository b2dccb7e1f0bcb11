"""A demo organisation: a bank branch with two teams and a few weeks of activity.

Used by ``flask seed-demo`` (``make run`` seeds an empty database) so that a first look at
the app shows something real. ``seed`` runs its steps in order: the people, then five weeks
of CRM events under the default rules, then team budgets with lead awards from them, then
challenges, badges and goals on that history, then rewards redeemed with the points earned.
"""

from __future__ import annotations

import random

from pointsapp.demo import authority, earning, people, recognition, rewards
from pointsapp.demo.people import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "seed"]


def seed(rng: random.Random | None = None) -> list[tuple[str, str, str]]:
    """Create the demo organisation; return (role, email, password) for each login."""
    rng = rng or random.Random(2026)
    created = people.seed_people()
    earning.seed_earning(created, rng)
    authority.seed_authority(created, rng)
    recognition.seed_recognition(created, rng)
    rewards.seed_rewards(created, rng)
    return people.logins(created)
