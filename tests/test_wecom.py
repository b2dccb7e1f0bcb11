"""WeCom (企业微信) delivery through the outbox, against a local stand-in of WeCom's API."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa

from pointsapp import notify, outbox
from pointsapp.extensions import db
from pointsapp.models import Notification
from pointsapp.models.notify import WecomDelivery
from pointsapp.periods import utcnow
from tests import factories
from tests.conftest import DATABASE_URL, csrf_token, login
from tests.wecom_standin import WecomStandin


@pytest.fixture()
def wecom(app):
    standin = WecomStandin(users=("chenjing", "liwei"))
    saved = {key: app.config.get(key) for key in standin.settings()}
    app.config.update(standin.settings())
    app.extensions.pop("pointsapp_wecom", None)  # no token cached from another test
    try:
        yield standin
    finally:
        app.config.update(saved)
        app.extensions.pop("pointsapp_wecom", None)
        standin.stop()


def _member(wecom_userid="chenjing", locale="zh", **fields):
    member = factories.user("employee", locale=locale, **fields)
    member.wecom_userid = wecom_userid
    db.session.commit()
    return member


def _award(member, points=30, reason="Loan signed"):
    notify.queue(member.id, "award", "points_awarded", {"points": points, "reason": reason}, url="/wallet")
    db.session.commit()


def test_a_notification_reaches_the_members_wecom_once_in_their_language_and_the_token_is_reused(wecom):
    member = _member()
    _award(member, 30)
    _award(member, 50)
    report = outbox.deliver_due(once=True)
    assert report.sent == 2
    assert [m["touser"] for m in wecom.delivered] == ["chenjing", "chenjing"]
    assert wecom.delivered[0]["agentid"] == 1000002 and wecom.delivered[0]["msgtype"] == "text"
    assert wecom.delivered[0]["text"]["content"].startswith("您获得了 30 积分\n")
    assert wecom.tokens == ["token-1"]  # fetched once, cached for the second message
    statuses = db.session.execute(sa.select(WecomDelivery.status, WecomDelivery.msgid).order_by(WecomDelivery.id)).all()
    assert statuses == [("sent", "msg-1"), ("sent", "msg-2")]
    assert set(db.session.scalars(sa.select(Notification.status))) == {"sent"}
    assert outbox.deliver_due(once=True).sent == 0 and len(wecom.sends) == 2  # nothing twice


def test_an_expired_token_is_fetched_again_and_the_message_sent_once(wecom):
    member = _member()
    _award(member)
    outbox.deliver_due(once=True)
    wecom.expired.add("token-1")  # WeCom expired it early (42001)
    _award(member, 10)
    outbox.deliver_due(once=True)
    assert wecom.tokens == ["token-1", "token-2"]
    assert len(wecom.delivered) == 2
    assert [s["text"]["content"].split("\n")[0] for s in wecom.sends] == [
        "您获得了 30 积分",
        "您获得了 10 积分",
        "您获得了 10 积分",
    ]


def test_system_busy_is_retried_with_backoff_then_delivered(wecom):
    member = _member()
    _award(member)
    wecom.busy = [-1]
    first = outbox.deliver_due(once=True)
    notification = db.session.scalar(sa.select(Notification))
    assert (first.retried, notification.status, notification.attempts) == (1, "queued", 1)
    assert db.session.scalar(sa.select(sa.func.count(WecomDelivery.id))) == 0  # free for the next attempt
    assert outbox.deliver_due().sent == 0  # the backoff has not passed yet
    later = outbox.deliver_due(now=utcnow() + dt.timedelta(hours=1))
    assert later.sent == 1
    assert len(wecom.sends) == 2 and len(wecom.delivered) == 1


def test_a_user_unknown_to_wecom_is_dropped_not_retried(wecom):
    member = _member(wecom_userid="left.the.bank")
    _award(member)
    report = outbox.deliver_due(once=True)
    delivery = db.session.scalar(sa.select(WecomDelivery))
    assert (delivery.status, delivery.errcode) == ("failed", 81013)
    assert report.retried == 0 and db.session.scalar(sa.select(Notification.status)) == "skipped"
    outbox.deliver_due(now=utcnow() + dt.timedelta(hours=2))
    assert len(wecom.sends) == 1


def test_quiet_hours_and_the_channel_switch_hold_wecom_back(wecom):
    quiet = _member()
    notify.update_preferences(quiet, {name: True for name in notify.PREFERENCE_FIELDS}, dt.time(0, 0), dt.time(23, 59))
    off = _member(wecom_userid="liwei", locale="en")
    notify.update_preferences(
        off, {name: True for name in notify.PREFERENCE_FIELDS}, None, None, {"web_push": True, "wecom": False}
    )
    db.session.commit()
    _award(quiet)
    _award(off)
    report = outbox.deliver_due(once=True, now=utcnow().replace(hour=12))
    assert wecom.sends == []
    assert report.deferred == 1
    statuses = dict(db.session.execute(sa.select(Notification.user_id, Notification.status)).all())
    assert statuses == {quiet.id: "queued", off.id: "skipped"}


def test_without_settings_nothing_goes_to_wecom(app, wecom):
    app.config["WECOM_SECRET"] = None
    _award(_member())
    outbox.deliver_due(once=True)
    assert wecom.sends == [] and wecom.tokens == []


def test_a_worker_that_dies_mid_send_never_sends_a_second_copy(app, wecom):
    """A real push-worker process is killed while WeCom holds its answer; the next worker sends nothing again."""
    member = _member()
    _award(member)
    db.session.remove()
    wecom.hold = threading.Event()
    env = {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "WECOM_CORP_ID": wecom.corp_id,
        "WECOM_AGENT_ID": "1000002",
        "WECOM_SECRET": wecom.secret,
        "WECOM_API_BASE": wecom.url,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "pointsapp", "push-worker", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wecom.received.wait(60), "the worker never called WeCom"
    finally:
        worker.kill()
        worker.wait(30)
    wecom.hold.set()
    assert db.session.scalar(sa.select(WecomDelivery.status)) == "sending"  # recorded before the call
    report = outbox.deliver_due(now=utcnow() + outbox.LEASE + dt.timedelta(minutes=1))  # the crashed worker's lease ran out
    assert report.sent == 0
    assert len(wecom.sends) == 1


def test_an_admin_links_a_wecom_account_and_the_member_chooses_channels(app, client, wecom):
    admin = factories.user("admin", password=factories.PASSWORD)
    member = factories.user("employee", password=factories.PASSWORD, name="Chen Jing")
    member.wecom_userid = "taken.id"
    other = factories.user("employee", name="Li Wei")
    db.session.commit()
    login(client, admin)
    token = csrf_token(client, "/admin/org")
    refused = client.post(f"/admin/users/{other.id}/wecom", data={"wecom_userid": "taken.id", "csrf_token": token})
    assert refused.status_code == 422 and "Already in use." in refused.get_data(as_text=True)
    saved = client.post(f"/admin/users/{other.id}/wecom", data={"wecom_userid": "liwei", "csrf_token": token})
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(other), other.id).wecom_userid == "liwei"
    client.post("/logout", data={"csrf_token": token})
    member_client = app.test_client()
    login(member_client, member)
    page = member_client.get("/notifications/settings").get_data(as_text=True)
    assert 'name="wecom"' in page and 'name="web_push"' in page
    token = csrf_token(member_client, "/notifications/settings")
    member_client.post("/notifications/settings", data={"awards": "1", "web_push": "1", "csrf_token": token})
    prefs = notify.preferences(member.id)
    assert (prefs.web_push, prefs.wecom, prefs.awards) == (True, False, True)


def test_the_api_creates_a_user_with_a_wecom_id_and_refuses_a_taken_one(api_as, wecom):
    admin = factories.user("admin")
    factories.user("employee").wecom_userid = "zhangmin"
    db.session.commit()
    api = api_as(admin)
    created = api.post("/users", {"email": "li.wei@bank.example", "name": "Li Wei", "role": "employee", "wecom_userid": "liwei"})
    assert created.status_code == 201 and created.get_json()["wecom_userid"] == "liwei"
    taken = api.post("/users", {"email": "x@bank.example", "name": "X", "role": "employee", "wecom_userid": "zhangmin"})
    assert taken.status_code == 409 and taken.get_json()["error"]["fields"] == {"wecom_userid": ["Already in use."]}
