"""Earning pages: how to earn, the rules admin, the events log, CSV import, mentorships."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pointsapp import earning, events_import, mentoring, names, period_bonus, policy, rules, vetoes
from pointsapp.errors import DomainError
from pointsapp.events_log import EventFilters, event_types, search_events, user_names
from pointsapp.extensions import db
from pointsapp.lifecycle import refuse
from pointsapp.models import Integration, User, Veto
from pointsapp.periods import PERIODS, period_key, utcnow
from pointsapp.web import form_id, period_label, safe_next, upload_limit, wants_fragment
from pointsapp.web.wallet import WALLET_PANELS

bp = Blueprint("earning", __name__)


@bp.context_processor
def _source_label():
    """Where an event came from, for people: the integration's name, "Admin" or "Demo data"."""

    def label(source: str) -> str:
        if source == "admin":
            return _("Admin")
        if source == "demo":
            return _("Demo data")
        if source.startswith("integration:"):
            if "integration_names" not in g:  # one query a page, however many rows
                g.integration_names = {
                    f"integration:{i}": n for i, n in db.session.execute(sa.select(Integration.id, Integration.name))
                }
            return g.integration_names.get(source, source)
        return source

    return {"source_label": label}


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _errors(error: DomainError, default_field: str) -> dict:
    return error.fields or {default_field: [error.message]}


# --- everyone --------------------------------------------------------------------


@bp.get("/earn")
@login_required
def how_to_earn():
    """Show the published points table."""
    active = rules.list_rules()
    return render_template(
        "earning/how_to_earn.html",
        event_rules=[r for r in active if r.kind == "event" and r.event_type != rules.MENTORSHIP_BONUS_TYPE],
        period_rules=[r for r in active if r.kind == "period"],
        mentor_rule=next((r for r in active if r.event_type == rules.MENTORSHIP_BONUS_TYPE), None),
    )


def veto_panel(user):
    """The wallet's compliance veto notice, when the user is under one."""
    active = vetoes.active_vetoes(user.id)
    return {"vetoes": active} if active else None


WALLET_PANELS["veto"] = veto_panel


# --- rules (admins) --------------------------------------------------------------


def _rules_page(status: int = 200, **context):
    every = rules.list_rules(include_history=True)
    return render_template(
        "earning/admin_rules.html",
        rules=every,
        latest_ids=rules.latest_version_ids(every),
        periods=PERIODS,
        last_quarter=period_key("quarter", utcnow() - dt.timedelta(days=92)),
        closes=period_bonus.recent_closes(),
        form=context.pop("form", {}),
        errors=context.pop("errors", {}),
        **context,
    ), status


@bp.get("/admin/rules")
@login_required
def admin_rules():
    """List every rule version with forms to publish and switch rules."""
    _require(policy.can_edit_rules(current_user))
    return _rules_page()


@bp.post("/admin/rules")
@login_required
def publish_rule():
    """Publish a rule (a new version when the type already has one)."""
    form = request.form
    try:
        points = int(form.get("points", "").strip())
    except ValueError:
        points = None  # still validate the other fields, to report every problem at once
    try:
        translations = names.form_translations(form) if form.get("name_zh", "").strip() else None  # empty: keep the current ones
        rule = rules.publish_rule(
            current_user,
            event_type=form.get("event_type", ""),
            name=form.get("name", ""),
            points=points,
            translations=translations,
        )
    except DomainError as error:
        refuse()
        errors = _errors(error, "event_type")
        if points is None:
            errors = errors | {"points": [_("Enter a whole number, negative for a deduction.")]}
        return _rules_page(error.status, form=form, errors=errors)
    flash(_("Rule %(name)s published: %(points)d points from now on.", name=names.localized(rule), points=rule.points), "success")
    return redirect(url_for("earning.admin_rules"))


@bp.post("/admin/rules/<int:rule_id>/active")
@login_required
def set_rule_active(rule_id: int):
    """Switch a rule on or off."""
    rule = rules.set_rule_active(current_user, rule_id, request.form.get("active") == "1")
    message = (
        _("%(name)s is on.", name=names.localized(rule)) if rule.active else _("%(name)s is off.", name=names.localized(rule))
    )
    flash(message, "success")
    return redirect(url_for("earning.admin_rules"))


@bp.post("/admin/periods/close")
@login_required
def close_period():
    """Award the period bonuses of one period, once per user."""
    try:
        results = period_bonus.close_period(current_user, request.form.get("period", ""), request.form.get("key", "").strip())
    except DomainError as error:
        refuse()
        return _rules_page(error.status, close_error=error.message)
    if not results:
        flash(_("No period bonus rule is switched on for that period; nothing awarded."), "error")
    for result in results:
        flash(
            _(
                "%(name)s %(key)s: %(count)d awarded, %(paid)d already paid, %(vetoed)d vetoed.",
                name=names.localized(result.rule),
                key=period_label(result.period_key),
                count=len(result.awarded),
                paid=len(result.already_paid),
                vetoed=len(result.vetoed),
            ),
            "success",
        )
    return redirect(url_for("earning.admin_rules"))


# --- events log (admins) ---------------------------------------------------------


@bp.get("/admin/events")
@login_required
def events_log():
    """Filter events by user, type and date, with their awards and reversals."""
    filters = EventFilters.from_args(request.args)
    rows, next_cursor = search_events(current_user, filters, request.args.get("cursor"))
    names = user_names({e.user_id for r in rows for e in r.entries})
    context = dict(rows=rows, next_cursor=next_cursor, names=names, filters=filters)
    if wants_fragment() and request.args.get("cursor"):
        return render_template("earning/_event_rows.html", **context)
    users = list(db.session.scalars(sa.select(User).order_by(User.name)))
    vetoed = list(
        db.session.execute(sa.select(Veto, User).join(User, User.id == Veto.user_id).where(Veto.lifted_at.is_(None))).all()
    )
    return render_template("earning/events_log.html", users=users, types=event_types(), vetoes=vetoed, **context)


