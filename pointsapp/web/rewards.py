"""Rewards pages: catalog, confirm and redeem, my redemptions, approvals, admin catalog, exports."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import secrets

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from pointsapp import exports, leave_dates, ledger, names, periods, policy, redemptions, rewards
from pointsapp.errors import DomainError
from pointsapp.lifecycle import refuse
from pointsapp.models.rewards import REWARD_KINDS
from pointsapp.periods import current_key, org_timezone
from pointsapp.web import wants_fragment
from pointsapp.web.wallet import WALLET_PANELS

bp = Blueprint("rewards", __name__)
PAGE_SIZE = 20

KIND_LABELS = {
    "leave_day": _l("Leave day"),
    "bonus_cash": _l("Bonus cash"),
    "training_seat": _l("Training seat"),
    "remote_day": _l("Remote day"),
    "other": _l("Other"),
}
STATUS_LABELS = {
    "requested": _l("Requested"),
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
}


@bp.context_processor
def _labels():
    return {"kind_label": lambda k: KIND_LABELS.get(k, k), "status_label": lambda s: STATUS_LABELS.get(s, s)}


# --- catalog and redeeming -------------------------------------------------------


@bp.get("/rewards")
@login_required
def catalog():
    """Show the rewards I can redeem, and what each still needs."""
    summary = ledger.wallet_summary(current_user.id)
    return render_template("rewards/catalog.html", rewards=rewards.list_rewards(only_available=True), summary=summary)


@bp.get("/rewards/<int:reward_id>/confirm")
@login_required
def confirm(reward_id: int):
    """Show what redeeming costs and the balance after, before redeeming."""
    raw = request.args.get("quantity", "").strip()
    typed = int(raw) if re.fullmatch(r"-?[0-9]{1,11}", raw) else None
    shown = max(1, min(typed, rewards.MAX_QUANTITY)) if typed is not None else 1
    error = None
    if raw and typed != shown:  # say so rather than silently showing another quantity
        error = _("You can redeem from 1 to %(max)d at a time; showing %(shown)d.", max=rewards.MAX_QUANTITY, shown=shown)
    return _confirm_page(reward_id, shown, error, days=_days(request.args))


def _days(values) -> tuple:
    """The first and last day typed on the confirm form (None when empty or not a date)."""

    def day(name):
        try:
            return dt.date.fromisoformat(values.get(name, "")) if values.get(name) else None
        except ValueError:
            return None

    return day("starts_on"), day("ends_on")


def _confirm_page(reward_id: int, quantity: int, error: str | None = None, status: int = 200, days: tuple = (None, None)):
    quote = rewards.quote(current_user, reward_id, quantity, *days)
    template = "rewards/_confirm.html" if wants_fragment() else "rewards/confirm.html"
    token = secrets.token_urlsafe(16)
    today = periods.local(periods.utcnow()).date().isoformat()
    return render_template(template, quote=quote, token=token, error=error, today=today), status


def _form_quantity(form) -> int | None:
    """The quantity the redeem form sent (1 when it sent none); None unless a whole number from 1 to the maximum.

    Never rounded into range: redeeming one item when "0" or "-1" was sent is not what was asked.
    """
    raw = form.get("quantity", "").strip()
    if not raw:
        return 1
    if not re.fullmatch(r"[0-9]{1,11}", raw) or not 1 <= int(raw) <= rewards.MAX_QUANTITY:
        return None
    return int(raw)


@bp.post("/rewards/<int:reward_id>/redeem")
@login_required
def redeem(reward_id: int):
    """Redeem what the form shows, priced again: a changed total is shown for a second look; a double tap redeems once."""
    form = request.form
    quantity, days = _form_quantity(form), _days(form)
    if quantity is None:  # 0, -1 or "abc": shown again for a second look, nothing held
        error = _("You can redeem from 1 to %(max)d at a time; showing %(shown)d.", max=rewards.MAX_QUANTITY, shown=1)
        return _confirm_page(reward_id, 1, error, 422, days)
    quote = rewards.quote(current_user, reward_id, quantity, *days)
    if quote.reward.kind in leave_dates.DATED_KINDS and days[0] is None:
        return _confirm_page(reward_id, quantity, _("Choose the first day."), 422, days)
    if form.get("quoted_points", type=int) not in (None, quote.points):
        return _confirm_page(
            reward_id,
            quantity,
            _("The total is now %(points)s points; check it and redeem again.", points=format(quote.points, ",")),
            409,
            days,
        )
    try:
        redemption = rewards.redeem(
            current_user, reward_id, quote.quantity, request_token=form.get("token") or None, starts_on=days[0], ends_on=days[1]
        )
    except DomainError as error:
        refuse()
        if error.status == 404:
            raise
        return _confirm_page(reward_id, quantity, error.message, error.status, days)
    flash(
        _(
            "Redeemed %(name)s: %(points)d points are held until it is approved.",
            name=names.localized(redemption.reward),
            points=redemption.points,
        ),
        "success",
    )
    return redirect(url_for("rewards.my_redemptions"))


# --- my redemptions -------------------------------------------------------------


@bp.get("/rewards/mine")
@login_required
def my_redemptions():
    """Show my redemptions with their status and timeline."""
    rows, next_cursor = redemptions.my_redemptions(current_user, limit=PAGE_SIZE, cursor=request.args.get("cursor"))
    template = "rewards/_redemptions.html" if wants_fragment() and request.args.get("cursor") else "rewards/mine.html"
    return render_template(template, redemptions=rows, next_cursor=next_cursor, **_timeline_context(rows))


def _timeline_context(rows) -> dict:
    steps = redemptions.timelines([r.id for r in rows])
    actor_ids = {s.actor_id for group in steps.values() for s in group} | {r.user_id for r in rows}
    return {"steps": steps, "people": redemptions.people(actor_ids)}


@bp.post("/rewards/redemptions/<int:redemption_id>/cancel")
@login_required
def cancel(redemption_id: int):
    """Cancel my pending redemption."""
    try:
        redemption = redemptions.cancel(current_user, redemption_id)
    except DomainError as error:
        refuse()
        if error.status in (403, 404):
            raise
        flash(error.message, "error")
        return redirect(url_for("rewards.my_redemptions"))
    flash(_("Cancelled: %(points)d points are available again.", points=redemption.points), "success")
    return redirect(url_for("rewards.my_redemptions"))


# --- approvals ------------------------------------------------------------------


@bp.get("/rewards/approvals")
@login_required
def approvals():
    """Show the pending redemptions I may decide, oldest first."""
    if not policy.can_review_redemptions(current_user):
        abort(403)
    rows = redemptions.approval_queue(current_user)
    return render_template("rewards/approvals.html", redemptions=rows, **_timeline_context(rows))


@bp.post("/rewards/redemptions/<int:redemption_id>/approve")
@login_required
def approve(redemption_id: int):
    """Approve a redemption in one tap."""
    return _decide(redemption_id, lambda: redemptions.approve(current_user, redemption_id))


@bp.post("/rewards/redemptions/<int:redemption_id>/reject")
@login_required
def reject(redemption_id: int):
    """Reject a redemption; the employee sees the reason."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        return _decided(redemption_id, error=_("Give a reason; the employee will see it."), status=422)
    return _decide(redemption_id, lambda: redemptions.reject(current_user, redemption_id, reason))


