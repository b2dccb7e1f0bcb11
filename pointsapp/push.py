"""Web Push adapter: VAPID keys, subscription checks, and sending one message.

The only module that imports pywebpush (in ``send``, so web workers never load it). Everything here is about the wire:
which endpoints we may POST to (never an address a user chose), which keys
are valid P-256 points, and what a push service's answer means. What a message
says, preferences and reminders live in ``notify.py``; the worker that
delivers the outbox lives in ``outbox.py``.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import email.utils
import logging
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from flask_babel import gettext as _
from py_vapid import Vapid

log = logging.getLogger(__name__)

# Hosts of the public push services a browser may hand out (exact host, or a
# suffix starting with a dot).
PUBLIC_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    ".push.services.mozilla.com",
    ".push.apple.com",
    ".notify.windows.com",
)
MAX_ENDPOINT_LENGTH = 1024
SEND_TIMEOUT_SECONDS = 10
VAPID_KEY_FILE = "vapid_private_key"


# --- base64url ------------------------------------------------------------------


def b64url_decode(value: str) -> bytes:
    """Decode URL-safe base64 with or without padding; ValueError when it is not."""
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- VAPID keys -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey
    public_key: str  # URL-safe base64 of the uncompressed point

    def __repr__(self) -> str:  # never let the private key reach a log line
        return f"VapidKeys(public_key={self.public_key!r})"


def _private_raw(key: ec.EllipticCurvePrivateKey) -> str:
    return b64url_encode(key.private_numbers().private_value.to_bytes(32, "big"))


def _public_raw(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url_encode(point)


def _load_private(value: str) -> ec.EllipticCurvePrivateKey:
    """A raw 32-byte scalar (base64url, as web-push tools print it) or a base64 DER key."""
    return Vapid.from_string(private_key=value.strip()).private_key


def _key_file_private(instance_path: str) -> str:
    """Read the generated key, or create it once (0600) — safe when two processes race."""
    path = Path(instance_path) / VAPID_KEY_FILE
    if not path.exists():
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{VAPID_KEY_FILE}.{secrets.token_hex(6)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(_private_raw(ec.generate_private_key(ec.SECP256R1())) + "\n")
        try:
            os.link(temporary, path)  # atomic: the first process wins, the others read its key
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def vapid_keys() -> VapidKeys:
    """Return this deployment's VAPID keys: from the settings, else generated into instance/."""
    app = current_app._get_current_object()
    cached = app.extensions.get("pointsapp_vapid")
    if cached is not None:
        return cached
    configured = app.config.get("VAPID_PRIVATE_KEY")
    private = _load_private(configured or _key_file_private(app.instance_path))
    public = _public_raw(private)
    expected = app.config.get("VAPID_PUBLIC_KEY")
    if expected and b64url_decode(expected) != b64url_decode(public):
        raise RuntimeError("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY.")
    if expected and not configured:
        raise RuntimeError("VAPID_PUBLIC_KEY is set without VAPID_PRIVATE_KEY.")
    keys = app.extensions["pointsapp_vapid"] = VapidKeys(private, public)
    return keys


# --- subscription checks --------------------------------------------------------