@bp.get("/admin/events/<int:event_id>")
@login_required
def event_page(event_id: int):
    """Show one event with its awards, reversals and the Reverse button."""
    rows, _cursor = search_events(current_user, EventFilters(event_id=event_id))
    if not rows:
        abort(404)
    names = user_names({e.user_id for e in rows[0].entries + rows[0].cascade})
    return render_template("earning/event.html", row=rows[0], rows=rows, names=names, next_cursor=None, filters=EventFilters())


@bp.post("/admin/events/<int:event_id>/reverse")
@login_required
def reverse_event(event_id: int):
    """Reverse an event's awards, with a reason."""
    try:
        event, entries = earning.reverse_event(current_user, event_id, request.form.get("reason", ""))
    except DomainError as error:
        refuse()
        flash(error.message, "error")
    else:
        flash(_("Event %(id)s reversed: %(count)d entries.", id=event.external_id, count=len(entries)), "success")
    return redirect(safe_next(request.form.get("next"), url_for("earning.events_log")))


@bp.post("/admin/vetoes/<int:veto_id>/lift")
@login_required
def lift_veto(veto_id: int):
    """Lift a compliance veto, with a reason."""
    try:
        vetoes.lift_veto(current_user, veto_id, request.form.get("reason", ""))
    except DomainError as error:
        refuse()
        flash(error.message, "error")
    else:
        flash(_("Veto lifted."), "success")
    return redirect(url_for("earning.events_log"))


# --- CSV import (admins) ---------------------------------------------------------


@bp.get("/admin/events/import")
@login_required
def import_page():
    """Upload a CSV of events."""
    _require(policy.can_import_events(current_user))
    return _import_form({})


def _import_form(errors: dict, status: int = 200):
    """The upload form, with a sample file made of real people's emails (the demo's when there are too few)."""
    emails = list(
        db.session.scalars(
            sa.select(User.email).where(User.role == "employee", User.is_active_account.is_(True)).order_by(User.id).limit(3)
        )
    )
    if len(emails) < 3:
        emails = ["chen.jing@demo.bank", "li.wei@demo.bank", "liu.yang@demo.bank"]
    return render_template("earning/import.html", errors=errors, sample=emails), status


@bp.post("/admin/events/import")
@upload_limit
@login_required
def start_import():
    """Store the upload and go to its progress page."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_form({"file": [_("Choose a CSV file to import.")]}, 422)
    try:
        job = events_import.start_import(current_user, upload.filename, upload.read())
    except DomainError as error:
        refuse()
        return _import_form({"file": [error.message]}, error.status)
    return redirect(url_for("earning.import_status", import_id=job.id))


@bp.get("/admin/events/import/<int:import_id>")
@login_required
def import_status(import_id: int):
    """Show an import's progress bar and, when done, its per-row report."""
    job = events_import.get_import(current_user, import_id)
    template = "earning/_import_progress.html" if wants_fragment() else "earning/import_status.html"
    return render_template(template, job=job, counts=events_import.summary(job.results))


@bp.post("/admin/events/import/<int:import_id>/step")
@login_required
def import_step(import_id: int):
    """Import the next chunk and return the progress fragment (htmx polls this)."""
    job = events_import.process_chunk(current_user, import_id)
    return render_template("earning/_import_progress.html", job=job, counts=events_import.summary(job.results))


# --- mentorships (leads, admins) ---------------------------------------------------


def _mentorships_page(status: int = 200, errors: dict | None = None, form=None, message: str | None = None):
    people = [u for u in db.session.scalars(sa.select(User).order_by(User.name)) if policy.can_pair_mentors(current_user, u, u)]
    return render_template(
        "earning/mentorships.html",
        mentorships=mentoring.visible_mentorships(current_user),
        people=people,
        errors=errors or {},
        form=form or {},
        message=message,
        bonus_rule=next((r for r in rules.list_rules() if r.event_type == rules.MENTORSHIP_BONUS_TYPE), None),
    ), status


@bp.get("/mentorships")
@login_required
def mentorships():
    """List mentorships and pair a mentor with a mentee."""
    _require(policy.can_manage_mentorships(current_user))
    return _mentorships_page()


@bp.post("/mentorships")
@login_required
def create_mentorship():
    """Pair a mentor with a mentee."""
    form = request.form
    mentor_id, mentee_id = form_id(form, "mentor_id"), form_id(form, "mentee_id")
    if not (mentor_id and mentee_id):
        return _mentorships_page(422, {"mentor_id": [_("Choose a mentor and a mentee.")]}, form)
    try:
        mentoring.create_mentorship(current_user, mentor_id, mentee_id)
    except DomainError as error:
        refuse()
        return _mentorships_page(error.status, _errors(error, "mentee_id"), form, error.message)
    flash(_("Mentorship started."), "success")
    return redirect(url_for("earning.mentorships"))


@bp.post("/mentorships/<int:mentorship_id>/end")
@login_required
def end_mentorship(mentorship_id: int):
    """End a mentorship."""
    mentoring.end_mentorship(current_user, mentorship_id)
    flash(_("Mentorship ended."), "success")
    return redirect(url_for("earning.mentorships"))