def _decide(redemption_id: int, operation):
    try:
        redemption = operation()
    except DomainError as error:
        refuse()
        if error.status in (403, 404):
            raise
        return _decided(redemption_id, error=error.message, status=error.status)
    return _decided(redemption.id, done=True)


def _decided(redemption_id: int, *, error: str | None = None, done: bool = False, status: int = 200):
    """The queue row again (htmx) or the queue page, with the outcome."""
    if not wants_fragment():
        flash(error or _("Decision saved."), "error" if error else "success")
        return redirect(url_for("rewards.approvals"))
    redemption = redemptions.get_redemption(current_user, redemption_id)
    context = _timeline_context([redemption])
    return render_template("rewards/_approval.html", r=redemption, error=error, done=done, **context), status


# --- admin: catalog and exports ----------------------------------------------------


@bp.route("/rewards/admin", methods=["GET", "POST"])
@login_required
def admin_catalog():
    """List every reward and add new ones."""
    if not policy.can_manage_rewards(current_user):
        abort(403)
    if request.method == "GET":
        return _admin_page(form={}, errors={})
    data, errors = _parse_reward_form(request.form)
    if not errors:
        try:
            reward = rewards.create_reward(current_user, data)
        except DomainError as error:
            refuse()
            errors = error.fields or {"name": [error.message]}
        else:
            flash(_("%(name)s added to the catalog.", name=names.localized(reward)), "success")
            return redirect(url_for("rewards.admin_catalog"))
    return _admin_page(form=request.form, errors=errors, status=422)


def _admin_page(form, errors, status: int = 200):
    return render_template(
        "rewards/admin_catalog.html",
        rewards=rewards.list_rewards(),
        kinds=REWARD_KINDS,
        form=form,
        errors=errors,
        is_available=rewards.is_available,
    ), status


@bp.route("/rewards/admin/<int:reward_id>", methods=["GET", "POST"])
@login_required
def edit_reward(reward_id: int):
    """Edit a reward (price changes apply to new redemptions only)."""
    if not policy.can_manage_rewards(current_user):
        abort(403)
    reward = rewards.get_reward(reward_id)
    if request.method == "GET":
        return render_template("rewards/edit.html", reward=reward, kinds=REWARD_KINDS, form=_form_of(reward), errors={})
    data, errors = _parse_reward_form(request.form)
    if not errors:
        try:
            rewards.update_reward(current_user, reward_id, data)
        except DomainError as error:
            refuse()
            errors = error.fields or {"name": [error.message]}
        else:
            flash(_("%(name)s saved.", name=data["name"]), "success")
            return redirect(url_for("rewards.admin_catalog"))
    return render_template("rewards/edit.html", reward=reward, kinds=REWARD_KINDS, form=request.form, errors=errors), 422


