"""Signed cookie sessions (Flask's), a cookie read again without its signature checked again."""

from __future__ import annotations

import copy
import time

from flask import current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from pointsapp.page_cache import TimedCache


def sessionless(view):
    """This view's answer is the same for everyone (the offline page, the service worker): it never sets a cookie.

    The service worker fetches such pages in the background while the person signs
    in. Reading the session can change it (Flask-Login marks an anonymous session
    not fresh), and a response that left before the sign-in, carrying the session it
    was sent with, would arrive after it and replace the signed-in cookie.
    """
    view.sessionless = True
    return view


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, with the work of reading the same cookie again done once.

    A phone sends the same cookie with every request until the session changes,
    and Flask built its signing serializer, checked the signature and decoded the
    contents afresh each time: together more CPU than a cached wallet page's reads.
    Here the serializer is built once per set of secret keys, and a cookie already
    verified with those keys (the very same text, signature included) is not
    verified again: its contents are copied from the first reading, and only its
    age is checked against the session's lifetime, as the first reading did.
    Rotating the key (``SECRET_KEY_FALLBACKS``) starts afresh.
    """

    READ_COOKIES = 1024  # the cookies remembered as verified, per worker: the people using it at one time

    _built: tuple[tuple, URLSafeTimedSerializer | None, TimedCache | None] = ((), None, None)

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        return self._for_keys(app)[0]

    def _for_keys(self, app) -> tuple[URLSafeTimedSerializer | None, TimedCache | None]:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built_for, serializer, verified = self._built
        if built_for != keys:
            serializer = super().get_signing_serializer(app)
            verified = TimedCache(self.READ_COOKIES, 3600)
            self._built = (keys, serializer, verified)
        return serializer, verified

    def open_session(self, app, request) -> SecureCookieSession | None:
        serializer, verified = self._for_keys(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = verified.get(value)
        if known is None:
            try:
                data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return self.session_class()
            verified.put(value, (data, signed_at))
            return self.session_class(copy.deepcopy(data))
        data, signed_at = known
        age = int(time.time()) - int(signed_at.timestamp())  # whole seconds, as the serializer counts them
        if not 0 <= age <= max_age:  # where the serializer would refuse it (SignatureExpired)
            return self.session_class()
        return self.session_class(copy.deepcopy(data))

    def save_session(self, app, session, response) -> None:
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, "sessionless", False):
            # Nor any other cookie drawn from the session it was sent with (Flask-Login's
            # remember cookie, set or deleted after the request): this runs after those hooks.
            response.headers.remove("Set-Cookie")
            return
        super().save_session(app, session, response)
