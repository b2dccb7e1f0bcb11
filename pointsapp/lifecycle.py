"""The request lifecycle: one transaction per request, refusals mapped to pages or JSON, security headers, sign-in.

Views and domain operations flush; the request commits once when it ends. It rolls back
instead when anything went wrong: an exception (mapped to a page or the API's error body
here), or a refusal the view caught and answered itself (a form shown again with its
errors, a flash and a redirect), which the view reports with ``refuse()``. The decision
follows that flag, never the status code: a refused form answered with a redirect writes
nothing, and a successful answer with any status commits. (On PostgreSQL a GET reads in
autocommit until it first writes or locks, from where its transaction begins: see
``database``. Its reads see the same data either way, under READ COMMITTED.)
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError

from pointsapp import auth, text
from pointsapp.errors import DomainError, ValidationFailed
from pointsapp.extensions import api, db, login_manager
from pointsapp.http import IdConverter, JSONProvider, error_response, is_api_request
from pointsapp.limits import INT_MAX
from pointsapp.models import User
from pointsapp.session_cookies import SessionCookies

log = logging.getLogger(__name__)

# Content Security Policy: everything from this host; inline styles only for
# progress bars' widths. No inline scripts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)


def init_app(app: Flask) -> None:
    """Install the lifecycle on ``app``; call it before any blueprint is registered (the id converter)."""
    app.url_map.converters["int"] = IdConverter
    app.json = JSONProvider(app)
    app.session_interface = SessionCookies()
    login_manager.login_view = "auth.login"
    # "basic", not "strong": a phone moving between Wi-Fi and 4G changes its address, and "strong"
    # would sign it out. Stolen cookies are answered by the session version instead (a password
    # change, "log out everywhere" and deactivation end every session and remember cookie).
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    app.register_error_handler(DomainError, domain_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected_error)
    # Before every other hook: the CSRF check reads the form, so a view's own body limit must be in place first.
    app.before_request_funcs.setdefault(None, []).insert(0, apply_body_limit)
    app.before_request_funcs[None].insert(1, refuse_unstorable_form)
    app.after_request(end_request)
    app.teardown_request(_forget_refusal)


def apply_body_limit() -> None:
    """A view marked with ``upload_limit`` (a CSV upload) may take a larger body than MAX_CONTENT_LENGTH."""
    limit = getattr(current_app.view_functions.get(request.endpoint), "upload_limit", None)
    if limit:
        request.max_content_length = limit


def refuse_unstorable_form() -> None:
    """Refuse a web form carrying text no database can store (a NUL), before any view reads it.

    The API refuses such text field by field (``text.refuse_unstorable``); every
    form that stores text (challenge, award, rule, reward, badge, team, …) gets the
    same rule here, in one place, so no view can forget it. A browser never sends
    a NUL from a text box: this answers a hand-made request with the error page.
    """
    if is_api_request() or request.method not in ("POST", "PUT", "PATCH"):
        return
    bad = [name for name, value in request.form.items(multi=True) if not (text.storable(name) and text.storable(value))]
    if bad:
        message = _("Must be text without NUL characters or unpaired surrogates.")
        raise ValidationFailed(
            _("The form contains characters that cannot be stored; remove them and try again."),
            fields={text.printable_name(name): [message] for name in bad},
        )


def refuse() -> None:
    """Mark this request refused: nothing it flushed is committed, whatever it answers."""
    g.refused = True


def refused() -> bool:
    """True once this request was refused (by an error handler or by ``refuse``)."""
    return g.get("refused", False)


def load_user(session_id: str) -> User | None:
    """The signed-in user of a session, unless their sessions were ended or they left."""
    user_id, _sep, version = session_id.partition(":")
    if not user_id.isdigit() or int(user_id) > INT_MAX:  # no row has an id past INTEGER's range
        return None
    user = auth.signed_in_user(int(user_id))
    if user is None or str(user.session_version) != version or not user.is_active:
        session["_remember"] = "clear"  # an outdated remember cookie is deleted, not kept around
        return None
    return user


def unauthorized():
    """Not signed in: the API's 401, or the login page (through htmx, a redirect header)."""
    if is_api_request():
        return error_response(401, "unauthorized", "Sign in or send a valid bearer token.")
    if getattr(request, "htmx", False):
        response = current_app.response_class(status=401)
        response.headers["HX-Redirect"] = url_for("auth.login", next=request.full_path)
        return response
    return redirect(url_for("auth.login", next=request.full_path))


def domain_error(error: DomainError):
    """A refusal nobody caught: the API's error body, or the error page."""
    refuse()
    db.session.rollback()  # before rendering, so the page reads a clean session
    if is_api_request():
        return error_response(error.status, error.code, error.message, error.fields, **error.extra)
    return render_template("errors/error.html", status=error.status, error=error), error.status


def http_error(error: HTTPException):
    """An HTTP error (404, 403, a bad body, CSRF, rate limit…): the API's error body, or the error page."""
    refuse()
    return api.handle_http_exception(error)


def unexpected_error(error: Exception):
    """Anything else is a bug: logged, rolled back and answered with a 500."""
    refuse()
    db.session.rollback()
    log.exception("unhandled error")
    if current_app.config.get("PROPAGATE_UNEXPECTED"):
        raise error
    return api.handle_http_exception(InternalServerError())


def end_request(response):
    """Commit the request's work unless it was refused, then add the security headers."""
    if g.pop("refused", False):
        db.session.rollback()
    else:
        try:
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("commit failed")
            if is_api_request():
                response = error_response(409, "conflict", "A concurrent change got there first; please retry.")
            else:
                response = api.handle_http_exception(Conflict(_("A concurrent change got there first; please try again.")))
                response = current_app.make_response(response)
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _forget_refusal(_error=None) -> None:
    g.pop("refused", None)
