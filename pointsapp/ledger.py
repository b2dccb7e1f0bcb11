"""The ledger: the only code that moves points.

Design overview
---------------
* ``LedgerEntry`` rows are append-only and never updated. A mistake or a
  clawback is a new ``reversal`` entry linked to the entry it reverses
  (``reverses_id`` is unique, so an entry is reversed at most once).
* Each user has one ``Wallet`` row: ``balance`` (Σ entries), ``held`` (Σ open
  holds) and ``lifetime_earned``. Each entry
  that is not spending also adds to four ``PeriodTotal`` rollups (week, month,
  quarter, year of its ``effective_at`` in the organisation's time zone). These
  rows change in the same transaction as the entry, and ``check_ledger``
  rebuilds them all from the entries to prove it.
* ``lifetime_earned`` is what the user earned — the positive entries of the
  earning kinds (awards and shares, mentorship and period bonuses, challenge
  payouts, manual awards) plus a payout's corrections — less the reversals of
  those entries. Deductions (a compliance breach, a negative rule, a manual
  deduction) and spending never reduce it, and reversing a deduction never adds
  to it, so it cannot go below zero and levels never fall (``earned_part``).
* A correction links to what it corrects: a reversal by ``reverses_id`` (once),
  a restated payout's difference by ``corrects_id`` (a payout may be corrected
  more than once), and both name the event that caused them by
  ``cause_event_id`` (see ``corrections``).
* Every change to a wallet row (an entry, a hold placed or closed) adds one to
  its ``version``: the key of what is cached of a wallet (``web.wallet.page_key``).
* Debits that must not overdraw, and holds, are conditional updates
  (``... WHERE balance - held >= :cost``): a row count of 0 means refused. That
  is race-free on PostgreSQL under Read Committed and on SQLite, whose write
  transactions start with ``BEGIN IMMEDIATE``.
* A hold moves ``open`` → ``captured`` (a ``redemption`` entry spends the
  points) or ``open`` → ``released``; each transition is a conditional update
  on the hold's status, so racing decisions let exactly one win.
* Clawbacks and compliance deductions may take a balance below zero (the user
  owes points); spending never can.
* Operations flush, never commit: the caller commits once per request.
* ``dedupe_key`` gives an operation its own identity per user (a period bonus,
  a mentorship bonus, a challenge payout): posting the same key twice returns
  the first entry and changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite

from pointsapp import bulk, period_sql
from pointsapp.errors import InsufficientPoints, InvalidTransition, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Hold, LedgerEntry, PeriodTotal, Wallet
from pointsapp.models.ledger import EARN_KINDS, ENTRY_KINDS, SPEND_KINDS
from pointsapp.periods import PERIODS, org_timezone, period_keys, utcnow

# --- wallets -----------------------------------------------------------------


def open_wallet(user_id: int) -> None:
    """Create the user's wallet row (once, when the user is created)."""
    db.session.add(Wallet(user_id=user_id, balance=0, held=0, lifetime_earned=0))
    db.session.flush()


def wallet_of(user_id: int) -> Wallet:
    wallet = db.session.get(Wallet, user_id, populate_existing=True)
    if wallet is None:
        raise NotFound(_("This user has no wallet."))
    return wallet


@dataclasses.dataclass(frozen=True)
class WalletView:
    balance: int
    held: int
    available: int
    lifetime_earned: int
    period_points: dict[str, int]


def wallet_summary(user_id: int, at: dt.datetime | None = None) -> WalletView:
    """Balance, held, available, lifetime and this week/month/quarter/year's points (one query)."""
    keys = period_keys(at or utcnow())
    row = _SUMMARY.first(user_id, *(keys[period] for period in PERIODS))
    if row is None:
        raise NotFound(_("This user has no wallet."))
    balance, held, lifetime_earned, *points = row
    return WalletView(
        balance=balance,
        held=held,
        available=balance - held,
        lifetime_earned=lifetime_earned,
        period_points={period: got or 0 for period, got in zip(PERIODS, points, strict=True)},
    )


def _period_points(period: str):
    rollup = PeriodTotal.__table__
    return (
        sa.select(rollup.c.points)
        .where(
            rollup.c.user_id == Wallet.__table__.c.user_id,
            rollup.c.period == period,
            rollup.c.period_key == sa.bindparam(f"key_{period}"),
        )
        .scalar_subquery()
    )


