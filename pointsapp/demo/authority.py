"""Demo authority: HR sets the teams' budgets, leads award from them, a missed challenge gives its pool back."""

from __future__ import annotations

import datetime as dt
import random

from pointsapp import awards, budgets, challenges
from pointsapp.periods import utcnow

DEMO_BUDGETS = {"wealth": 8000, "loans": 6000, "branch": 3000}
# Reasons are what a lead types: at a Chinese bank, in Chinese.
DEMO_LEAD_AWARDS = [
    ("lead_wealth", "chen.jing", 120, "加班完成张先生家庭的财富规划复核"),
    ("lead_wealth", "wang.fang", 80, "同事病假时主动顶岗柜台"),
    ("lead_loans", "zhou.tao", 100, "首份贷款档案一次通过，零修改"),
]


def seed_authority(people: dict, rng: random.Random) -> None:
    """Set three team budgets, award from them as the leads, and close a short challenge that missed its target."""
    teams, admin, now = people["_teams"], people["admin"], utcnow()
    for key, points in DEMO_BUDGETS.items():
        budgets.set_budget(admin, teams[key].id, points)
    for lead, advisor, points, reason in DEMO_LEAD_AWARDS:
        awards.award(people[lead], people[advisor].id, points, reason)
    blitz = challenges.launch(
        people["lead_loans"],
        team_id=teams["loans"].id,
        title="Weekend revisit blitz: 40 good revisits",
        translations={"zh": {"title": "周末回访突击：40 次客户好评回访"}},
        event_type="client_revisit_positive",
        target=40,
        pool=300,
        starts_at=now - dt.timedelta(days=9),
        ends_at=now - dt.timedelta(days=2),
    )
    challenges.close(people["lead_loans"], blitz.id)
