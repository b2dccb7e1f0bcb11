"""Rewards commands: expire stale redemptions, export for payroll and HR; the demo catalog."""

from __future__ import annotations

import sys
from decimal import Decimal

import click
from flask import Flask
from flask.cli import with_appcontext

from pointsapp import demo, exports, redemptions, scheduler
from pointsapp.errors import DomainError
from pointsapp.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(expire_redemptions)
    app.cli.add_command(export_payroll)
    app.cli.add_command(export_hr)


@click.command("expire-redemptions")
@with_appcontext
@click.option("--days", type=int, default=None, help="Age in days (default: REDEMPTION_EXPIRY_DAYS).")
def expire_redemptions(days: int | None) -> None:
    """Expire pending redemptions older than the configured days; points and stock go back."""
    count = scheduler.expire_stale_redemptions(days)
    click.echo(f"{count} pending redemption(s) expired.")


def _export(render, month: str, output) -> None:
    try:
        text = render(None, month)
    except DomainError as error:
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)
    output.write(text)


@click.command("export-payroll")
@with_appcontext
@click.option("--month", required=True, help="The month in the organisation's time zone, e.g. 2026-11.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def export_payroll(month: str, output) -> None:
    """Write the month's approved bonus cash as CSV for payroll."""
    _export(exports.payroll_csv, month, output)


@click.command("export-hr")
@with_appcontext
@click.option("--month", required=True, help="The month in the organisation's time zone, e.g. 2026-11.")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="File to write (default: stdout).")
def export_hr(month: str, output) -> None:
    """Write the month's approved leave and remote days as CSV for the HR system."""
    _export(exports.hr_csv, month, output)


# (name, kind, cost, stock, limit_per_year, cash_amount, monthly_budget, description)
DEMO_CATALOG = [
    ("Paid leave day", "leave_day", 800, None, 5, None, None,
     "One extra day of paid leave, approved by your team lead. At most 5 a year."),
    ("Bonus cash ¥500", "bonus_cash", 1000, None, None, Decimal("500"), Decimal("5000"),
     "¥500 paid with next month's salary; approved by HR within the monthly budget."),
    ("Wealth management certification course", "training_seat", 1500, 3, None, None, None,
     "A seat in the AFP certification preparation course (3 seats this quarter)."),
    ("Remote work day", "remote_day", 300, None, None, None, None,
     "Work from home for a day of client calls and paperwork; approved by your team lead."),
    ("Coffee voucher", "other", 100, 50, None, None, None, "A voucher for the branch café."),
]


def seed_demo_rewards(people: dict, rng) -> None:
    """Create the demo catalog and a few pending and approved redemptions from earned points."""
    from pointsapp import ledger, rewards
    from pointsapp.errors import DomainError

    admin = people["admin"]
    catalog = {}
    for name, kind, cost, stock, limit, cash, budget, description in DEMO_CATALOG:
        catalog[kind] = rewards.create_reward(admin, {
            "name": name, "kind": kind, "cost": cost, "stock": stock, "limit_per_year": limit,
            "cash_amount": cash, "monthly_budget": budget, "description": description,
        })
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
            redemption = rewards.redeem(advisor, catalog[kind].id)
        except DomainError:
            continue
        plan.pop(0)
        if approved:
            approver = leads.get(advisor.team_id, admin) if kind in ("leave_day", "remote_day") else admin
            redemptions.approve(approver, redemption.id)


# Runs once the demo's points exist, whichever area created them.
demo.DEMO_AFTER_STEPS.append(seed_demo_rewards)
