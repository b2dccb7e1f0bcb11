"""Fulfilment exports: approved bonus cash for payroll, approved leave and remote days for HR.

A month is the organisation's month (``POINTSAPP_TIMEZONE``); a redemption
belongs to the month in which it was approved. Cells that a spreadsheet would
run as a formula are prefixed with a quote (CSV injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import names, policy
from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Redemption, Reward, Team, User
from pointsapp.periods import local, period_bounds

PAYROLL_COLUMNS = (
    "redemption_id",
    "employee_email",
    "employee_name",
    "reward",
    "quantity",
    "amount",
    "currency",
    "approved_at",
)
HR_COLUMNS = (
    "redemption_id",
    "employee_email",
    "employee_name",
    "employee_number",
    "team",
    "kind",
    "days",
    "first_day",
    "last_day",
    "reward",
    "approved_at",
)
HR_KINDS = ("leave_day", "remote_day")
CURRENCY = "CNY"


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of an org-time-zone month like ``2026-11``; ValidationFailed if malformed."""
    try:
        return period_bounds("month", (month or "").strip())
    except ValueError:
        raise ValidationFailed(_("Give the month as YYYY-MM, e.g. 2026-11."), fields={"month": [_("Use YYYY-MM.")]}) from None


def _approved(kinds: tuple[str, ...], month: str):
    start, end = month_bounds(month)
    return db.session.execute(
        sa.select(Redemption, Reward, User, Team.name)
        .join(Reward, Reward.id == Redemption.reward_id)
        .join(User, User.id == Redemption.user_id)
        .outerjoin(Team, Team.id == User.team_id)
        .where(
            Redemption.status == "approved",
            Reward.kind.in_(kinds),
            Redemption.decided_at >= start,
            Redemption.decided_at < end,
        )
        .order_by(Redemption.decided_at, Redemption.id)
    ).all()


def payroll_rows(actor: User | None, month: str) -> list[dict]:
    """Approved bonus cash of the month, one row per redemption (``actor`` None: the CLI)."""
    if actor is not None:
        policy.require(policy.can_export(actor), _("Only administrators can export for payroll."))
    return [
        {
            "redemption_id": redemption.id,
            "employee_email": user.email,
            "employee_name": user.name,
            "reward": names.localized(reward),
            "quantity": redemption.quantity,
            # Blank when the reward has no cash amount set: payroll must look it up, not pay 0.
            "amount": f"{redemption.cash_amount:.2f}" if redemption.cash_amount is not None else "",
            "currency": CURRENCY,
            "approved_at": local(redemption.decided_at).isoformat(timespec="seconds"),
        }
        for redemption, reward, user, _team in _approved(("bonus_cash",), month)
    ]


def hr_rows(actor: User | None, month: str) -> list[dict]:
    """Approved leave and remote days of the month, one row per redemption (``actor`` None: the CLI)."""
    if actor is not None:
        policy.require(policy.can_export(actor), _("Only administrators can export for HR."))
    return [
        {
            "redemption_id": redemption.id,
            "employee_email": user.email,
            "employee_name": user.name,
            "employee_number": user.employee_number or "",  # HR's own id, from SCIM provisioning
            "team": team_name or "",
            "kind": reward.kind,
            "days": redemption.quantity,
            "first_day": redemption.starts_on.isoformat() if redemption.starts_on else "",
            "last_day": redemption.ends_on.isoformat() if redemption.ends_on else "",
            "reward": names.localized(reward),
            "approved_at": local(redemption.decided_at).isoformat(timespec="seconds"),
        }
        for redemption, reward, user, team_name in _approved(HR_KINDS, month)
    ]


def to_csv(columns: tuple[str, ...], rows: list[dict]) -> str:
    """CSV text with a header row; formula-like cells are neutralised."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _safe(value) for key, value in row.items()})
    return out.getvalue()


def payroll_csv(actor: User | None, month: str) -> str:
    """The payroll CSV for a month."""
    return to_csv(PAYROLL_COLUMNS, payroll_rows(actor, month))


def hr_csv(actor: User | None, month: str) -> str:
    """The HR CSV for a month."""
    return to_csv(HR_COLUMNS, hr_rows(actor, month))


def _safe(value):
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
