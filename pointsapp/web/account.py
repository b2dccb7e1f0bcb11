"""My account: password and language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from pointsapp import auth, org
from pointsapp.errors import DomainError
from pointsapp.lifecycle import refuse

bp = Blueprint("account", __name__)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def index():
    """Change my password or language."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.form.get("action") == "language":
                org.set_locale(
                    current_user,
                    request.form.get("locale") if request.form.get("locale") in current_app.config["LANGUAGES"] else None,
                )
                flash(_("Language saved."), "success")
                return redirect(url_for("account.index"))
            auth.change_password(current_user, request.form.get("current", ""), request.form.get("new", ""))
        except DomainError as error:
            refuse()
            errors = error.fields or {"new": [error.message]}
        else:
            # New session, and a new remember cookie if this device had one (the old one no longer works).
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
            login_user(current_user._get_current_object(), remember=remembered)
            flash(_("Password changed. Other devices have been signed out."), "success")
            return redirect(url_for("account.index"))
    return render_template("account/page.html", errors=errors), 422 if errors else 200
