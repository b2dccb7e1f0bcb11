"""Ledger: append-only entries, wallets, period rollups, holds, idempotency records.

Only ``pointsapp.ledger`` writes these tables.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, utcnow

# Kinds of entry. "spend" kinds move points out of the wallet without counting
# against what the user earned (rollups and lifetime ignore them).
ENTRY_KINDS = (
    "event_award",  # a rule paid an event (shares of shared events included)
    "mentorship_bonus",
    "period_bonus",
    "challenge_payout",
    "manual_award",
    "manual_deduction",
    "compliance_deduction",
    "reversal",  # reverses another entry, linked by reverses_id
    "redemption",  # a captured hold: points spent on a reward
    "forfeit",  # a leaver's unspent points, zeroed under LEAVER_POLICY=forfeit
)
SPEND_KINDS = ("redemption", "forfeit")
# Kinds that earn: their positive entries (and a payout's corrections) count towards lifetime_earned.
EARN_KINDS = ("event_award", "mentorship_bonus", "period_bonus", "challenge_payout", "manual_award")
HOLD_STATUSES = ("open", "captured", "released")


# Sums of points are 64-bit: many large awards must never overflow a balance.
def _partial_index(name: str, *columns: str, where: str | None = None, unique: bool = False) -> sa.Index:
    """An index of the rows where ``where`` (default: the first column) is not null, on both databases."""
    condition = sa.text(f"{where or columns[0]} IS NOT NULL")
    return sa.Index(name, *columns, unique=unique, sqlite_where=condition, postgresql_where=condition)


class Wallet(db.Model):
    __tablename__ = "wallet"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    balance: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    held: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    lifetime_earned: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # One more with every change the ledger makes to this wallet (an entry, a hold placed or closed): what
    # is cached of a wallet (its page) is keyed on it, so every worker and host sees a change at once.
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0, server_default="0")

    __table_args__ = (sa.CheckConstraint("held >= 0", name="ck_wallet_held_not_negative"),)

    @property
    def available(self) -> int:
        return self.balance - self.held


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    points: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    kind: so.Mapped[str] = so.mapped_column(sa.String(32))
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"))
    event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"), index=True)
    rule_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("rule.id"))
    # The hold a redemption captured, the entry a reversal reverses: each at most once.
    hold_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("hold.id"))
    reverses_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_entry.id"))
    # A restatement's difference points at the payout it corrects (several corrections may).
    corrects_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("ledger_entry.id"))
    # The event whose reversal (or late arrival) caused this correction, for the cascade on its page.
    cause_event_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("event.id"))
    # The operation's own identity, e.g. "period_bonus:3:2026-Q3"; unique per user.
    dedupe_key: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    # The moment the points count for (periods): an event's occurred_at, else created_at.
    effective_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    reverses: so.Mapped[LedgerEntry | None] = so.relationship(remote_side=[id], foreign_keys=[reverses_id])
    corrects: so.Mapped[LedgerEntry | None] = so.relationship(remote_side=[id], foreign_keys=[corrects_id])

    __table_args__ = (
        sa.CheckConstraint("points <> 0", name="ck_ledger_entry_points_not_zero"),
        enum_check("kind", ENTRY_KINDS, "ck_ledger_entry_kind"),
        sa.Index("ix_ledger_entry_user_created", "user_id", "created_at", "id"),
        # Most entries (every event award) have none of these: partial indexes leave them out, so an
        # ingestion batch writes two index entries per entry instead of seven (docs/performance.md).
        _partial_index("uq_ledger_entry_user_dedupe", "user_id", "dedupe_key", unique=True, where="dedupe_key"),
        _partial_index("uq_ledger_entry_hold_id", "hold_id", unique=True),
        _partial_index("uq_ledger_entry_reverses_id", "reverses_id", unique=True),
        _partial_index("ix_ledger_entry_corrects_id", "corrects_id"),
        _partial_index("ix_ledger_entry_cause_event_id", "cause_event_id"),
    )


class PeriodTotal(db.Model):
    """Points earned by a user in one week / month / quarter / year (net of clawbacks)."""

    __tablename__ = "period_total"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"))
    period: so.Mapped[str] = so.mapped_column(sa.String(8))
    period_key: so.Mapped[str] = so.mapped_column(sa.String(10))
    points: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)

    __table_args__ = (
        # Period first: the rows of the current periods, which every award adds to, lie together
        # (a batch of a thousand users changes a few hundred pages, not one or two per user).
        sa.PrimaryKeyConstraint("period", "period_key", "user_id"),
        enum_check("period", ("week", "month", "quarter", "year"), "ck_period_total_period"),
        sa.Index("ix_period_total_board", "period", "period_key", "points"),
        # SQLite keeps the rows in their key's order, and an upsert finds its row in one lookup
        # instead of the key's index and then the row.
        {"sqlite_with_rowid": False},
    )


class Hold(db.Model):
    """Points set aside (e.g. for a pending redemption): open → captured | released."""

    __tablename__ = "hold"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    points: so.Mapped[int] = so.mapped_column(sa.Integer)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default="open")
    reason: so.Mapped[str] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    closed_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("points > 0", name="ck_hold_points_positive"),
        enum_check("status", HOLD_STATUSES, "ck_hold_status"),
    )


class IdempotencyRecord(db.Model):
    """The first response to (caller, Idempotency-Key), committed with its effect."""

    __tablename__ = "idempotency_record"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    caller: so.Mapped[str] = so.mapped_column(sa.String(64))
    key: so.Mapped[str] = so.mapped_column(sa.String(255))
    request_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    status_code: so.Mapped[int] = so.mapped_column(sa.Integer)
    response_body: so.Mapped[str] = so.mapped_column(sa.Text)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("caller", "key", name="uq_idempotency_caller_key"),)
