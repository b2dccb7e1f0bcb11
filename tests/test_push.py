"""The push worker end to end: a local push service on 127.0.0.1 receives, we decrypt and verify."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import threading
import time

import http_ece
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from pointsapp import notify, outbox, push
from pointsapp.extensions import db
from pointsapp.models import Notification, PushSubscription, User
from pointsapp.models.notify import PushDelivery
from tests.conftest import run_concurrently


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushService:
    """A push service on 127.0.0.1: records every request, answers what a test scripted per path."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: dict[str, list[tuple[int, dict]]] = {}
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                service.requests.append(
                    {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                )
                answers = service.script.get(self.path) or [(201, {})]
                status, headers = answers.pop(0) if len(answers) > 1 else answers[0]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str, *answers: int | tuple[int, dict]):
        self.script[path] = [a if isinstance(a, tuple) else (a, {}) for a in answers]

    def to(self, path: str) -> list[dict]:
        return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def service(app):
    running = PushService()
    app.config["PUSH_ENDPOINT_ALLOWLIST"] = [running.url + "/"]
    try:
        yield running
    finally:
        app.config["PUSH_ENDPOINT_ALLOWLIST"] = None
        running.stop()


class Browser:
    """A subscription's key pair and secret, as a browser would hold them."""

    def __init__(self, service: PushService, path: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = b"0123456789abcdef"
        self.path = path
        self.endpoint = service.url + path
        point = self.key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        self.json = {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": b64(point), "auth": b64(self.auth)}}

    def decrypt(self, request: dict) -> dict:
        assert request["headers"]["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(request["body"], private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


def verify_vapid(request: dict, service: PushService, public_key: str) -> dict:
    """Check the VAPID JWT's ES256 signature against our public key; return its claims."""
    scheme, _, params = request["headers"]["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.split("=", 1) for part in params.split(","))
    assert fields["k"] == public_key
    header, claims, signature = fields["t"].split(".")
    raw = unb64(signature)
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(public_key))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    decoded = json.loads(unb64(claims))
    assert decoded["aud"] == service.url
    assert decoded["exp"] > time.time()
    assert decoded["sub"].startswith("mailto:")
    return decoded


def subscribe(api_as, user, browser: Browser):
    response = api_as(user).post("/push/subscriptions", browser.json)
    assert response.status_code == 201, response.get_json()


def test_award_is_pushed_once_to_each_live_subscription_and_the_gone_one_is_removed(api_as, cli, org, service):
    phone, tablet, old_laptop = (Browser(service, p) for p in ("/sub/phone", "/sub/tablet", "/sub/old"))
    for browser in (phone, tablet, old_laptop):
        subscribe(api_as, org.alice, browser)
    service.answer("/sub/old", 410)

    awarded = api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": 120, "reason": "Pension plan sold"})
    assert awarded.status_code == 201
    result = cli.invoke(args=["push-worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output and "gone 1" in result.output
    public_key = api_as().get("/push/vapid-public-key").get_json()["public_key"]
    for browser in (phone, tablet):
        [request] = service.to(browser.path)
        message = browser.decrypt(request)
        assert "120 points" in message["title"]
        assert message["body"] == "Pension plan sold"
        assert message["url"] == "/wallet"
        assert int(request["headers"]["ttl"]) > 0
        assert request["headers"]["urgency"] == "normal"
        verify_vapid(request, service, public_key)
    assert len(service.to("/sub/old")) == 1
    endpoints = set(db.session.scalars(sa.select(PushSubscription.endpoint)))
    assert endpoints == {phone.endpoint, tablet.endpoint}
    notification = db.session.scalar(sa.select(Notification))
    assert notification.status == "sent" and notification.sent_at is not None

    again = cli.invoke(args=["push-worker", "--once"])
    assert "sent 0" in again.output
    assert len(service.requests) == 3  # nothing delivered twice


def test_message_is_in_the_recipients_language(api_as, cli, org, service):
    browser = Browser(service, "/sub/zh")
    subscribe(api_as, org.alice, browser)
    db.session.get(User, org.alice.id).locale = "zh"  # org.alice is detached after the request
    db.session.commit()
    notify.queue(org.alice.id, "reminder", "goal_reminder", {"remaining": 10})
    db.session.commit()

    cli.invoke(args=["push-worker", "--once"])

    with notify.force_locale("zh"):
        expected_title = notify._("Your weekly goal")
    message = browser.decrypt(service.to("/sub/zh")[0])
    assert message["title"] == expected_title
    assert "10" in message["body"]


def test_a_429_waits_for_retry_after_then_delivers(api_as, cli, org, service):
    browser = Browser(service, "/sub/busy")
    subscribe(api_as, org.alice, browser)
    service.answer("/sub/busy", (429, {"Retry-After": "120"}), 201)
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 5})
    db.session.commit()

    cli.invoke(args=["push-worker", "--once"])
    row = db.session.scalar(sa.select(Notification))
    assert row.status == "queued" and row.attempts == 1
    wait = (row.next_attempt_at - dt.datetime.now(dt.timezone.utc)).total_seconds()
    assert 100 < wait <= 120
    assert db.session.scalar(sa.select(sa.func.count(PushDelivery.id))) == 0

    cli.invoke(args=["push-worker", "--once"])
    assert len(service.to("/sub/busy")) == 1  # not yet due: nothing sent

    row = db.session.scalar(sa.select(Notification))  # the worker ended its session: load again
    row.next_attempt_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    db.session.commit()
    cli.invoke(args=["push-worker", "--once"])
    assert len(service.to("/sub/busy")) == 2
    assert db.session.scalar(sa.select(Notification.status)) == "sent"


def test_5xx_is_retried_with_growing_backoff_then_given_up(api_as, org, service):
    subscribe(api_as, org.alice, Browser(service, "/sub/down"))
    service.answer("/sub/down", 500)
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 5})
    db.session.commit()

    delays = []
    for _attempt in range(outbox.MAX_ATTEMPTS):
        now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=len(delays))
        outbox.deliver_due(now=now)
        row = db.session.scalar(sa.select(Notification))
        if row.status == "queued":
            delays.append((row.next_attempt_at - now).total_seconds())

    assert row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS
    assert len(delays) == outbox.MAX_ATTEMPTS - 1
    assert delays == sorted(delays) and delays[0] >= outbox.BACKOFF_BASE_SECONDS
    assert len(service.to("/sub/down")) == outbox.MAX_ATTEMPTS
    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 1  # a 5xx is not "gone"


