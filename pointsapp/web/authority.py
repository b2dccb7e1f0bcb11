"""Admin pages for authority over points: team budgets and the audit trail (with its CSV export)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from pointsapp import audit, budgets, exports, policy
from pointsapp.errors import DomainError
from pointsapp.lifecycle import refuse
from pointsapp.limits import INT_MAX

bp = Blueprint("authority", __name__, url_prefix="/admin")

ACTION_LABELS = {
    "award.created": _l("Points awarded or deducted"),
    "rule.created": _l("Points rule published"),
    "rule.deactivated": _l("Points rule switched off"),
    "event.reversed": _l("Event reversed"),
    "challenge.created": _l("Challenge launched"),
    "challenge.closed": _l("Challenge closed"),
    "challenge.restated": _l("Challenge restated"),
    "redemption.approved": _l("Redemption approved"),
    "redemption.rejected": _l("Redemption rejected"),
    "budget.set": _l("Team budget set"),
    "honor.created": _l("Honour title given"),
    "period.closed": _l("Period closed"),
    "user.created": _l("User created"),
    "user.updated": _l("User changed"),
    "user.deactivated": _l("User deactivated"),
    "team.created": _l("Team created"),
    "reward.created": _l("Reward added"),
    "reward.updated": _l("Reward changed"),
    "badge.created": _l("Badge defined"),
    "mentorship.created": _l("Mentor paired"),
    "veto.lifted": _l("Compliance veto lifted"),
}
SUBJECT_LABELS = {
    "award": _l("Award"),
    "rule": _l("Rule"),
    "event": _l("Event"),
    "challenge": _l("Challenge"),
    "redemption": _l("Redemption"),
    "team": _l("Team"),
    "honor": _l("Honour"),
    "period": _l("Period"),
    "user": _l("User"),
    "reward": _l("Reward"),
    "badge": _l("Badge"),
    "mentorship": _l("Mentorship"),
    "veto": _l("Compliance veto"),
}


def _require_admin() -> None:
    if not policy.can_read_audit(current_user):
        abort(403)


# --- budgets -------------------------------------------------------------------------


def _budgets_page(status: int = 200, errors: dict | None = None, values: dict | None = None):
    rows = budgets.all_budgets(current_user)
    return render_template(
        "authority/budgets.html",
        rows=rows,
        errors=errors or {},
        values=values or {},
        default=budgets.default_budget(),
        month=budgets.month_key(),
    ), status


@bp.get("/budgets")
@login_required
def budgets_page():
    """Every team's budget, used and remaining this month, each editable."""
    _require_admin()
    return _budgets_page()


@bp.post("/budgets/<int:team_id>")
@login_required
def set_budget(team_id: int):
    """Set one team's monthly budget."""
    _require_admin()
    raw = request.form.get("monthly_points", "").strip()
    try:
        points = int(raw)
    except ValueError:
        points = None
    if points is None or not 0 <= points <= budgets.MAX_BUDGET:
        message = _("Enter a whole number of points from 0 to %(max)s.", max=f"{budgets.MAX_BUDGET:,}")
        return _budgets_page(422, errors={team_id: message}, values={team_id: raw})
    try:
        view = budgets.set_budget(current_user, team_id, points)
    except DomainError as error:
        refuse()
        if error.status == 404:
            raise
        return _budgets_page(error.status, errors={team_id: error.message}, values={team_id: raw})
    flash(_("Budget of %(team)s set to %(points)s points a month.", team=view.team_name, points=f"{points:,}"), "success")
    return redirect(url_for("authority.budgets_page"))


# --- audit trail ---------------------------------------------------------------------


def _filters() -> tuple[dict, dict]:
    """The audit filters from the query string: (filters for the query, the values to show in the form)."""
    args = request.args
    shown = {name: args.get(name, "").strip() for name in ("action", "actor_id", "subject_type", "subject_id")}
    filters: dict = {"action": shown["action"][:40] or None, "subject_type": shown["subject_type"][:40] or None}
    for name in ("actor_id", "subject_id"):
        value = shown[name]
        filters[name] = int(value) if value.isdigit() and 0 < int(value) <= INT_MAX else (0 if value else None)
    return filters, shown


@bp.get("/audit")
@login_required
def audit_page():
    """The audit trail, newest first, filtered by action, actor and subject."""
    _require_admin()
    filters, shown = _filters()
    try:
        rows, next_cursor = audit.list_records(current_user, filters, limit=50, cursor=request.args.get("cursor") or None)
    except DomainError as error:  # a cursor this server did not give out
        refuse()
        flash(error.message, "error")
        rows, next_cursor = audit.list_records(current_user, filters, limit=50)
    names = audit.actor_names(rows)
    query = {k: v for k, v in shown.items() if v}
    return render_template(
        "authority/audit.html",
        rows=rows,
        names=names,
        next_cursor=next_cursor,
        shown=shown,
        query=query,
        actions=ACTION_LABELS,
        subjects=SUBJECT_LABELS,
        more=bool(request.args.get("cursor")),
    )


@bp.get("/audit.csv")
@login_required
def audit_csv():
    """Download the filtered audit trail as CSV (formula-like cells neutralised)."""
    _require_admin()
    filters, _shown = _filters()
    text = exports.to_csv(audit.CSV_COLUMNS, audit.csv_rows(audit.all_records(current_user, filters)))
    # A BOM so that spreadsheet programs read Chinese names as UTF-8.
    return Response("\ufeff" + text, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="audit.csv"'})
