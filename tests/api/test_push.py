"""The contract's Push section: VAPID key, subscribe, unsubscribe, and the SSRF guard."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pointsapp.extensions import db
from pointsapp.models import PushSubscription
from tests.conftest import csrf_token, login

FCM = "https://fcm.googleapis.com/fcm/send/abc123"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def p256dh() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def subscription(endpoint: str = FCM, **keys) -> dict:
    return {"endpoint": endpoint, "expirationTime": None, "keys": {"p256dh": p256dh(), "auth": b64(b"a" * 16), **keys}}


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(PushSubscription.id)))


def test_anyone_gets_the_vapid_public_key_as_a_p256_point(api_as):
    response = api_as().get("/push/vapid-public-key")

    assert response.status_code == 200
    key = response.get_json()["public_key"]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) == 65 and raw[0] == 4 and "=" not in key
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert api_as().get("/push/vapid-public-key").get_json()["public_key"] == key  # stable


def test_subscribing_twice_is_201_then_200_and_one_row(api_as, org):
    body = subscription()
    first = api_as(org.alice).post("/push/subscriptions", body)
    body["keys"]["p256dh"] = p256dh()  # the browser rotated its keys
    second = api_as(org.alice).post("/push/subscriptions", body)

    assert first.status_code == 201 and second.status_code == 200
    assert first.get_json()["endpoint"] == FCM and first.get_json()["id"] == second.get_json()["id"]
    row = db.session.scalar(sa.select(PushSubscription))
    assert (count(), row.user_id, row.p256dh) == (1, org.alice.id, body["keys"]["p256dh"])


def test_a_browser_passed_to_another_user_notifies_only_them(api_as, org):
    api_as(org.alice).post("/push/subscriptions", subscription())
    response = api_as(org.bob).post("/push/subscriptions", subscription())

    assert response.status_code == 200
    assert db.session.scalar(sa.select(PushSubscription.user_id)) == org.bob.id


def test_unsubscribing_deletes_only_my_own_subscription(api_as, org):
    api_as(org.alice).post("/push/subscriptions", subscription())

    not_mine = api_as(org.bob).delete("/push/subscriptions", {"endpoint": FCM})
    assert not_mine.status_code == 204 and count() == 1
    mine = api_as(org.alice).delete("/push/subscriptions", {"endpoint": FCM})
    assert mine.status_code == 204 and mine.get_data() == b"" and count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://fcm.googleapis.com/fcm/send/x",  # not https
        "https://127.0.0.1/push",
        "https://169.254.169.254/latest/meta-data",
        "https://internal.bank.example/push",
        "https://fcm.googleapis.com.evil.example/x",
        "https://evilpush.apple.com/x",
        "https://fcm.googleapis.com:8443/x",
        "https://user@fcm.googleapis.com/x",
        "file:///etc/passwd",
        "",
    ],
)
def test_endpoints_outside_the_public_push_services_are_refused(api_as, org, endpoint):
    response = api_as(org.alice).post("/push/subscriptions", subscription(endpoint))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error" and error["fields"]["endpoint"]
    assert count() == 0


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://web.push.apple.com/QGuQyavXutnMei",
        "https://wns2-by3p.notify.windows.com/w/?token=abc",
        FCM,
    ],
)
def test_public_push_services_are_accepted(api_as, org, endpoint):
    assert api_as(org.alice).post("/push/subscriptions", subscription(endpoint)).status_code == 201


def test_the_allowlist_admits_its_prefixes_only(app, api_as, org):
    app.config["PUSH_ENDPOINT_ALLOWLIST"] = ["http://127.0.0.1:8089/push/"]
    try:
        ok = api_as(org.alice).post("/push/subscriptions", subscription("http://127.0.0.1:8089/push/abc"))
        other_port = api_as(org.alice).post("/push/subscriptions", subscription("http://127.0.0.1:80891/push/abc"))
        other_path = api_as(org.alice).post("/push/subscriptions", subscription("http://127.0.0.1:8089/pushy"))
    finally:
        app.config["PUSH_ENDPOINT_ALLOWLIST"] = None
    assert ok.status_code == 201
    assert other_port.status_code == 422 and other_path.status_code == 422


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"p256dh": b64(b"\x04" + b"\x01" * 64)}, "p256dh"),  # 65 bytes, not on the curve
        ({"p256dh": b64(b"\x04" * 33)}, "p256dh"),
        ({"p256dh": "not base64!!"}, "p256dh"),
        ({"auth": b64(b"short")}, "auth"),
        ({"auth": b64(b"x" * 32)}, "auth"),
    ],
)
def test_invalid_keys_are_refused_with_the_field(api_as, org, keys, field):
    response = api_as(org.alice).post("/push/subscriptions", subscription(**keys))

    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]["keys"]
    assert count() == 0


def test_missing_keys_and_anonymous_callers_are_refused(api_as, org):
    missing = api_as(org.alice).post("/push/subscriptions", {"endpoint": FCM})
    anonymous = api_as().post("/push/subscriptions", subscription())

    assert missing.status_code == 422 and "keys" in missing.get_json()["error"]["fields"]
    assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"
    assert count() == 0


def test_the_browser_session_subscribes_with_the_csrf_header(client, org):
    login(client, org.alice)
    without = client.post("/api/v1/push/subscriptions", json=subscription())
    token = csrf_token(client, "/notifications/settings")
    with_header = client.post("/api/v1/push/subscriptions", json=subscription(), headers={"X-CSRFToken": token})

    assert without.status_code == 403
    assert with_header.status_code == 201


def test_old_subscriptions_beyond_the_limit_are_dropped(api_as, org):
    from pointsapp import notify

    for i in range(notify.MAX_SUBSCRIPTIONS_PER_USER + 2):
        api_as(org.alice).post("/push/subscriptions", subscription(f"{FCM}/{i}"))

    endpoints = set(db.session.scalars(sa.select(PushSubscription.endpoint)))
    assert len(endpoints) == notify.MAX_SUBSCRIPTIONS_PER_USER
    assert f"{FCM}/0" not in endpoints and f"{FCM}/11" in endpoints