# Built once and read at the driver's pace (whole numbers only): the wallet is the most read page and API.
_SUMMARY = bulk.Lookup(
    sa.select(
        Wallet.__table__.c.balance,
        Wallet.__table__.c.held,
        Wallet.__table__.c.lifetime_earned,
        *(_period_points(period) for period in PERIODS),
    ).where(Wallet.__table__.c.user_id == sa.bindparam("user_id")),
    ("user_id", *(f"key_{period}" for period in PERIODS)),
)


# --- entries -----------------------------------------------------------------


def earned_part(kind: str, points: int, *, corrects_id: int | None = None, reversed_part: int = 0) -> int:
    """What an entry adds to lifetime_earned (see the design overview)."""
    if kind == "reversal":
        return -reversed_part
    if kind in EARN_KINDS and (points > 0 or corrects_id is not None):
        return points
    return 0


# One entry moves at most this many points, so that it (and the wallet) fits a 32-bit INTEGER column.
MAX_ENTRY_POINTS = 1_000_000_000


def post(
    user_id: int,
    points: int,
    *,
    kind: str,
    reason: str,
    actor_id: int | None = None,
    event_id: int | None = None,
    rule_id: int | None = None,
    dedupe_key: str | None = None,
    effective_at: dt.datetime | None = None,
    reverses_id: int | None = None,
    hold_id: int | None = None,
    corrects_id: int | None = None,
    cause_event_id: int | None = None,
    reversed_part: int = 0,
) -> LedgerEntry:
    """Append one entry and update the wallet and rollups with it.

    With a ``dedupe_key`` already used for this user, return that first entry
    and change nothing.
    """
    _validate(points, kind, reason)
    if dedupe_key is not None and (first := _entry_by_dedupe_key(user_id, dedupe_key)) is not None:
        return first
    now = utcnow()
    entry = LedgerEntry(
        user_id=user_id,
        points=points,
        kind=kind,
        reason=reason.strip()[:500],
        actor_id=actor_id,
        event_id=event_id,
        rule_id=rule_id,
        dedupe_key=dedupe_key,
        effective_at=effective_at or now,
        created_at=now,
        reverses_id=reverses_id,
        hold_id=hold_id,
        corrects_id=corrects_id,
        cause_event_id=cause_event_id,
    )
    if dedupe_key is None:
        db.session.add(entry)
        db.session.flush()
    else:
        try:  # a concurrent twin may commit the same key first: then answer with its entry
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
        except sa.exc.IntegrityError:
            if (first := _entry_by_dedupe_key(user_id, dedupe_key)) is not None:
                return first
            raise
    earned = earned_part(kind, points, corrects_id=corrects_id, reversed_part=reversed_part)
    updated = db.session.execute(
        _CREDIT_WALLET, {"b_user_id": user_id, "b_points": points, "b_earned": earned, "b_now": now}
    ).rowcount
    if updated != 1:
        raise NotFound(_("This user has no wallet."))
    if kind not in SPEND_KINDS:
        _add_to_rollups(user_id, points, entry.effective_at)
    return entry


def _validate(points: int, kind: str, reason: str) -> None:
    if kind not in ENTRY_KINDS:
        raise ValueError(f"unknown entry kind {kind!r}")
    if not isinstance(points, int) or isinstance(points, bool) or points == 0:
        raise ValidationFailed(_("Points must be a whole number other than zero."), fields={"points": [_("Must not be zero.")]})
    if abs(points) > MAX_ENTRY_POINTS:
        raise ValidationFailed(
            _(
                "Points must be between -%(MAX_ENTRY_POINTS)s and %(MAX_ENTRY_POINTS)s.",
                MAX_ENTRY_POINTS=format(MAX_ENTRY_POINTS, ","),
            ),
            fields={
                "points": [
                    _("Between -%(MAX_ENTRY_POINTS)s and %(MAX_ENTRY_POINTS)s.", MAX_ENTRY_POINTS=format(MAX_ENTRY_POINTS, ","))
                ]
            },
        )
    if not reason or not reason.strip():
        raise ValidationFailed(_("A reason is required."), fields={"reason": [_("A reason is required.")]})


