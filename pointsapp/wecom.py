"""WeCom (企业微信) adapter: the access token and sending one application message.

The only module that talks to WeCom. Settings: ``WECOM_CORP_ID``,
``WECOM_AGENT_ID``, ``WECOM_SECRET`` (the application's secret) and
``WECOM_API_BASE`` (default ``https://qyapi.weixin.qq.com``).

The access token (``GET /cgi-bin/gettoken``) is cached per process until
shortly before its ``expires_in`` and fetched again when WeCom answers that it
is invalid or expired (errcode 40014, 42001, 40082), then the message is sent
once more. WeCom's answers map to what the outbox does with the notification:
delivered, retry later (system busy, rate limits, an unreachable server), or
drop (the user is unknown to WeCom, the message is refused).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

import requests
from flask import current_app

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
TOKEN_MARGIN_SECONDS = 300  # fetch a new token this long before the old one expires
TOKEN_ERRORS = {40014, 42001, 40082}  # invalid access_token, access_token expired, invalid suite token
RETRY_ERRORS = {-1, 45009, 45033, 45047, 44004}  # system busy, rate limited, too many at once, queue full, empty
GONE_ERRORS = {40003, 60111, 81013, 60102, 60103}  # no such user / user id invalid / all recipients invalid
MAX_TEXT_BYTES = 2048  # a text message's content limit

_lock = threading.Lock()


@dataclasses.dataclass(frozen=True)
class WecomResult:
    """WeCom's answer to one message: errcode 0 is delivered; -2 means it could not be reached."""

    errcode: int
    msgid: str | None = None

    @property
    def delivered(self) -> bool:
        return self.errcode == 0

    @property
    def retryable(self) -> bool:
        return self.errcode == -2 or self.errcode in RETRY_ERRORS or self.errcode in TOKEN_ERRORS

    @property
    def gone(self) -> bool:
        return self.errcode in GONE_ERRORS


def configured() -> bool:
    """Whether WeCom delivery is set up (corp id, agent id and secret)."""
    config = current_app.config
    return bool(config.get("WECOM_CORP_ID") and config.get("WECOM_AGENT_ID") and config.get("WECOM_SECRET"))


def _base() -> str:
    return current_app.config.get("WECOM_API_BASE") or "https://qyapi.weixin.qq.com"


def _cache() -> dict:
    return current_app.extensions.setdefault("pointsapp_wecom", {"token": None, "expires": 0.0})


def access_token(*, refresh: bool = False) -> str | None:
    """The cached access token, fetched anew when missing, near expiry, or ``refresh``; None when unreachable."""
    cache = _cache()
    with _lock:
        if not refresh and cache["token"] and time.monotonic() < cache["expires"]:
            return cache["token"]
        config = current_app.config
        try:
            answer = requests.get(
                f"{_base()}/cgi-bin/gettoken",
                params={"corpid": config["WECOM_CORP_ID"], "corpsecret": config["WECOM_SECRET"]},
                timeout=TIMEOUT_SECONDS,
            ).json()
        except (requests.RequestException, ValueError) as error:
            log.warning("WeCom gettoken failed: %s", type(error).__name__)
            return None
        if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
            log.warning("WeCom gettoken refused: errcode %s", answer.get("errcode"))
            cache["token"] = None
            return None
        lifetime = int(answer.get("expires_in") or 7200)
        cache["token"] = answer["access_token"]
        cache["expires"] = time.monotonic() + max(0, lifetime - TOKEN_MARGIN_SECONDS)
        return cache["token"]


def _post_message(token: str, body: dict) -> WecomResult:
    try:
        answer = requests.post(
            f"{_base()}/cgi-bin/message/send", params={"access_token": token}, json=body, timeout=TIMEOUT_SECONDS
        ).json()
    except (requests.RequestException, ValueError) as error:
        log.warning("WeCom message/send failed: %s", type(error).__name__)
        return WecomResult(-2)
    errcode = int(answer.get("errcode", -2))
    invalid = set(filter(None, str(answer.get("invaliduser") or "").split("|")))
    if errcode == 0 and body["touser"] in invalid:
        errcode = 81013  # accepted for nobody: our one recipient is unknown
    return WecomResult(errcode, answer.get("msgid"))


def send_text(userid: str, title: str, body: str, url: str | None = None) -> WecomResult:
    """Send one text message to a WeCom user; refresh the token once if WeCom says it is stale."""
    content = f"{title}\n{body}" + (f"\n{url}" if url else "")
    while len(content.encode()) > MAX_TEXT_BYTES:
        content = content[: len(content) * MAX_TEXT_BYTES // len(content.encode()) - 2] + "…"
    message = {
        "touser": userid,
        "msgtype": "text",
        "agentid": int(current_app.config["WECOM_AGENT_ID"]),
        "text": {"content": content},
        "safe": 0,
    }
    token = access_token()
    if token is None:
        return WecomResult(-2)
    result = _post_message(token, message)
    if result.errcode in TOKEN_ERRORS:
        token = access_token(refresh=True)
        result = _post_message(token, message) if token else WecomResult(-2)
    return result
