"""Demo recognition: a live challenge per team, badges earned from the history, weekly goals."""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from pointsapp import badges, challenges, earning, goals
from pointsapp.extensions import db
from pointsapp.models import Event
from pointsapp.periods import utcnow

DEMO_CHALLENGES = {
    "wealth": ("Year-end wealth push: 25 products sold", "wealth_product_sold", 25, 600),
    "loans": ("Quality loans sprint: 20 loans signed", "loan_signed", 20, 500),
}
DEMO_CHALLENGES_ZH = {
    "wealth": "年末理财冲刺：售出 25 笔理财产品",
    "loans": "优质贷款冲刺：签约 20 笔贷款",
}
DEMO_BADGES_ZH = {
    "Loan star": ("贷款之星", "单月签约五笔贷款"),
    "Client champion": ("客户维护标兵", "一周内三次客户回访获好评"),
    "First high-net-worth client": ("首位高净值客户", "签约第一位高净值客户"),
}
DEMO_BADGES = [
    ("Loan star", "Five loans signed in one month", "loan_signed", 5, "month"),
    ("Client champion", "Three good client revisits in one week", "client_revisit_positive", 3, "week"),
    ("First high-net-worth client", "Sign your first high-net-worth client", "hnw_client_signed", 1, None),
]


def seed_recognition(people: dict, rng: random.Random) -> None:
    """A live challenge per team with some progress, a few badges, and a weekly goal per advisor."""
    admin, now = people["admin"], utcnow()
    teams = people["_teams"]
    leads = {"wealth": people["lead_wealth"], "loans": people["lead_loans"]}
    made = [
        badges.create_badge(
            admin,
            name=n,
            description=d,
            event_type=t,
            threshold=th,
            period=p,
            translations={"zh": dict(zip(("name", "description"), DEMO_BADGES_ZH[n]))},
        )
        for n, d, t, th, p in DEMO_BADGES
    ]
    advisors = [u for key, u in people.items() if not key.startswith("_") and getattr(u, "role", "") == "employee"]
    raw = []
    for advisor in advisors:
        team = "wealth" if advisor.team_id == teams["wealth"].id else "loans"
        event_type = DEMO_CHALLENGES[team][1]
        for n in range(rng.randint(1, 4)):
            moment = now - dt.timedelta(days=rng.randint(0, 9), hours=rng.randint(0, 8))
            raw.append(
                {
                    "external_id": f"demo-challenge-{advisor.id}-{n}",
                    "type": event_type,
                    "user_id": advisor.id,
                    "occurred_at": moment.isoformat(),
                }
            )
        if rng.random() < 0.5:
            raw.append(
                {
                    "external_id": f"demo-revisit-{advisor.id}",
                    "type": "client_revisit_positive",
                    "user_id": advisor.id,
                    "occurred_at": (now - dt.timedelta(hours=rng.randint(1, 30))).isoformat(),
                    "quantity": 3,
                }
            )
    earning.ingest_events(raw, source="demo", actor_id=admin.id)
    for team, (title, event_type, target, pool) in DEMO_CHALLENGES.items():
        challenges.launch(
            leads[team],
            team_id=teams[team].id,
            title=title,
            translations={"zh": {"title": DEMO_CHALLENGES_ZH[team]}},
            event_type=event_type,
            target=target,
            pool=pool,
            starts_at=now - dt.timedelta(days=10),
            ends_at=now + dt.timedelta(days=18),
        )
    # Badges defined after the history: award what the history already earned.
    for badge in made:
        for event in db.session.scalars(sa.select(Event).where(Event.type == badge.event_type).order_by(Event.occurred_at)):
            badges.check_event(event)
    for advisor in advisors:
        lead = leads["wealth"] if advisor.team_id == teams["wealth"].id else leads["loans"]
        goals.set_goal(lead, advisor.id, rng.choice([80, 100, 120, 150]))