class Posting(NamedTuple):
    """One entry for ``post_many``: what ``post`` takes, without a dedupe key or a hold (a batch makes thousands)."""

    user_id: int
    points: int
    kind: str
    reason: str
    event_id: int | None = None
    rule_id: int | None = None
    actor_id: int | None = None
    effective_at: dt.datetime | None = None


def post_many(postings: list[Posting]) -> list[EntryRow]:
    """Append many entries at once (an ingestion batch), in order, with the same effects as ``post``.

    One multi-row insert for the entries, one wallet update per user with the
    sum of their points, one upsert per (user, period) rollup row touched. The
    caller locks the wallets first (in id order) when batches may overlap.
    Returns rows of (id, user_id, points, kind, reason, event_id), in order.
    """
    if not postings:
        return []
    now = utcnow()
    rows = []  # in the order of _ENTRY_COLUMNS after the id
    for p in postings:
        _validate(p.points, p.kind, p.reason)
        rows.append(
            (p.user_id, p.points, p.kind, p.reason.strip()[:500], p.actor_id, p.event_id, p.rule_id, p.effective_at or now, now)
        )
    # Core rows, not ORM objects: loading a thousand objects costs more than the insert. The ids are
    # given (see ``bulk``), so nothing comes back.
    ids = bulk.new_ids(_entries, len(rows))
    stored = _ENTRY_ROWS.execute([(entry_id, *row) for entry_id, row in zip(ids, rows)])
    if stored != len(rows):
        raise RuntimeError(f"{len(rows)} entries given, {stored} stored")
    entries = [EntryRow(entry_id, row[0], row[1], row[2], row[3], row[5]) for entry_id, row in zip(ids, rows)]
    points: dict[int, int] = defaultdict(int)
    earned: dict[int, int] = defaultdict(int)
    per_periods: dict[tuple[int, tuple], int] = defaultdict(int)  # (user, the period keys of a moment): points
    tz = org_timezone()
    # Period boundaries fall on whole quarter hours in every zone: the keys of a quarter hour are shared.
    keys_of = functools.lru_cache(maxsize=None)(
        lambda slot: tuple(period_keys(dt.datetime.fromtimestamp(slot * 900, dt.timezone.utc), tz).items())
    )
    for row in rows:
        user_id, entry_points, kind = row[0], row[1], row[2]
        points[user_id] += entry_points
        earned[user_id] += earned_part(kind, entry_points)
        if kind not in SPEND_KINDS:
            per_periods[(user_id, keys_of(int(row[7].timestamp() // 900)))] += entry_points  # row[7]: effective_at
    rollups: dict[tuple[str, str, int], int] = defaultdict(int)  # in the rollups' key order
    for (user_id, keys), sum_points in per_periods.items():
        for period, key in keys:
            rollups[(period, key, user_id)] += sum_points
    users = sorted(points)
    if db.session.get_bind().dialect.name == "postgresql":  # one statement over three arrays
        updated = db.session.execute(
            _CREDIT_WALLETS_FROM_ARRAYS,
            {"credited_id": users, "points": [points[u] for u in users], "earned": [earned[u] for u in users], "now": now},
        ).rowcount
    else:
        updated = _CREDIT_WALLETS.execute([(u, points[u], earned[u], now) for u in users])
    if updated not in (-1, len(users)):
        raise NotFound(_("This user has no wallet."))
    _upsert_rollups_many([(u, p, k, v) for (p, k, u), v in sorted(rollups.items()) if v])
    return entries


def _entry_by_dedupe_key(user_id: int, dedupe_key: str) -> LedgerEntry | None:
    return db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.user_id == user_id, LedgerEntry.dedupe_key == dedupe_key))


# Hot-path statements, built once so that SQLAlchemy compiles them once (Core
# tables: no ORM session synchronisation on each call).
_wallet = Wallet.__table__
_entries = LedgerEntry.__table__
_CREDIT_WALLET = (
    sa.update(_wallet)
    .where(_wallet.c.user_id == sa.bindparam("b_user_id"))
    .values(
        balance=_wallet.c.balance + sa.bindparam("b_points"),
        lifetime_earned=_wallet.c.lifetime_earned + sa.bindparam("b_earned"),
        updated_at=sa.bindparam("b_now", type_=Wallet.updated_at.type),
        version=_wallet.c.version + 1,
    )
)


def _rollup_upsert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(PeriodTotal.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["period", "period_key", "user_id"],
        set_={"points": PeriodTotal.__table__.c.points + stmt.excluded.points},
    )


_ROLLUP_UPSERT = {name: _rollup_upsert(name) for name in ("postgresql", "sqlite")}


_ROLLUP_COLUMNS = ("user_id", "period", "period_key", "points")
_ROLLUP_ARRAYS = bulk.Arrays(PeriodTotal.__table__, _ROLLUP_COLUMNS)


def _rollup_upsert_from_arrays():
    """PostgreSQL: the same upsert, its rows given as four arrays (``unnest``), in their order."""
    stmt = _ROLLUP_ARRAYS.statement
    return stmt.on_conflict_do_update(
        index_elements=["period", "period_key", "user_id"], set_={"points": PeriodTotal.__table__.c.points + stmt.excluded.points}
    )


_ROLLUP_UPSERT_FROM_ARRAYS = _rollup_upsert_from_arrays()


def _upsert_rollups_many(rows: list[tuple[int, str, str, int]]) -> None:
    """The rollup upsert for thousands of (user_id, period, period_key, points) rows (a batch touches four per user).

    Through SQLAlchemy each row's parameters are processed in Python, four times
    the cost of the upserts themselves. SQLite: the compiled statement goes to
    the driver as is (``bulk.Many``). PostgreSQL: one statement over four arrays,
    where psycopg would otherwise send the rows one by one. Two batches never meet
    on a rollup row before they meet on the user's wallet, which the caller locks first.
    """
    if not rows:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        _ROLLUP_ROWS.execute(rows)
        return
    db.session.execute(_ROLLUP_UPSERT_FROM_ARRAYS, _ROLLUP_ARRAYS.params(rows))


_ROLLUP_ROWS = bulk.Many(_ROLLUP_UPSERT["sqlite"], _ROLLUP_COLUMNS)
_CREDIT_WALLETS = bulk.Many(_CREDIT_WALLET, ("b_user_id", "b_points", "b_earned", "b_now"))


def _credit_wallets_from_arrays():
    """PostgreSQL: ``_CREDIT_WALLET`` for many wallets, given as three arrays (user ids, points, earned points)."""
    # Not named after a wallet column: an UPDATE keeps those names for its own parameters.
    credits = bulk.unnested({"credited_id": sa.Integer, "points": sa.BigInteger, "earned": sa.BigInteger})
    return (
        sa.update(_wallet)
        .where(_wallet.c.user_id == credits.c.credited_id)
        .values(
            balance=_wallet.c.balance + credits.c.points,
            lifetime_earned=_wallet.c.lifetime_earned + credits.c.earned,
            updated_at=sa.bindparam("now", type_=Wallet.updated_at.type),
            version=_wallet.c.version + 1,
        )
    )


_CREDIT_WALLETS_FROM_ARRAYS = _credit_wallets_from_arrays()


_ENTRY_COLUMNS = ("id", "user_id", "points", "kind", "reason", "actor_id", "event_id", "rule_id", "effective_at", "created_at")
_ENTRY_ROWS = bulk.Many.insert(_entries, _ENTRY_COLUMNS)


class EntryRow(NamedTuple):
    """What ``post_many`` answers for each entry: only what an award answer needs."""

    id: int
    user_id: int
    points: int
    kind: str
    reason: str
    event_id: int | None


def _add_to_rollups(user_id: int, points: int, moment: dt.datetime) -> None:
    rows = [
        {"user_id": user_id, "period": period, "period_key": key, "points": points} for period, key in period_keys(moment).items()
    ]
    db.session.execute(_ROLLUP_UPSERT[db.session.get_bind().dialect.name], rows)


def reverse(entry: LedgerEntry, *, actor_id: int | None, reason: str, cause_event_id: int | None = None) -> LedgerEntry:
    """Reverse one entry with a linked entry of the opposite sign, in the same periods."""
    if entry.kind in SPEND_KINDS or entry.kind == "reversal":
        raise InvalidTransition(_("Spending and reversals cannot be reversed."))
    try:
        with db.session.begin_nested():
            return post(
                entry.user_id,
                -entry.points,
                kind="reversal",
                reason=reason,
                actor_id=actor_id,
                event_id=entry.event_id,
                rule_id=entry.rule_id,
                effective_at=entry.effective_at,
                reverses_id=entry.id,
                corrects_id=entry.corrects_id,
                cause_event_id=cause_event_id,
                reversed_part=earned_part(entry.kind, entry.points, corrects_id=entry.corrects_id),
            )
    except sa.exc.IntegrityError:
        raise InvalidTransition(_("This entry has already been reversed.")) from None


def lock_wallet(user_id: int) -> Wallet:
    """Lock the user's wallet row for the rest of the transaction (a no-op lock on SQLite, which serialises writers)."""
    wallet = db.session.scalar(
        sa.select(Wallet).where(Wallet.user_id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if wallet is None:
        raise NotFound(_("This user has no wallet."))
    return wallet


def forfeit(user_id: int, *, actor_id: int | None, reason: str) -> LedgerEntry | None:
    """Zero what a leaver has available with one ``forfeit`` entry; None when there is nothing to take."""
    wallet = lock_wallet(user_id)
    available = wallet.balance - wallet.held
    if available <= 0:  # owing points (a clawback) stays owed; held points belong to open holds
        return None
    return post(user_id, -available, kind="forfeit", reason=reason, actor_id=actor_id)


# --- holds -------------------------------------------------------------------


def place_hold(user_id: int, points: int, *, reason: str) -> Hold:
    """Set points aside if the available balance covers them; InsufficientPoints if not."""
    if points <= 0:
        raise ValidationFailed(_("A hold must be for a positive number of points."))
    now = utcnow()
    placed = db.session.execute(
        sa.update(Wallet)
        .where(Wallet.user_id == user_id, Wallet.balance - Wallet.held >= points)
        .values(held=Wallet.held + points, updated_at=now, version=Wallet.version + 1)
    ).rowcount
    if placed != 1:
        wallet = wallet_of(user_id)
        missing = points - (wallet.balance - wallet.held)
        raise InsufficientPoints(
            _("You need %(missing)s more points for this.", missing=missing),
            missing=missing,
            available=wallet.balance - wallet.held,
        )
    hold = Hold(user_id=user_id, points=points, status="open", reason=reason[:500], created_at=now)
    db.session.add(hold)
    db.session.flush()
    return hold


def _close_hold(hold_id: int, status: str) -> Hold:
    closed = db.session.execute(
        sa.update(Hold).where(Hold.id == hold_id, Hold.status == "open").values(status=status, closed_at=utcnow())
    ).rowcount
    hold = db.session.get(Hold, hold_id, populate_existing=True)
    if hold is None:
        raise NotFound(_("No such hold."))
    if closed != 1:
        raise InvalidTransition(_("This hold is already %(status)s.", status=hold.status))
    db.session.execute(
        sa.update(Wallet)
        .where(Wallet.user_id == hold.user_id)
        .values(held=Wallet.held - hold.points, updated_at=utcnow(), version=Wallet.version + 1)
    )
    return hold


def capture_hold(hold_id: int, *, actor_id: int | None, reason: str) -> LedgerEntry:
    """Spend held points: the hold closes and a redemption entry debits the balance."""
    hold = _close_hold(hold_id, "captured")
    return post(hold.user_id, -hold.points, kind="redemption", reason=reason, actor_id=actor_id, hold_id=hold.id)


def release_hold(hold_id: int) -> Hold:
    """Give held points back to the available balance."""
    return _close_hold(hold_id, "released")


# --- checking ----------------------------------------------------------------


def check_ledger() -> list[str]:
    """Rebuild every wallet and rollup from the entries; return each mismatch found.

    The database does the sums (GROUP BY), so that a ledger of millions of
    entries checks in seconds: only one row per user and the mismatching
    rollups come back to Python.
    """
    return _check_wallets() + _check_rollups()


def _earns(entry) -> sa.ColumnElement[bool]:
    """earned_part's rule in SQL: an earning kind's positive entries, and a payout's corrections."""
    return sa.and_(entry.kind.in_(EARN_KINDS), sa.or_(entry.points > 0, entry.corrects_id.is_not(None)))


def _check_wallets() -> list[str]:
    """Balance = sum of entries, held = open holds, lifetime = earned less reversals, nothing owed by spending."""
    reversed_entry = sa.orm.aliased(LedgerEntry)
    earned = sa.case(
        (LedgerEntry.kind == "reversal", -sa.case((_earns(reversed_entry), reversed_entry.points), else_=0)),
        (_earns(LedgerEntry), LedgerEntry.points),
        else_=0,
    )
    # Only a clawback or deduction may leave a user owing points; spending never can.
    deducted = sa.case((sa.and_(LedgerEntry.points < 0, LedgerEntry.kind.not_in(SPEND_KINDS)), 1), else_=0)
    sums = {
        uid: (balance, lifetime, owes)
        for uid, balance, lifetime, owes in db.session.execute(
            sa.select(LedgerEntry.user_id, sa.func.sum(LedgerEntry.points), sa.func.sum(earned), sa.func.max(deducted))
            .outerjoin(reversed_entry, reversed_entry.id == LedgerEntry.reverses_id)
            .group_by(LedgerEntry.user_id)
        )
    }
    held: dict[int, int] = dict(
        db.session.execute(
            sa.select(Hold.user_id, sa.func.sum(Hold.points)).where(Hold.status == "open").group_by(Hold.user_id)
        ).all()
    )
    wallets = db.session.execute(
        sa.select(Wallet.user_id, Wallet.balance, Wallet.held, Wallet.lifetime_earned).order_by(Wallet.user_id)
    ).all()
    problems: list[str] = []
    for uid, balance, wallet_held, lifetime in wallets:
        summed, earned_total, owes = sums.get(uid, (0, 0, 0))
        if balance != summed:
            problems.append(f"user {uid}: balance {balance} but entries sum to {summed}")
        if wallet_held != held.get(uid, 0):
            problems.append(f"user {uid}: held {wallet_held} but open holds sum to {held.get(uid, 0)}")
        if lifetime != earned_total:
            problems.append(f"user {uid}: lifetime {lifetime} but earned less reversals is {earned_total}")
        if wallet_held < 0:
            problems.append(f"user {uid}: held is negative ({wallet_held})")
        if balance < wallet_held and not owes:
            problems.append(f"user {uid}: available is {balance - wallet_held} without any deduction")
    with_wallet = {uid for uid, *_ in wallets}
    problems += [f"user {uid}: entries without a wallet" for uid in sorted(set(sums) - with_wallet)]
    return problems


def _check_rollups() -> list[str]:
    """Every stored period total against the entries summed per user and local week, month, quarter and year."""
    dialect = db.session.get_bind().dialect.name
    first, last = db.session.execute(
        sa.select(sa.func.min(LedgerEntry.effective_at), sa.func.max(LedgerEntry.effective_at)).where(
            LedgerEntry.kind.not_in(SPEND_KINDS)
        )
    ).one()
    expected = "SELECT 0 AS user_id, '' AS period, '' AS period_key, 0 AS points WHERE 1 = 0"
    if first is not None:
        spans = period_sql.offsets(first, last, org_timezone())
        day = period_sql.local_day("effective_at", spans, dialect)
        spend = ", ".join(f"'{kind}'" for kind in SPEND_KINDS)
        expected = (
            f"WITH days AS MATERIALIZED (SELECT user_id, {day} AS day, SUM(points) AS points FROM ledger_entry "
            f"WHERE kind NOT IN ({spend}) GROUP BY 1, 2) "
            + " UNION ALL ".join(
                f"SELECT user_id, '{period}' AS period, {period_sql.period_key_sql(period, 'day', dialect)} AS period_key, "
                "SUM(points) AS points "
                "FROM days GROUP BY 1, 3"
                for period in PERIODS
            )
        )
    mismatches = db.session.execute(
        sa.text(
            "SELECT user_id, period, period_key, SUM(stored), SUM(summed) FROM ("
            "SELECT user_id, period, period_key, points AS stored, 0 AS summed FROM period_total UNION ALL "
            f"SELECT user_id, period, period_key, 0, points FROM ({expected}) AS expected"
            ") AS both_sides GROUP BY 1, 2, 3 HAVING SUM(stored) <> SUM(summed) ORDER BY 1, 2, 3"
        )
    )
    return [
        f"user {uid}: {period} {key} total {stored} but entries sum to {summed}"
        for uid, period, key, stored, summed in mismatches
    ]


def entries_for(user_ids: Iterable[int]) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id.in_(list(user_ids)))))
