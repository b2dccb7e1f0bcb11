"""Demo activity for the earning area: the default rules and five weeks of CRM events (the first step)."""

from __future__ import annotations

import datetime as dt
import random

from pointsapp import earning, mentoring, org, rules
from pointsapp.demo.people import ADVISORS
from pointsapp.extensions import db
from pointsapp.periods import utcnow

# Per team: (event type, relative weight, quantity range) of a working day's activity.
WEALTH_MIX = [
    ("wealth_product_sold", 4, (1, 1)),
    ("client_revisit_positive", 5, (1, 3)),
    ("product_renewal", 3, (1, 2)),
    ("hnw_client_signed", 1, (1, 1)),
]
LOANS_MIX = [("loan_signed", 4, (1, 1)), ("client_revisit_positive", 4, (1, 2)), ("product_renewal", 2, (1, 1))]


def seed_earning(people: dict, rng: random.Random) -> None:
    """Seed the rules, a CRM integration and five weeks of events, a referral, a mentorship, a reversal."""
    rules.seed_default_rules()
    crm = org.create_integration("CRM (demo)")
    source = f"integration:{crm.id}"
    now = utcnow()
    mentor, mentee = people["liu.yang"], people["zhou.tao"]
    mentorship = mentoring.create_mentorship(people["lead_loans"], mentor.id, mentee.id)
    mentorship.started_at = now - dt.timedelta(days=20)  # paired three weeks ago
    db.session.flush()
    events = []
    for handle, _name, team in ADVISORS:
        mix = WEALTH_MIX if team == "wealth" else LOANS_MIX
        days = sorted(rng.sample(range(1, 35), rng.randint(8, 16)), reverse=True)
        if handle == "zhou.tao":  # the new hire starts earning once mentored
            days = [d for d in days if d < 18] or [10]
        for n, days_ago in enumerate(days):
            event_type = rng.choices([t for t, _, _ in mix], weights=[w for _, w, _ in mix])[0]
            low, high = next(q for t, _, q in mix if t == event_type)
            events.append(
                {
                    "external_id": f"crm-{handle}-{n}",
                    "type": event_type,
                    "user_id": people[handle].id,
                    "occurred_at": (now - dt.timedelta(days=days_ago, hours=rng.randint(1, 8))).isoformat(),
                    "quantity": rng.randint(low, high),
                }
            )
    events.append(
        {
            "external_id": "crm-referral-1",
            "type": "cross_dept_referral",
            "user_id": people["chen.jing"].id,
            "participants": [people["liu.yang"].id, people["sun.li"].id],
            "occurred_at": (now - dt.timedelta(days=6, hours=3)).isoformat(),
        }
    )
    events.sort(key=lambda e: e["occurred_at"])
    results = earning.ingest_events(events, source=source, actor_id=None)
    cancelled = next(r.event for r in results if r.event is not None and r.event.type == "loan_signed")
    earning.reverse_event(people["admin"], cancelled.id, "Client withdrew before the loan was disbursed")
