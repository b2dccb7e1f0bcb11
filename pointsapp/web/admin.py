"""Admin screens: teams, users, CSV import of users, manual awards."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from pointsapp import awards, budgets, names, org, policy
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.lifecycle import refuse
from pointsapp.models import Team, User
from pointsapp.models.org import ROLES
from pointsapp.web import form_id, upload_limit

bp = Blueprint("admin", __name__, url_prefix="/admin")
ROLE_LABELS = {"employee": _l("Employee"), "lead": _l("Team lead"), "admin": _l("Administrator (HR)")}


def _require_admin() -> None:
    if not policy.can_manage_org(current_user):
        abort(403)


def _org_page(status: int = 200, **context):
    teams = list(db.session.scalars(sa.select(Team).order_by(Team.parent_id.is_not(None), Team.name)))
    users = list(db.session.scalars(sa.select(User).order_by(User.is_active_account.desc(), User.name)))
    return render_template("admin/org.html", teams=teams, users=users, roles=ROLES, role_labels=ROLE_LABELS, **context), status


def _optional_team_id(form, name: str) -> int | None:
    """None when the field is empty, else the id chosen (0 when it is not one)."""
    return form_id(form, name) if form.get(name, "").strip() else None


@bp.get("/org")
@login_required
def org_page():
    """Teams and users."""
    _require_admin()
    return _org_page()


@bp.post("/teams")
@login_required
def create_team():
    """Create a team."""
    _require_admin()
    parent_id = _optional_team_id(request.form, "parent_id")
    if parent_id == 0:
        refuse()
        return _org_page(422, team_errors={"parent_id": [_("Choose a team from the list.")]}, team_form=request.form)
    try:
        team = org.create_team(
            current_user,
            name=request.form.get("name", ""),
            parent_id=parent_id,
            translations=names.form_translations(request.form),
        )
    except DomainError as error:
        refuse()
        return _org_page(422, team_errors=error.fields or {"name": [error.message]}, team_form=request.form)
    flash(_("Team %(name)s created.", name=names.localized(team)), "success")
    return redirect(url_for("admin.org_page"))


@bp.post("/users")
@login_required
def create_user():
    """Create a user."""
    _require_admin()
    form = request.form
    team_id = _optional_team_id(form, "team_id")
    if team_id == 0:
        refuse()
        return _org_page(422, user_errors={"team_id": [_("Choose a team from the list.")]}, user_form=form)
    try:
        user = org.create_user(
            current_user,
            email=form.get("email", ""),
            name=form.get("name", ""),
            role=form.get("role", "employee"),
            team_id=team_id,
            password=form.get("password") or None,
        )
    except DomainError as error:
        refuse()
        return _org_page(422, user_errors=error.fields or {"email": [error.message]}, user_form=form)
    flash(_("User %(name)s created.", name=user.name), "success")
    return redirect(url_for("admin.org_page"))


@bp.post("/users/<int:user_id>/password")
@login_required
def set_password(user_id: int):
    """Set a member's password (first login or a forgotten one); their other sessions end."""
    _require_admin()
    user = db.get_or_404(User, user_id)
    try:
        org.set_password(current_user, user, request.form.get("password", ""))
    except DomainError as error:
        refuse()
        return _org_page(422, password_errors={user.id: error.message})
    flash(_("Password of %(name)s set. Tell them to change it after logging in.", name=user.name), "success")
    return redirect(url_for("admin.org_page"))


@bp.post("/users/<int:user_id>")
@login_required
def update_user(user_id: int):
    """Change a member's name, role, team or active flag; deactivating a leaver ends their sessions."""
    _require_admin()
    form = request.form
    changes = {
        "name": form.get("name", ""),
        "role": form.get("role", ""),
        "active": form.get("active") == "1",
        "team_id": form_id(form, "team_id") or None,
    }
    try:
        user = org.update_user(current_user, user_id, changes)
    except DomainError as error:
        refuse()
        db.session.rollback()  # the page shows the user as they still are
        return _org_page(422, edit_errors={user_id: error.message})
    flash(
        _("%(name)s saved.", name=user.name) if user.is_active_account else _("%(name)s is deactivated.", name=user.name),
        "success",
    )
    return redirect(url_for("admin.org_page"))


@bp.post("/users/<int:user_id>/wecom")
@login_required
def set_wecom_userid(user_id: int):
    """Link a member's WeCom account (their WeCom user id), or unlink it with an empty value."""
    _require_admin()
    try:
        user = org.set_wecom_userid(current_user, user_id, request.form.get("wecom_userid", ""))
    except DomainError as error:
        refuse()
        return _org_page(422, wecom_errors={user_id: (error.fields or {}).get("wecom_userid", [error.message])[0]})
    flash(_("WeCom account of %(name)s saved.", name=user.name), "success")
    return redirect(url_for("admin.org_page"))


@bp.post("/users/import")
@upload_limit
@login_required
def import_users():
    """Import users from a CSV file: every row, or none when a row is bad."""
    _require_admin()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _org_page(422, import_errors=[(0, _("Choose a CSV file to import."))])
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _org_page(422, import_errors=[(0, _("The file is not UTF-8 text."))])
    report = org.import_users(current_user, text)
    if not report.ok:
        return _org_page(422, import_errors=report.errors)
    flash(_("%(count)d users imported.", count=len(report.created)), "success")
    return redirect(url_for("admin.org_page"))


@bp.route("/awards", methods=["GET", "POST"])
@login_required
def award():
    """Award or deduct points for a member, with a reason."""
    if not policy.is_lead_or_admin(current_user):
        abort(403)
    members = [u for u in db.session.scalars(sa.select(User).order_by(User.name)) if policy.can_award(current_user, u)]
    budget = budgets.budgets_for(current_user, [m.team_id for m in members])
    if request.method == "GET":
        return render_template("admin/award.html", members=members, form={}, errors={}, budget=budget)
    form = request.form
    errors: dict[str, list[str]] = {}
    try:
        points = int(form.get("points", ""))
    except ValueError:
        errors["points"] = [_("Enter a whole number, negative for a deduction.")]
    if form_id(form, "user_id") not in {m.id for m in members}:
        errors["user_id"] = [_("Choose a member.")]
    if not form.get("reason", "").strip():
        errors["reason"] = [_("A reason is required; the member will see it.")]
    if not errors:
        try:
            entry = awards.award(current_user, int(form["user_id"]), points, form["reason"])
        except DomainError as error:
            refuse()
            errors = error.fields or {"points" if error.code == "budget_exhausted" else "user_id": [error.message]}
        else:
            member = next(m for m in members if m.id == entry.user_id)
            flash(_("%(points)+d points recorded for %(name)s.", points=entry.points, name=member.name), "success")
            return redirect(url_for("admin.award"))
    budget = budgets.budgets_for(current_user, [m.team_id for m in members])  # after a refusal: what is left now
    return render_template("admin/award.html", members=members, form=form, errors=errors, budget=budget), 422
