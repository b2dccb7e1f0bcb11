"""A demo organisation: a bank branch with two teams and a few weeks of activity.

Used by ``flask seed-demo`` (``make run`` seeds an empty database) so that a
first look at the app shows something real. Areas hook in through
``DEMO_STEPS``: functions called with the created people once the basic
organisation exists.
"""

from __future__ import annotations

import datetime as dt
import random

from pointsapp import ledger, org
from pointsapp.periods import utcnow

DEMO_PASSWORD = "demo-points-2026"

ADVISORS = [
    ("chen.jing", "Chen Jing 陈静", "wealth"),
    ("li.wei", "Li Wei 李伟", "wealth"),
    ("wang.fang", "Wang Fang 王芳", "wealth"),
    ("zhang.min", "Zhang Min 张敏", "wealth"),
    ("liu.yang", "Liu Yang 刘洋", "loans"),
    ("zhao.lei", "Zhao Lei 赵磊", "loans"),
    ("sun.li", "Sun Li 孙丽", "loans"),
    ("zhou.tao", "Zhou Tao 周涛", "loans"),
]

# (points, reason) pairs used for the history when no earning rules exist yet.
ACTIVITY = [
    (30, "Quality loan signed: 1.2M CNY small-business loan"),
    (50, "New high-net-worth client signed"),
    (30, "Wealth product sold: 3-year fixed income fund"),
    (10, "Client revisit with good feedback"),
    (20, "Client renewed a wealth product"),
    (10, "Client revisit with good feedback"),
]

# Extra steps from other areas: fn(people: dict[str, User], rng: random.Random) -> None
DEMO_STEPS: list = []
# Steps that need the points to exist (e.g. redemptions); they run after the history.
DEMO_AFTER_STEPS: list = []


def seed(rng: random.Random | None = None) -> list[tuple[str, str, str]]:
    """Create the demo organisation; return (role, email, password) for each login."""
    rng = rng or random.Random(2026)
    company = _team("Huaxia Commercial Bank", zh="华夏商业银行")
    branch = _team("Pudong Branch", company.id, zh="浦东支行")
    wealth = _team("Wealth Management Team", branch.id, zh="财富管理团队")
    loans = _team("Retail Loans Team", branch.id, zh="零售信贷团队")
    people = {
        "admin": org.create_user(None, email="hr.ma@demo.bank", name="Ma Lin 马琳 (HR)", role="admin", password=DEMO_PASSWORD),
        "lead_wealth": org.create_user(
            None, email="huang.qiang@demo.bank", name="Huang Qiang 黄强", role="lead", team_id=wealth.id, password=DEMO_PASSWORD
        ),
        "lead_loans": org.create_user(
            None, email="xu.hui@demo.bank", name="Xu Hui 徐慧", role="lead", team_id=loans.id, password=DEMO_PASSWORD
        ),
    }
    today = utcnow().date()
    for handle, name, team in ADVISORS:
        people[handle] = org.create_user(
            None,
            email=f"{handle}@demo.bank",
            name=name,
            role="employee",
            team_id=wealth.id if team == "wealth" else loans.id,
            password=DEMO_PASSWORD,
            hired_on=today - dt.timedelta(days=45) if handle == "zhou.tao" else None,
        )
    people["_teams"] = {"company": company, "branch": branch, "wealth": wealth, "loans": loans}
    if DEMO_STEPS:
        for step in DEMO_STEPS:
            step(people, rng)
    else:
        _manual_history(people, rng)
    for step in DEMO_AFTER_STEPS:
        step(people, rng)
    return [
        ("admin", people["admin"].email, DEMO_PASSWORD),
        ("lead", people["lead_wealth"].email, DEMO_PASSWORD),
        ("lead", people["lead_loans"].email, DEMO_PASSWORD),
        *[("advisor", people[handle].email, DEMO_PASSWORD) for handle, _, _ in ADVISORS],
    ]


def _team(name: str, parent_id: int | None = None, *, zh: str = ""):
    from pointsapp.extensions import db
    from pointsapp.models import Team

    team = Team(name=name, parent_id=parent_id, translations={"zh": {"name": zh}} if zh else {})
    db.session.add(team)
    db.session.flush()
    return team


def _manual_history(people: dict, rng: random.Random) -> None:
    """Four weeks of awards by each team's lead, spread over working days."""
    now = utcnow()
    for handle, _, team in ADVISORS:
        lead = people["lead_wealth"] if team == "wealth" else people["lead_loans"]
        for days_ago in sorted(rng.sample(range(0, 28), rng.randint(5, 12)), reverse=True):
            points, reason = rng.choice(ACTIVITY)
            ledger.post(
                people[handle].id,
                points,
                kind="manual_award",
                reason=reason,
                actor_id=lead.id,
                effective_at=now - dt.timedelta(days=days_ago, hours=rng.randint(0, 6)),
            )
