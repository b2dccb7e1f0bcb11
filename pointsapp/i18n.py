"""Locale and time-zone selection for Flask-Babel."""

from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_login import current_user


def select_locale() -> str:
    """The user's own setting, else the browser's Accept-Language, else English."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and domain calls outside a request
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = current_user if current_user else None
    if user is not None and user.is_authenticated and getattr(user, "locale", None) in languages:
        return user.locale
    if session.get("locale") in languages:
        return session["locale"]
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["POINTSAPP_TIMEZONE"]
