"""Log in, log out, language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from pointsapp import auth, org, sso
from pointsapp.extensions import client_address, rate_limit
from pointsapp.web import safe_next

bp = Blueprint("auth", __name__)


def _login_key() -> str:
    return f"{client_address()}:{(request.form.get('email') or '').strip().lower()}"


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect to another host after login."""
    return safe_next(target, url_for("wallet.index"))


@bp.route("/login", methods=["GET", "POST"])
@rate_limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    key_func=_login_key,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
@rate_limit(  # and per address alone, so one address cannot try many accounts
    lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"],
    key_func=client_address,
    methods=["POST"],
    deduct_when=lambda response: response.status_code == 401,
)
def login():
    """Show the login form; sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(url_for("wallet.index"))
    email = request.form.get("email", "")
    if request.method == "POST" and not current_app.config["PASSWORD_LOGIN"]:
        flash(_("Password sign-in is switched off here; use single sign-on."), "error")
        return render_template("auth/login.html", email=email), 403
    if request.method == "POST":
        user = auth.authenticate(email, request.form.get("password", ""))
        if user is not None:
            session.clear()  # a fresh session at login (no fixation)
            login_user(user, remember=bool(request.form.get("remember")))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("The email or password is wrong."), "error")
        return render_template("auth/login.html", email=email), 401
    return render_template("auth/login.html", email=email)


@bp.get("/auth/oidc/login")
def oidc_login():
    """Go to the bank's identity provider to sign in."""
    if not sso.enabled():
        abort(404)
    session["oidc_next"] = _safe_next(request.args.get("next"))
    return sso.start(url_for("auth.oidc_callback", _external=True))


@bp.get("/auth/oidc/callback")
def oidc_callback():
    """Come back from the identity provider: signed in, or on the login page with the reason."""
    if not sso.enabled():
        abort(404)
    try:
        user = sso.finish()
    except sso.SignInRefused as error:
        flash(error.message, "error")
        return redirect(url_for("auth.login"))
    target = _safe_next(session.pop("oidc_next", None))
    session.clear()  # a fresh session at sign-in (no fixation)
    login_user(user)
    return redirect(target)


@bp.post("/logout")
@login_required
def logout():
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    """Switch the interface language (saved on the account when signed in)."""
    locale = request.form.get("locale")
    if locale in current_app.config["LANGUAGES"]:
        if current_user.is_authenticated:
            org.set_locale(current_user, locale)
        session["locale"] = locale
    return redirect(_safe_next(request.form.get("next") or request.referrer and urlsplit(request.referrer).path))