def test_a_404_deletes_the_subscription(api_as, cli, org, service):
    subscribe(api_as, org.alice, Browser(service, "/sub/unknown"))
    service.answer("/sub/unknown", 404)
    notify.queue(org.alice.id, "badge", "badge_earned", {"name": "Loan star"})
    db.session.commit()

    cli.invoke(args=["push-worker", "--once"])

    assert db.session.scalar(sa.select(sa.func.count(PushSubscription.id))) == 0
    assert db.session.scalar(sa.select(Notification.status)) == "skipped"


def test_retry_after_a_partial_failure_sends_only_to_the_missed_subscription(api_as, org, service):
    ok, flaky = Browser(service, "/sub/ok"), Browser(service, "/sub/flaky")
    subscribe(api_as, org.alice, ok)
    subscribe(api_as, org.alice, flaky)
    service.answer("/sub/flaky", 503, 201)
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 7})
    db.session.commit()

    outbox.deliver_due()
    outbox.deliver_due(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))

    assert len(service.to("/sub/ok")) == 1
    assert len(service.to("/sub/flaky")) == 2
    assert db.session.scalar(sa.select(Notification.status)) == "sent"


def test_concurrent_workers_never_send_a_notification_twice(app, api_as, org, service):
    browsers = [Browser(service, f"/sub/{i}") for i in range(3)]
    for browser in browsers:
        subscribe(api_as, org.alice, browser)
    for points in range(1, 9):
        notify.queue(org.alice.id, "award", "points_awarded", {"points": points})
    db.session.commit()

    def worker(_i):
        with app.app_context():
            try:
                return outbox.deliver_due().sent
            finally:
                db.session.remove()

    sent = run_concurrently(worker, 4)

    assert sum(sent) == 24
    for browser in browsers:
        points = sorted(browser.decrypt(r)["title"] for r in service.to(browser.path))
        assert len(points) == 8 and len(set(points)) == 8


def test_once_delivers_only_what_was_queued_when_it_started(api_as, org, service, monkeypatch):
    subscribe(api_as, org.alice, Browser(service, "/sub/a"))
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 1})
    db.session.commit()
    real_send = push.send

    def send_and_queue_more(*args, **kwargs):
        notify.queue(org.alice.id, "award", "points_awarded", {"points": 2})
        return real_send(*args, **kwargs)

    monkeypatch.setattr(push, "send", send_and_queue_more)
    report = outbox.deliver_due(once=True)

    assert report.sent == 1
    statuses = list(db.session.scalars(sa.select(Notification.status).order_by(Notification.id)))
    assert statuses == ["sent", "queued"]


def test_kinds_turned_off_and_quiet_hours_hold_back_the_push(api_as, org, service):
    subscribe(api_as, org.alice, Browser(service, "/sub/prefs"))
    notify.update_preferences(org.alice, {"awards": False, "badges": True}, dt.time(22, 0), dt.time(7, 0))
    db.session.commit()
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 3})
    notify.queue(org.alice.id, "badge", "badge_earned", {"name": "Night owl"})
    db.session.commit()
    late_evening = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.timezone.utc)  # 23:00 in Shanghai

    report = outbox.deliver_due(now=late_evening)

    assert (report.sent, report.skipped, report.deferred) == (0, 1, 1)
    award, badge = db.session.scalars(sa.select(Notification).order_by(Notification.id))
    assert award.status == "skipped"
    assert badge.status == "queued"
    assert badge.next_attempt_at == dt.datetime(2026, 3, 4, 23, 0, tzinfo=dt.timezone.utc)  # 07:00 local
    report = outbox.deliver_due(now=badge.next_attempt_at)
    assert report.sent == 1 and len(service.to("/sub/prefs")) == 1


def test_payload_stays_within_the_push_size_limit(org):
    long_reason = "很长的理由" * 1000
    row = notify.queue(org.alice.id, "award", "points_awarded", {"points": 9, "reason": long_reason})

    payload = outbox.build_payload(row, org.alice)

    assert len(payload.encode()) <= outbox.MAX_PAYLOAD_BYTES
    message = json.loads(payload)
    assert message["body"].startswith("很长的理由") and message["body"].endswith("…")
    assert message["title"] == "You earned 9 points"


def test_the_private_key_is_never_logged_or_served(api_as, cli, org, service, caplog):
    subscribe(api_as, org.alice, Browser(service, "/sub/log"))
    service.answer("/sub/log", 500)
    notify.queue(org.alice.id, "award", "points_awarded", {"points": 4})
    db.session.commit()
    caplog.set_level("DEBUG")

    result = cli.invoke(args=["push-worker", "--once"])
    served = api_as().get("/push/vapid-public-key").get_data(as_text=True)

    secret = push._private_raw(push.vapid_keys().private_key)
    assert secret not in caplog.text and secret not in result.output and secret not in served
    assert secret not in repr(push.vapid_keys())
