"""Unbound extension objects; create_app binds them."""

from flask import current_app, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy.orm import DeclarativeBase

from pointsapp.http import Api


class Base(DeclarativeBase):
    pass


# One commit per request; objects stay readable after it (no reload per attribute).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
htmx = Htmx()
compress = Compress()  # gzip / brotli / zstd for HTML, JSON, CSS and JS, as the client accepts (see compress_response)
api = Api()


def rate_limit(limit, **options):
    """``limiter.limit`` for a view function or method, and the view marked as limited (``skips_the_limiter``).

    Every rate limit in pointsapp is declared with this, on the view it guards
    (sign-in by form and by API): there are no default or application-wide limits.
    """
    decorate = limiter.limit(limit, **options)

    def apply(view):
        limited = decorate(view)
        limited.rate_limited = True
        return limited

    return apply


@limiter.request_filter
def skips_the_limiter() -> bool:
    """True for a request to a view without a limit of its own: the limiter does not look at it.

    Flask-Limiter looks for default, application and blueprint limits before every
    request, whatever the view; there are none here, and the search cost a tenth of
    the CPU of a wallet page served from its cache.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    view_class = getattr(view, "view_class", None)
    handler = getattr(view_class, request.method.lower(), None) if view_class is not None else view
    return not getattr(handler, "rate_limited", False)


def client_address() -> str:
    """The caller's address, for rate-limit keys."""
    return request.remote_addr or "unknown"


def compress_response(response):
    """Compress as the client accepts, then close the file a static response was reading (Flask-Compress reads it whole)."""
    original = response.response
    response = compress.after_request(response)
    if response.response is not original and hasattr(original, "close"):
        original.close()
    return response
