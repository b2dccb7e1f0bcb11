"""Rewards: the catalog and redemptions (pending → approved | rejected | cancelled | expired)."""

from __future__ import annotations

import datetime as dt
import decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, translations_column, utcnow

REWARD_KINDS = ("leave_day", "bonus_cash", "training_seat", "remote_day", "other")
REDEMPTION_STATUSES = ("pending", "approved", "rejected", "cancelled", "expired")


class Reward(db.Model):
    __tablename__ = "reward"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    cost: so.Mapped[int] = so.mapped_column(sa.Integer)
    stock: so.Mapped[int | None] = so.mapped_column(sa.Integer)  # NULL: unlimited
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    translations: so.Mapped[dict] = translations_column()
    cash_amount: so.Mapped[decimal.Decimal | None] = so.mapped_column(sa.Numeric(12, 2))
    limit_per_year: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    monthly_budget: so.Mapped[decimal.Decimal | None] = so.mapped_column(sa.Numeric(12, 2))
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    available_from: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    available_until: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        enum_check("kind", REWARD_KINDS, "ck_reward_kind"),
        sa.CheckConstraint("cost > 0", name="ck_reward_cost_positive"),
        sa.CheckConstraint("stock IS NULL OR stock >= 0", name="ck_reward_stock_not_negative"),
    )


class Redemption(db.Model):
    __tablename__ = "redemption"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    reward_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("reward.id"), index=True)
    quantity: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
    points: so.Mapped[int] = so.mapped_column(sa.Integer)
    cash_amount: so.Mapped[decimal.Decimal | None] = so.mapped_column(sa.Numeric(12, 2))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    hold_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("hold.id"), unique=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # A token the confirm form carries, so a double tap redeems once (per user).
    request_token: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # Leave and remote days: the first and last day asked for (organisation's calendar).
    starts_on: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    ends_on: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)

    reward: so.Mapped[Reward] = so.relationship()

    __table_args__ = (
        enum_check("status", REDEMPTION_STATUSES, "ck_redemption_status"),
        sa.CheckConstraint("quantity >= 1", name="ck_redemption_quantity_positive"),
        sa.CheckConstraint("points > 0", name="ck_redemption_points_positive"),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ck_redemption_dates_ordered"),
        sa.UniqueConstraint("user_id", "request_token", name="uq_redemption_user_request_token"),
        # The approvals queue and the expiry sweep read pending rows by age.
        sa.Index("ix_redemption_status_created", "status", "created_at"),
        sa.Index("ix_redemption_user_created", "user_id", "created_at", "id"),
    )


class RedemptionStep(db.Model):
    """One step of a redemption's timeline (requested, approved, …)."""

    __tablename__ = "redemption_step"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    redemption_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("redemption.id"), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    note: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (enum_check("status", ("requested",) + REDEMPTION_STATUSES, "ck_redemption_step_status"),)
