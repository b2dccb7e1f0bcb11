"""Teams and recognition: challenges, payouts, badges, honours, weekly goals, TV board links."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, translations_column, utcnow

CHALLENGE_STATUSES = ("active", "succeeded", "failed")


class Challenge(db.Model):
    __tablename__ = "challenge"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    team_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("team.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(160))
    translations: so.Mapped[dict] = translations_column()  # {"zh": {"title": …}}
    event_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    target: so.Mapped[int] = so.mapped_column(sa.Integer)
    pool: so.Mapped[int] = so.mapped_column(sa.Integer)
    starts_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="active")
    progress: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)  # final, once closed
    # Frozen at close: [[user_id, value], ...], so later reversals do not rewrite history.
    final_contributions: so.Mapped[list | None] = so.mapped_column(sa.JSON)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    closed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    # The last time a correction after the close restated progress and payouts.
    restated_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        enum_check("status", CHALLENGE_STATUSES, "ck_challenge_status"),
        sa.Index("ix_challenge_status_end", "status", "ends_at"),
        sa.CheckConstraint("target > 0", name="ck_challenge_target_positive"),
        sa.CheckConstraint("pool > 0", name="ck_challenge_pool_positive"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_challenge_window"),
    )


class ChallengePayout(db.Model):
    __tablename__ = "challenge_payout"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    challenge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("challenge.id"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    contribution: so.Mapped[int] = so.mapped_column(sa.Integer)
    points: so.Mapped[int] = so.mapped_column(sa.Integer)

    __table_args__ = (sa.UniqueConstraint("challenge_id", "user_id", name="uq_challenge_payout_user"),)


class ChallengeRestatement(db.Model):
    """One restatement of a closed challenge; (challenge, cause) happens once."""

    __tablename__ = "challenge_restatement"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    challenge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("challenge.id"))
    cause: so.Mapped[str] = so.mapped_column(sa.String(64))  # e.g. "event:12:reversed", "veto:31"
    cause_event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    status_before: so.Mapped[str] = so.mapped_column(sa.String(10))
    status_after: so.Mapped[str] = so.mapped_column(sa.String(10))
    progress_before: so.Mapped[int] = so.mapped_column(sa.Integer)
    progress_after: so.Mapped[int] = so.mapped_column(sa.Integer)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("challenge_id", "cause", name="uq_challenge_restatement_cause"),)


class Badge(db.Model):
    __tablename__ = "badge"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    description: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    event_type: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    threshold: so.Mapped[int] = so.mapped_column(sa.Integer)
    period: so.Mapped[str | None] = so.mapped_column(sa.String(8))  # NULL: ever
    translations: so.Mapped[dict] = translations_column()
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("threshold > 0", name="ck_badge_threshold_positive"),)


class BadgeAward(db.Model):
    __tablename__ = "badge_award"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    badge_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("badge.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10), default="")  # "" for "ever"
    event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))
    awarded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("badge_id", "user_id", "period_key", name="uq_badge_award_once"),)


class Honor(db.Model):
    __tablename__ = "honor"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(120))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"))
    awarded_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    awarded_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # A compliance breach found after the period takes the honour back (the row stays).
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revoke_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])  # noqa: F821 (models/org.py)

    __table_args__ = (sa.UniqueConstraint("user_id", "title", "period_key", name="uq_honor_once"),)


class Goal(db.Model):
    """A member's weekly points target, set by their lead (role default otherwise)."""

    __tablename__ = "goal"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    weekly_points: so.Mapped[int] = so.mapped_column(sa.Integer)
    set_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("weekly_points >= 0", name="ck_goal_not_negative"),)


class BoardLink(db.Model):
    """A revocable link that shows a team's TV board without a login."""

    __tablename__ = "board_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    team_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("team.id"))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