def _origin_parts(url: str) -> tuple[str, str, int, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    if not parts.hostname or parts.username or parts.password:
        return None
    return parts.scheme.lower(), parts.hostname.lower(), port, parts.path or "/"


def _matches_prefix(endpoint: str, prefix: str) -> bool:
    """Scheme, host and port equal, and the path under the prefix's (no ``host.evil`` tricks)."""
    got, allowed = _origin_parts(endpoint), _origin_parts(prefix)
    if got is None or allowed is None or got[:3] != allowed[:3]:
        return False
    base = allowed[3] if allowed[3].endswith("/") else allowed[3] + "/"
    return got[3] == allowed[3] or got[3].startswith(base)


def endpoint_problem(endpoint: object, allowlist: list[str] | None) -> str | None:
    """Why this endpoint is refused, or None when the server may POST to it."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        return "An endpoint URL is required."
    if len(endpoint) > MAX_ENDPOINT_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in endpoint):
        return "This is not a push endpoint URL."
    if allowlist and any(_matches_prefix(endpoint, prefix) for prefix in allowlist):
        return None
    parts = _origin_parts(endpoint)
    if parts is None or parts[0] != "https" or parts[2] != 443:
        return "Only https:// endpoints of a public push service are accepted."
    host = parts[1]
    if any(host == name or (name.startswith(".") and host.endswith(name)) for name in PUBLIC_PUSH_HOSTS):
        return None
    return "This endpoint does not belong to a known push service."


def key_problems(p256dh: object, auth: object) -> dict[str, list[str]]:
    """Field errors for the subscription's keys (empty when both are valid)."""
    problems: dict[str, list[str]] = {}
    try:
        point = b64url_decode(p256dh)  # type: ignore[arg-type]
        if len(point) != 65 or point[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (ValueError, TypeError):
        problems["p256dh"] = [_("Must be a URL-safe base64 uncompressed P-256 public key (65 bytes).")]
    try:
        if len(b64url_decode(auth)) != 16:  # type: ignore[arg-type]
            raise ValueError
    except (ValueError, TypeError):
        problems["auth"] = [_("Must be a URL-safe base64 16-byte authentication secret.")]
    return problems


# --- sending --------------------------------------------------------------------


class _NoRedirects(requests.Session):
    """A session that hands back a 3xx as the answer instead of following its Location."""

    def get_redirect_target(self, resp):
        return None


def allowed_now(endpoint: str) -> bool:
    """Whether the endpoint passes the rules in force now (PUSH_ENDPOINT_ALLOWLIST or the public services)."""
    return endpoint_problem(endpoint, current_app.config.get("PUSH_ENDPOINT_ALLOWLIST")) is None


@dataclasses.dataclass(frozen=True)
class PushResult:
    """What the push service answered; status 0 when it could not be reached or was not contacted (``refused``)."""

    status: int
    retry_after: int | None = None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status in (404, 410)

    @property
    def retryable(self) -> bool:
        return not self.refused and (self.status == 0 or self.status == 429 or self.status >= 500)


def _retry_after(value: str | None) -> int | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return int(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, int((moment - dt.datetime.now(dt.timezone.utc)).total_seconds()))


def send(endpoint: str, p256dh: str, auth: str, payload: str, *, ttl: int, urgency: str) -> PushResult:
    """Encrypt (aes128gcm) and POST one message to a subscription, signed with our VAPID key.

    The endpoint is checked again against the rules in force now (it may have been stored under an older
    allowlist): a refused one is never contacted. Redirects are never followed: a 3xx is a failed send.
    """
    if not allowed_now(endpoint):
        log.warning("push endpoint on %s no longer allowed; not contacted", urlsplit(endpoint).hostname)
        return PushResult(0, refused=True)
    # Imported here: pywebpush brings aiohttp (about 10 MB), needed only by the worker that sends.
    from pywebpush import WebPushException, webpush

    keys = vapid_keys()
    vapid = Vapid(private_key=keys.private_key)
    # pywebpush writes "aud" and "exp" into the claims it is given: a fresh dict
    # per call, or one endpoint's audience would leak into the next one's token.
    claims = {"sub": current_app.config["VAPID_SUBJECT"]}
    session = _NoRedirects()
    try:
        response = webpush(
            {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=payload,
            vapid_private_key=vapid,
            vapid_claims=claims,
            ttl=ttl,
            timeout=SEND_TIMEOUT_SECONDS,
            headers={"Urgency": urgency},
            requests_session=session,
        )
    except WebPushException as error:
        if error.response is None:
            log.warning("push to %s failed before an answer", urlsplit(endpoint).hostname)
            return PushResult(0)
        return PushResult(error.response.status_code, _retry_after(error.response.headers.get("Retry-After")))
    except requests.RequestException as error:
        log.warning("push service %s unreachable: %s", urlsplit(endpoint).hostname, type(error).__name__)
        return PushResult(0)
    finally:
        session.close()
    return PushResult(response.status_code)
