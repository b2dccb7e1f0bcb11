"""Challenge pages: the list, the launcher for leads, live progress, closing."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pointsapp import budgets, challenges, honours, names, policy
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.lifecycle import refuse
from pointsapp.models import Event, Rule, Team
from pointsapp.periods import org_timezone
from pointsapp.web import form_id

bp = Blueprint("challenges", __name__)


def _wants_fragment() -> bool:
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def _local_input(value: str) -> dt.datetime | None:
    """A datetime-local form value, read in the organisation's time zone."""
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=org_timezone()) if value else None
    except ValueError:
        return None


def _launch_form(status: int = 200, form=None, errors=None):
    teams = [
        t for t in db.session.scalars(sa.select(Team).order_by(Team.name)) if policy.can_manage_challenge(current_user, t.id)
    ]
    known_types = _event_types()
    now = dt.datetime.now(org_timezone()).replace(second=0, microsecond=0, tzinfo=None)
    defaults = {
        "starts_at": now.isoformat(timespec="minutes"),
        "ends_at": (now + dt.timedelta(days=14)).isoformat(timespec="minutes"),
    }
    return render_template(
        "challenges/new.html",
        teams=teams,
        event_types=known_types,
        form=form or defaults,
        errors=errors or {},
        budget=budgets.budgets_for(current_user, [t.id for t in teams]),
    ), status


def _event_types() -> dict[str, str]:
    """Event types a challenge can count: active rules' types with their names, and types already seen in events."""
    seen = {t: t for t in db.session.scalars(sa.select(Event.type).distinct().limit(200))}
    return seen | _metric_names()


def _metric_names() -> dict[str, str]:
    """Event types with the name of their points rule, for people who do not know the codes."""
    rows = db.session.scalars(sa.select(Rule).where(Rule.active.is_(True), Rule.kind == "event"))
    return {rule.event_type: names.localized(rule) for rule in rows}


@bp.get("/challenges", endpoint="index")
@login_required
def index():
    """List my teams' challenges: running first."""
    return render_template("challenges/index.html", items=challenges.visible_challenges(current_user))


@bp.route("/challenges/new", methods=["GET", "POST"], endpoint="new")
@login_required
def new():
    """Show the launcher; launch a challenge for a team I lead."""
    if not policy.leads_any_team(current_user):
        abort(403)
    if request.method == "GET":
        return _launch_form()
    form = request.form
    # The API accepts any type; here a typo would make a challenge that never progresses.
    event_type = form.get("event_type", "").strip()
    unknown = bool(event_type) and event_type not in _event_types()
    team_id = form_id(form, "team_id")
    if not team_id:  # not a number: the list offers teams, so say so rather than "there is no team 0"
        refuse()
        return _launch_form(422, form, {"team_id": [_("Choose a team from the list.")]})
    try:
        challenge = challenges.launch(
            current_user,
            team_id=team_id,
            title=form.get("title", ""),
            translations=names.form_translations(form, names.CHALLENGE_FIELDS),
            event_type="" if unknown else event_type,
            target=form.get("target", type=int) or 0,
            pool=form.get("pool", type=int) or 0,
            starts_at=_local_input(form.get("starts_at", "")),
            ends_at=_local_input(form.get("ends_at", "")),
        )
    except DomainError as error:
        refuse()
        errors = error.fields or {"pool" if error.code == "budget_exhausted" else "team_id": [error.message]}
        if unknown:
            errors = errors | {
                "event_type": [_("%(type)s is not an event type we receive. Choose one from the list.", type=event_type)]
            }
        return _launch_form(error.status, form, errors)
    flash(_("Challenge launched. Your team has been told."), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge.id))


@bp.get("/challenges/<int:challenge_id>", endpoint="detail")
@login_required
def detail(challenge_id: int):
    """Show a challenge's live progress (the progress part refreshes itself)."""
    result = challenges.get_challenge(current_user, challenge_id)
    can_close = policy.can_manage_challenge(current_user, result.team_id)
    template = "challenges/_progress.html" if _wants_fragment() else "challenges/detail.html"
    return render_template(
        template, c=result, can_close=can_close, metric=_metric_names().get(result.event_type, result.event_type)
    )


@bp.post("/challenges/<int:challenge_id>/close", endpoint="close")
@login_required
def close(challenge_id: int):
    """Close a challenge now and pay out the pool if the target was reached."""
    result = challenges.close(current_user, challenge_id)
    if result.status == "succeeded":
        flash(_("Challenge closed: target reached, %(pool)d points shared out.", pool=result.pool), "success")
    else:
        flash(_("Challenge closed: the target was not reached, so no points were paid."), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id))


@bp.post("/challenges/<int:challenge_id>/honour", endpoint="honour")
@login_required
def honour(challenge_id: int):
    """Name the two top contributors of a closed challenge "Team contribution"."""
    try:
        named = honours.honour_top_contributors(current_user, challenge_id)
    except DomainError as error:
        refuse()
        if error.status in (403, 404):
            raise
        flash(error.message, "error")
    else:
        names = ", ".join(h.user.name for h in named)
        flash(_("Team contribution honour given to %(names)s.", names=names), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id))
