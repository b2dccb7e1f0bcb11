"""Settings from the environment, with safe defaults."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A checkout (or an editable install) reads the top-level folders; an installed wheel carries copies in pointsapp/bundle/.
RESOURCES = PROJECT_ROOT if (PROJECT_ROOT / "migrations").is_dir() else Path(__file__).resolve().parent / "bundle"
TEMPLATES = RESOURCES / "templates"
STATIC = RESOURCES / "static"
MIGRATIONS = RESOURCES / "migrations"
MANIFEST = RESOURCES / "manifest.json"
INSTANCE_DIR = Path(os.environ.get("POINTSAPP_INSTANCE", PROJECT_ROOT / "instance"))


def _secret_key(instance_dir: Path) -> str:
    """Return SECRET_KEY from the environment, else one generated once into instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _database_url(instance_dir: Path) -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{instance_dir / 'pointsapp.db'}")
    if url.startswith("postgres://"):  # the scheme Heroku-style providers hand out
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _list(name: str) -> list[str] | None:
    raw = os.environ.get(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else None


def load_settings() -> dict:
    """Collect every setting; create_app lets a config dict override any of them."""
    instance_dir = INSTANCE_DIR
    return {
        "INSTANCE_DIR": str(instance_dir),
        "SECRET_KEY": _secret_key(instance_dir),
        "SQLALCHEMY_DATABASE_URI": _database_url(instance_dir),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "POINTSAPP_TIMEZONE": os.environ.get("POINTSAPP_TIMEZONE", "Asia/Shanghai"),
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": os.environ.get("RATELIMIT_ENABLED", "1") != "0",
        "RATELIMIT_HEADERS_ENABLED": True,
        "COMPRESS_REGISTER": False,  # create_app registers extensions.compress_response instead
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
        "LOGIN_ADDRESS_RATE_LIMIT": os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "30 per minute"),
        # How many reverse proxies (load balancer, ingress) stand in front and set X-Forwarded-For/-Proto/-Host.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
        # Request bodies: 2 MB holds a 1,000-event batch many times over; CSV uploads have their own limit (CSV_UPLOAD_MAX_BYTES).
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": os.environ.get("SESSION_COOKIE_SECURE", "0") == "1",
        "REMEMBER_COOKIE_DURATION": dt.timedelta(days=int(os.environ.get("REMEMBER_DAYS", "30"))),
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "LANGUAGES": ["en", "zh"],
        "PASSWORD_MIN_LENGTH": 12,
        # zxcvbn's score (0-4) a password needs: 3 means about 10^8 guesses, beyond common and patterned passwords.
        "PASSWORD_MIN_SCORE": int(os.environ.get("PASSWORD_MIN_SCORE", "3")),
        "API_TITLE": "pointsapp API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
        "PUSH_ENDPOINT_ALLOWLIST": _list("PUSH_ENDPOINT_ALLOWLIST"),
        "VAPID_PRIVATE_KEY": os.environ.get("VAPID_PRIVATE_KEY"),
        "VAPID_PUBLIC_KEY": os.environ.get("VAPID_PUBLIC_KEY"),
        "VAPID_SUBJECT": os.environ.get("VAPID_SUBJECT", "mailto:admin@pointsapp.invalid"),
        # WeCom (企业微信) application messages: off until all three are set.
        "WECOM_CORP_ID": os.environ.get("WECOM_CORP_ID"),
        "WECOM_AGENT_ID": os.environ.get("WECOM_AGENT_ID"),
        "WECOM_SECRET": os.environ.get("WECOM_SECRET"),
        "WECOM_API_BASE": os.environ.get("WECOM_API_BASE", "https://qyapi.weixin.qq.com"),
        # The app's public address, for the link under a WeCom message (none when unset).
        "WECOM_APP_URL": os.environ.get("WECOM_APP_URL"),
        # An open wallet page asks for new points this often (a cheap request answered 204 when nothing changed).
        "WALLET_LIVE_SECONDS": int(os.environ.get("WALLET_LIVE_SECONDS", "5")),
        # A worker keeps a wallet page's rendered content until the wallet changes (its version, read on every
        # view) and at most this long: how late other people's points reach my rank panel, or a renamed rule
        # the reasons of my entries. 0 renders every view afresh.
        "WALLET_PAGE_SECONDS": int(os.environ.get("WALLET_PAGE_SECONDS", "30")),
        # Pages (and their contents) kept per worker, about 16 kB each.
        "WALLET_PAGE_CACHE_SIZE": int(os.environ.get("WALLET_PAGE_CACHE_SIZE", "1000")),
        # SQLite: pages in the write-ahead log after which a write request checkpoints once it has answered
        # (database.CHECKPOINT_PAGES: some 40 MB, a few ingestion batches at 10,000 users).
        "SQLITE_CHECKPOINT_PAGES": int(os.environ.get("SQLITE_CHECKPOINT_PAGES", "10000")),
        "REDEMPTION_EXPIRY_DAYS": int(os.environ.get("REDEMPTION_EXPIRY_DAYS", "14")),
        # A lead may award or deduct at most this many points at once; larger amounts go through HR.
        "LEAD_AWARD_LIMIT": int(os.environ.get("LEAD_AWARD_LIMIT", "500")),
        # Single sign-on with OpenID Connect (discovery from the issuer); password login can be switched off.
        "OIDC_ISSUER": os.environ.get("OIDC_ISSUER"),
        "OIDC_CLIENT_ID": os.environ.get("OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": os.environ.get("OIDC_CLIENT_SECRET"),
        "OIDC_NAME": os.environ.get("OIDC_NAME", "SSO"),
        "PASSWORD_LOGIN": os.environ.get("PASSWORD_LOGIN", "1") != "0",
        # A leaver's unspent points: "keep" (frozen on the account) or "forfeit" (one forfeit entry to zero).
        "LEAVER_POLICY": os.environ.get("LEAVER_POLICY", "keep"),
        # Event types that claw back the event they name in related_external_id (e.g. a bad loan).
        "CLAWBACK_EVENT_TYPES": _list("CLAWBACK_EVENT_TYPES") or ["bad_loan"],
        # Deals whose first occurrence after a mentorship began pays the mentorship bonus.
        "MENTORSHIP_DEAL_TYPES": _list("MENTORSHIP_DEAL_TYPES") or ["loan_signed", "hnw_client_signed", "wealth_product_sold"],
        # Each team's monthly points budget for lead awards and challenge pools, unless an admin set one.
        "TEAM_MONTHLY_BUDGET": int(os.environ.get("TEAM_MONTHLY_BUDGET", "5000")),
        "DEFAULT_WEEKLY_GOALS": {"employee": 100, "lead": 60, "admin": 0},
        "LEVELS": [
            (0, "Bronze"),
            (500, "Silver"),
            (1500, "Gold"),
            (4000, "Platinum"),
            (10000, "Diamond"),
        ],
    }
