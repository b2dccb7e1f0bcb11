"""The push sender's edges: no redirects, the allowlist re-checked at send time, a short renewed lease."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import notify, outbox, push
from pointsapp.extensions import db
from pointsapp.models import Notification, PushSubscription
from pointsapp.models.notify import PushDelivery
from tests.conftest import run_concurrently
from tests.test_push import Browser, PushService, service, subscribe  # noqa: F401  (service is a fixture)


def queue_award(user_id: int, points: int = 5) -> None:
    notify.queue(user_id, "award", "points_awarded", {"points": points})
    db.session.commit()


def test_a_redirecting_push_service_is_a_failure_and_its_location_is_never_contacted(app, api_as, org, service):
    elsewhere = PushService()
    try:
        app.config["PUSH_ENDPOINT_ALLOWLIST"] = [service.url + "/", elsewhere.url + "/"]  # even an allowed target
        moved, temporary = Browser(service, "/sub/moved"), Browser(service, "/sub/temporary")
        subscribe(api_as, org.alice, moved)
        subscribe(api_as, org.alice, temporary)
        service.answer("/sub/moved", (301, {"Location": elsewhere.url + "/sub/moved"}))
        service.answer("/sub/temporary", (307, {"Location": elsewhere.url + "/sub/temporary"}))
        queue_award(org.alice.id)

        report = outbox.deliver_due()

        assert elsewhere.requests == []
        assert len(service.to("/sub/moved")) == 1 and len(service.to("/sub/temporary")) == 1
        assert report.sent == 0
        rows = db.session.execute(sa.select(PushDelivery.status, PushDelivery.status_code).order_by(PushDelivery.id)).all()
        assert sorted(rows) == [("failed", 301), ("failed", 307)]
        assert db.session.scalar(sa.select(Notification.status)) == "skipped"

        result = push.send(
            temporary.endpoint, temporary.json["keys"]["p256dh"], temporary.json["keys"]["auth"], "{}", ttl=60, urgency="normal"
        )
        assert result.status == 307 and not result.delivered and not result.retryable
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


def test_a_subscription_saved_under_an_old_allowlist_is_skipped_and_kept(app, api_as, org, service):
    app.config["PUSH_ENDPOINT_ALLOWLIST"] = [service.url + "/old/"]
    old = Browser(service, "/old/phone")
    subscribe(api_as, org.alice, old)
    app.config["PUSH_ENDPOINT_ALLOWLIST"] = [service.url + "/new/"]
    new = Browser(service, "/new/tablet")
    subscribe(api_as, org.alice, new)
    queue_award(org.alice.id, 9)

    report = outbox.deliver_due()

    assert service.to(old.path) == []
    [request] = service.to(new.path)
    assert "9 points" in new.decrypt(request)["title"]
    assert report.sent == 1 and report.refused == 1
    endpoints = set(db.session.scalars(sa.select(PushSubscription.endpoint)))
    assert endpoints == {old.endpoint, new.endpoint}  # skipped, not dropped: restoring the rule brings it back
    assert db.session.scalar(sa.select(sa.func.count(PushDelivery.id))) == 1

    app.config["PUSH_ENDPOINT_ALLOWLIST"] = None  # back to the public push services only
    keys = old.json["keys"]
    assert push.send(old.endpoint, keys["p256dh"], keys["auth"], "{}", ttl=60, urgency="normal").refused
    assert service.to(old.path) == [] and len(service.to(new.path)) == 1


def test_after_a_crash_another_worker_sends_the_leased_notification_exactly_once(app, api_as, org, service):
    assert outbox.LEASE <= dt.timedelta(seconds=60)
    browser = Browser(service, "/sub/phone")
    subscribe(api_as, org.alice, browser)
    queue_award(org.alice.id, 11)
    crashed_at = dt.datetime.now(dt.timezone.utc)
    assert outbox.claim_due(crashed_at)  # the worker leased it, then died before sending anything

    assert outbox.deliver_due(now=crashed_at + dt.timedelta(seconds=5)).sent == 0  # the lease still holds
    assert service.to(browser.path) == []

    later = crashed_at + outbox.LEASE + dt.timedelta(seconds=1)

    def worker(_i):
        with app.app_context():
            try:
                return outbox.deliver_due(now=later).sent
            finally:
                db.session.remove()

    assert sum(run_concurrently(worker, 3)) == 1
    assert outbox.deliver_due(now=later + dt.timedelta(minutes=5)).sent == 0
    [request] = service.to(browser.path)
    assert "11 points" in browser.decrypt(request)["title"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(Notification.status)) == "sent"


def test_the_lease_is_renewed_while_slow_sends_go_on(api_as, org, service, monkeypatch):
    browsers = [Browser(service, f"/sub/{i}") for i in range(3)]
    for browser in browsers:
        subscribe(api_as, org.alice, browser)
    queue_award(org.alice.id)
    queue_award(org.alice.id, 6)
    clock = [dt.datetime.now(dt.timezone.utc)]
    monkeypatch.setattr(outbox, "utcnow", lambda: clock[0])
    real_send, seen = push.send, []

    def slow_send(*args, **kwargs):
        clock[0] += outbox.LEASE * 0.8  # each send takes most of a lease
        leases = db.session.scalars(sa.select(Notification.claimed_until).where(Notification.status == "queued")).all()
        aware = [until if until is None or until.tzinfo else until.replace(tzinfo=dt.timezone.utc) for until in leases]
        seen.append(len(aware) > 0 and all(until is not None and until > clock[0] for until in aware))
        return real_send(*args, **kwargs)

    monkeypatch.setattr(push, "send", slow_send)
    report = outbox.deliver_due()

    assert report.sent == 6 and seen == [True] * 6  # no row of the batch ever fell free to another worker
    assert len(service.requests) == 6
