"""Unbound extension objects; create_app binds them."""

from flask import request
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