@bp.post("/rewards/admin/<int:reward_id>/active")
@login_required
def set_active(reward_id: int):
    """Switch a reward on or off (pending redemptions stay as they are)."""
    active = request.form.get("active") == "1"
    reward = rewards.update_reward(current_user, reward_id, {"active": active})
    message = (
        _("%(name)s is offered again.", name=names.localized(reward))
        if active
        else _("%(name)s is switched off.", name=names.localized(reward))
    )
    flash(message, "success")
    return redirect(url_for("rewards.admin_catalog"))


@bp.get("/rewards/exports", endpoint="exports")
@login_required
def exports_page():
    """Payroll and HR exports for a month (the CLI commands are in the README)."""
    if not policy.can_export(current_user):
        abort(403)
    month = request.args.get("month") or current_key("month")
    try:
        payroll, hr = exports.payroll_rows(current_user, month), exports.hr_rows(current_user, month)
    except DomainError as error:
        refuse()
        return render_template("rewards/exports.html", month=month, error=error.message, payroll=[], hr=[]), 422
    total = sum((decimal.Decimal(row["amount"]) for row in payroll if row["amount"]), decimal.Decimal("0.00"))
    return render_template("rewards/exports.html", month=month, error=None, payroll=payroll, hr=hr, payroll_total=total)


@bp.get("/rewards/exports/<any(payroll, hr):which>.csv")
@login_required
def export_csv(which: str):
    """Download the month's CSV for payroll or HR."""
    month = request.args.get("month") or current_key("month")
    text = (exports.payroll_csv if which == "payroll" else exports.hr_csv)(current_user, month)
    filename = f"{which}-{month.strip()}.csv"  # the month was validated by the export
    # A BOM so that spreadsheet programs read the Chinese names as UTF-8.
    return Response("\ufeff" + text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def rewards_panel(user):
    """The wallet's note on redemptions waiting: mine, and those waiting for my decision."""
    mine, waiting = redemptions.waiting_counts(user)
    return {"mine": mine, "waiting": waiting} if mine or waiting else None


WALLET_PANELS["rewards"] = rewards_panel


# --- reward form ------------------------------------------------------------------


def _form_of(reward) -> dict:
    tz = org_timezone()
    until = reward.available_until.astimezone(tz).date() - dt.timedelta(days=1) if reward.available_until else None
    return {
        "name": reward.name,
        "kind": reward.kind,
        "cost": reward.cost,
        "stock": _blank(reward.stock),
        "description": reward.description,
        "cash_amount": _blank(reward.cash_amount),
        "limit_per_year": _blank(reward.limit_per_year),
        "monthly_budget": _blank(reward.monthly_budget),
        "active": "1" if reward.active else "",
        "available_from": reward.available_from.astimezone(tz).date().isoformat() if reward.available_from else "",
        "available_until": until.isoformat() if until else "",
        "name_zh": names.translation(reward, "zh", "name"),
        "description_zh": names.translation(reward, "zh", "description"),
    }


def _blank(value) -> str:
    return "" if value is None else str(value)


def _parse_reward_form(form) -> tuple[dict, dict]:
    """Typed values from the admin form, and a message per field that is not a valid value."""
    data: dict = {
        "name": form.get("name", ""),
        "kind": form.get("kind", ""),
        "description": form.get("description", ""),
        "active": form.get("active") == "1",
        "translations": names.form_translations(form),
    }
    errors: dict[str, list[str]] = {}
    numbers = {
        "cost": int,
        "stock": int,
        "limit_per_year": int,
        "cash_amount": decimal.Decimal,
        "monthly_budget": decimal.Decimal,
    }
    for name, kind in numbers.items():
        raw = form.get(name, "").strip().replace(",", "")
        try:
            data[name] = kind(raw) if raw else None
        except (ValueError, decimal.InvalidOperation):
            errors[name] = [_("Enter a number, or leave it empty.")]
    # The API may leave it out; a bonus paid by payroll needs an amount, so the admin form requires it.
    if data["kind"] == "bonus_cash" and data.get("cash_amount") is None and "cash_amount" not in errors:
        errors["cash_amount"] = [_("Enter the cash amount paid with each redemption of a bonus.")]
    tz = org_timezone()
    for name, shift in (("available_from", 0), ("available_until", 1)):
        raw = form.get(name, "").strip()
        try:
            day = dt.date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = [_("Enter a date like 2026-12-01.")]
            continue
        # The last day is inclusive: the window closes at the start of the next day.
        data[name] = (
            dt.datetime.combine(day + dt.timedelta(days=shift), dt.time(), tz).astimezone(dt.timezone.utc) if day else None
        )
    return data, errors
