"""The demo organisation: a bank branch with two teams, their leads, eight advisors and HR."""

from __future__ import annotations

import datetime as dt

from pointsapp import org
from pointsapp.extensions import db
from pointsapp.models import Team
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


def seed_people() -> dict:
    """Create the teams and the people; return them by handle (teams under "_teams")."""
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
    return people


def logins(people: dict) -> list[tuple[str, str, str]]:
    """(role, email, password) for each demo login."""
    return [
        ("admin", people["admin"].email, DEMO_PASSWORD),
        ("lead", people["lead_wealth"].email, DEMO_PASSWORD),
        ("lead", people["lead_loans"].email, DEMO_PASSWORD),
        *[("advisor", people[handle].email, DEMO_PASSWORD) for handle, _, _ in ADVISORS],
    ]


def _team(name: str, parent_id: int | None = None, *, zh: str = ""):
    team = Team(name=name, parent_id=parent_id, translations={"zh": {"name": zh}} if zh else {})
    db.session.add(team)
    db.session.flush()
    return team
