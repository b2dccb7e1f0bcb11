"""Demo rewards: the catalog, and a few pending and approved redemptions from the points earned."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from pointsapp import ledger, redemptions, rewards
from pointsapp.errors import DomainError

# (name, kind, cost, stock, limit_per_year, cash_amount, monthly_budget, description)
DEMO_CATALOG = [
    (
        "Paid leave day",
        "leave_day",
        800,
        None,
        5,
        None,
        None,
        "One extra day of paid leave, approved by your team lead. At most 5 a year.",
    ),
    (
        "Bonus cash ¥500",
        "bonus_cash",
        1000,
        None,
        None,
        Decimal("500"),
        Decimal("5000"),
        "¥500 paid with next month's salary; approved by HR within the monthly budget.",
    ),
    (
        "Wealth management certification course",
        "training_seat",
        1500,
        3,
        None,
        None,
        None,
        "A seat in the AFP certification preparation course (3 seats this quarter).",
    ),
    (
        "Remote work day",
        "remote_day",
        300,
        None,
        None,
        None,
        None,
        "Work from home for a day of client calls and paperwork; approved by your team lead.",
    ),
    ("Coffee voucher", "other", 100, 50, None, None, None, "A voucher for the branch café."),
]


# The catalog in Chinese: (name, description) by English name.
DEMO_CATALOG_ZH = {
    "Paid leave day": ("带薪假一天", "额外带薪年假一天，由团队负责人审批，每年最多 5 天。"),
    "Bonus cash ¥500": ("现金奖励 500 元", "500 元随下月工资发放，由人力资源部在月度预算内审批。"),
    "Wealth management certification course": ("理财规划师认证培训", "AFP 理财规划师认证备考课程名额（本季度共 3 个）。"),
    "Remote work day": ("远程办公一天", "居家办公一天，处理客户电话和资料，由团队负责人审批。"),
    "Coffee voucher": ("咖啡券", "网点咖啡厅兑换券一张。"),
}


def seed_rewards(people: dict, rng: random.Random) -> None:
    """Create the demo catalog and a few pending and approved redemptions from earned points."""
    admin = people["admin"]
    catalog = {}
    for name, kind, cost, stock, limit, cash, budget, description in DEMO_CATALOG:
        catalog[kind] = rewards.create_reward(
            admin,
            {
                "name": name,
                "kind": kind,
                "cost": cost,
                "stock": stock,
                "limit_per_year": limit,
                "cash_amount": cash,
                "monthly_budget": budget,
                "description": description,
                "translations": {"zh": dict(zip(("name", "description"), DEMO_CATALOG_ZH[name]))},
            },
        )
    advisors = [u for key, u in people.items() if not key.startswith("_") and getattr(u, "role", "") == "employee"]
    advisors.sort(key=lambda u: -ledger.wallet_summary(u.id).available)
    leads = {people[key].team_id: people[key] for key in ("lead_wealth", "lead_loans")}
    # (kind, approved?): one of each waits in a queue (the lead's and HR's), one of each is approved.
    plan = [("remote_day", True), ("remote_day", False), ("other", True), ("other", False), ("leave_day", False)]
    for advisor in advisors:
        if not plan:
            break
        kind, approved = plan[0]
        if ledger.wallet_summary(advisor.id).available < catalog[kind].cost:
            continue  # only advisors who have earned enough redeem
        try:
            first_day = dt.date.today() + dt.timedelta(days=7 + len(plan))
            days = {"starts_on": first_day, "ends_on": first_day} if kind in ("leave_day", "remote_day") else {}
            redemption = rewards.redeem(advisor, catalog[kind].id, **days)
        except DomainError:
            continue
        plan.pop(0)
        if approved:
            approver = leads.get(advisor.team_id, admin) if kind in ("leave_day", "remote_day") else admin
            redemptions.approve(approver, redemption.id)
