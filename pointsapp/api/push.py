"""Push: the VAPID public key and this browser's push subscription."""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask.views import MethodView

from pointsapp import notify, push
from pointsapp.api.base import Blueprint, Schema, acting_user, login_required

blp = Blueprint("Push", __name__, description="Web Push: VAPID key and subscriptions")


class VapidKeySchema(Schema):
    public_key = ma.fields.String()


class SubscriptionKeysSchema(Schema):
    p256dh = ma.fields.String(required=True)
    auth = ma.fields.String(required=True)


class SubscriptionSchema(Schema):
    """A browser's ``PushSubscription.toJSON()``."""

    id = ma.fields.Integer(dump_only=True)
    endpoint = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=push.MAX_ENDPOINT_LENGTH),
        metadata={"format": "uri", "description": "https:// URL of a public push service (or one the allowlist names)."},
    )
    # Milliseconds since the epoch (a DOMHighResTimeStamp, so possibly fractional).
    expirationTime = ma.fields.Float(  # noqa: N815
        load_default=None, allow_none=True, load_only=True, validate=ma.validate.Range(min=0, max=1e14)
    )
    keys = ma.fields.Nested(SubscriptionKeysSchema, required=True, load_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class UnsubscribeSchema(Schema):
    endpoint = ma.fields.String(required=True)


@blp.route("/push/vapid-public-key")
class VapidPublicKey(MethodView):
    @blp.doc(security=[])
    @blp.response(200, VapidKeySchema)
    def get(self):
        """Get the VAPID public key to subscribe with (URL-safe base64 P-256 point)."""
        return {"public_key": push.vapid_keys().public_key}


@blp.route("/push/subscriptions")
class Subscriptions(MethodView):
    @login_required
    @blp.arguments(SubscriptionSchema)
    @blp.response(201, SubscriptionSchema)
    @blp.alt_response(200, schema=SubscriptionSchema, description="This endpoint was already subscribed")
    def post(self, data):
        """Save this browser's push subscription (201 new, 200 already known)."""
        subscription, created = notify.subscribe(
            acting_user(),
            data["endpoint"],
            data["keys"]["p256dh"],
            data["keys"]["auth"],
            expiration_ms=data.get("expirationTime"),
            user_agent=request.user_agent.string,
        )
        return subscription, 201 if created else 200

    @login_required
    @blp.arguments(UnsubscribeSchema)
    @blp.response(204)
    def delete(self, data):
        """Forget this browser's push subscription."""
        notify.unsubscribe(acting_user(), data["endpoint"])
