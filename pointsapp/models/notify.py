"""Notifications: the outbox, push subscriptions, deliveries, per-user preferences."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, utcnow

NOTIFICATION_KINDS = ("award", "redemption", "challenge", "badge", "reminder", "rank_nudge", "news")
DELIVERY_STATUSES = ("queued", "sent", "failed", "skipped")
# Per subscription: "sending" is written (and committed) before the push is
# sent, so a crash mid-send can never lead to a second copy.
SUBSCRIPTION_DELIVERY_STATUSES = ("sending", "sent", "failed")


class Notification(db.Model):
    """An outbox row, written in the transaction of the change it announces."""

    __tablename__ = "notification"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Found through ix_notification_user_created_read, whose first column it is.
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    # Message id and parameters; rendered in the recipient's language at delivery.
    template: so.Mapped[str] = so.mapped_column(sa.String(64))
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    url: so.Mapped[str] = so.mapped_column(sa.String(255), default="/")
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(120), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="queued")
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    next_attempt_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # A worker's lease on the row while it delivers; another worker skips it until then.
    claimed_until: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    sent_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    read_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        enum_check("kind", NOTIFICATION_KINDS, "ck_notification_kind"),
        enum_check("status", DELIVERY_STATUSES, "ck_notification_status"),
        sa.Index("ix_notification_queue", "status", "next_attempt_at"),
        # read_at rides along: the unread count on every page reads the index alone (migration 0015).
        sa.Index("ix_notification_user_created_read", "user_id", "created_at", "read_at"),
    )


class PushSubscription(db.Model):
    """A browser's Web Push subscription (endpoint + the keys to encrypt for it)."""

    __tablename__ = "push_subscription"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    endpoint: so.Mapped[str] = so.mapped_column(sa.String(1024), unique=True)
    p256dh: so.Mapped[str] = so.mapped_column(sa.String(128))
    auth: so.Mapped[str] = so.mapped_column(sa.String(64))
    expires_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    user_agent: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_success_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)


class PushDelivery(db.Model):
    """One notification sent to one subscription: the unique pair makes a second send impossible."""

    __tablename__ = "push_delivery"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    notification_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("notification.id", ondelete="CASCADE"), index=True)
    subscription_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("push_subscription.id", ondelete="CASCADE"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="sending")
    status_code: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("notification_id", "subscription_id", name="uq_push_delivery_once"),
        enum_check("status", SUBSCRIPTION_DELIVERY_STATUSES, "ck_push_delivery_status"),
    )


class WecomDelivery(db.Model):
    """One notification sent as a WeCom application message: written "sending" before the call, once per notification."""

    __tablename__ = "wecom_delivery"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    notification_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("notification.id", ondelete="CASCADE"))
    wecom_userid: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="sending")
    errcode: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    msgid: so.Mapped[str | None] = so.mapped_column(sa.String(128))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("notification_id", name="uq_wecom_delivery_once"),
        enum_check("status", SUBSCRIPTION_DELIVERY_STATUSES, "ck_wecom_delivery_status"),
    )


class NotificationPreference(db.Model):
    """Which kinds a user wants pushed, and quiet hours (org time zone; off while NULL)."""

    __tablename__ = "notification_preference"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    awards: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    redemptions: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    challenges: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    badges: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    reminders: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    rank_nudges: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # Channels: Web Push to the user's browsers, WeCom application messages to their WeCom account.
    web_push: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    wecom: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    quiet_start: so.Mapped[dt.time | None] = so.mapped_column(sa.Time)
    quiet_end: so.Mapped[dt.time | None] = so.mapped_column(sa.Time)
