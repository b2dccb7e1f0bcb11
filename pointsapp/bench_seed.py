"""A bank-sized organisation for benchmarks, written with bulk inserts.

``seed(users=10_000, months=12)`` builds branches of teams (a lead each, the
rest advisors), about seventeen events per advisor and month with a
heavy-tailed skew (a few stars, a long tail) — some two million ledger entries
at the default size — their award entries (a share of referrals split between
two people), some redeemed and some pending rewards, running and finished
challenges. Wallets and period rollups are summed in Python from the very rows
inserted, so ``check-ledger`` passes afterwards.

Rows go in with ``COPY`` on PostgreSQL and ``executemany`` on SQLite, a few
hundred users at a time, with explicit ids (sequences are moved past them at
the end). Every value is made in the database's own form (timestamps as text),
because converting millions of Python datetimes costs more than the inserts.
The history tables' secondary indexes (and, on PostgreSQL, their foreign keys)
are dropped for the load and rebuilt from their own definitions afterwards:
one sort per index instead of millions of B-tree insertions. Events are not
replayed through the rules engine: this is a data generator, not a second
ingestion path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import random
import sqlite3
from collections import defaultdict

import sqlalchemy as sa

from pointsapp import auth, org, rewards, rules
from pointsapp.database import BUSY_TIMEOUT_MS
from pointsapp.earning import EVENT_COLUMNS, payload_digest, split_points
from pointsapp.extensions import db
from pointsapp.models import (
    Challenge,
    Event,
    Goal,
    Hold,
    Integration,
    LedgerEntry,
    Redemption,
    RedemptionStep,
    Team,
    User,
)
from pointsapp.periods import PERIODS, period_keys, utcnow

PASSWORD = "bench-points-2026"
ADMIN_EMAIL = "admin@bench.example"
TEAM_SIZE = 12
TEAMS_PER_BRANCH = 6
EVENTS_PER_MONTH = 17  # the mean per advisor; the skew spreads it from 0 to hundreds
CHUNK_USERS = 500
# Event types and how often each happens (the referral is shared between two people).
EVENT_MIX = (
    ("client_revisit_positive", 40),
    ("loan_signed", 18),
    ("wealth_product_sold", 15),
    ("product_renewal", 14),
    ("hnw_client_signed", 5),
    ("cross_dept_referral", 7),
    ("compliance_breach", 1),
)
SHARED_TYPE = "cross_dept_referral"
SURNAMES = "Chen Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo".split()
GIVEN = "Jing Wei Fang Min Lei Qiang Hui Yan Jun Tao Ping Hong Xin Yu Ling Bo Hao Ning Kai Mei".split()
REWARDS = (
    ("Paid leave day", "leave_day", 800, None),
    ("Bonus cash ¥500", "bonus_cash", 1200, None),
    ("Wealth management training seat", "training_seat", 600, 400),
    ("Remote working day", "remote_day", 300, None),
)
# The tables the history fills: their secondary indexes are rebuilt after the load.
HISTORY_TABLES = ("event", "hold", "ledger_entry", "redemption", "redemption_step", "wallet", "period_total")
ENTRY_COLUMNS = (
    "id",
    "user_id",
    "points",
    "kind",
    "reason",
    "actor_id",
    "event_id",
    "rule_id",
    "hold_id",
    "reverses_id",
    "dedupe_key",
    "effective_at",
    "created_at",
)
HOLD_COLUMNS = ("id", "user_id", "points", "status", "reason", "created_at", "closed_at")
REDEMPTION_COLUMNS = (
    "id",
    "user_id",
    "reward_id",
    "quantity",
    "points",
    "status",
    "hold_id",
    "created_at",
    "decided_at",
    "decided_by_id",
)
STEP_COLUMNS = ("id", "redemption_id", "status", "actor_id", "created_at")
DAY = 86_400
USER_SHIFT = 16  # rollup accumulators are keyed by user_id << USER_SHIFT | day number


@dataclasses.dataclass
class SeedReport:
    users: int = 0
    teams: int = 0
    events: int = 0
    entries: int = 0
    redemptions: int = 0
    challenges: int = 0


# --- the seeding connection ----------------------------------------------------


@contextlib.contextmanager
def bulk_writes(engine: sa.Engine):
    """Let the seeding connection of a SQLite file write without the safety nets of live traffic.

    A rollback journal instead of the write-ahead log (pages are written once,
    not once to the log and once more at the checkpoint), no fsync, a large page
    cache and no per-row foreign key lookups: the seeder writes only ids it has
    just made (tests check them with ``PRAGMA foreign_key_check``). The session
    is closed and the pool emptied before and after, so the seeding connection
    is the only one while the journal mode changes, and the connections that
    follow are configured as usual (WAL, foreign keys on). PostgreSQL needs
    nothing here.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield
        return

    def tune(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-262144", "busy_timeout=0"):
            cursor.execute(f"PRAGMA {pragma}")
        try:  # leaving WAL needs the only connection to the file; with others open (a test run), stay in WAL
            cursor.execute("PRAGMA journal_mode=TRUNCATE")
        except sqlite3.OperationalError:
            pass
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    db.session.remove()
    engine.dispose()
    sa.event.listen(engine, "connect", tune)
    try:
        yield
    finally:
        sa.event.remove(engine, "connect", tune)
        db.session.remove()
        engine.dispose()
        with engine.connect():  # the usual set-up puts the file back in WAL mode
            pass


@contextlib.contextmanager
def _indexes_rebuilt_after(tables: tuple[str, ...]):
    """Drop the tables' secondary indexes (and PostgreSQL foreign keys), recreate them from their own DDL after.

    Primary keys and unique constraints stay (ids and event identities are
    checked as rows go in); unique indexes (the entries' partial ones) check
    their rows when they are rebuilt. What is recreated is what the database
    itself reported, so the schema ends exactly as the migrations left it.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        names = {"tables": list(tables)}
        indexes = connection.execute(
            sa.text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
                "AND i.tablename = ANY(:tables) AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()))"
            ),
            names,
        ).all()
        foreign_keys = connection.execute(
            sa.text(
                "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid WHERE c.contype = 'f' AND t.relname = ANY(:tables) "
                "AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            ),
            names,
        ).all()
        for table, name, _definition in foreign_keys:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _name, definition in indexes:
            connection.exec_driver_sql(definition)
        for table, name, definition in foreign_keys:
            connection.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        return
    marks = ", ".join("?" for _ in tables)
    indexes = connection.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).all()
    for name, _sql in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in indexes:
        connection.exec_driver_sql(sql)


# --- writing rows --------------------------------------------------------------


class _Ids:
    """The next free id of each table (rows are inserted with explicit ids)."""

    def __init__(self, *tables):
        self.next = {t.__tablename__: (db.session.scalar(sa.select(sa.func.max(t.id))) or 0) + 1 for t in tables}

    def take(self, table: str, count: int = 1) -> int:
        """Reserve ``count`` consecutive ids; return the first."""
        value = self.next[table]
        self.next[table] += count
        return value


def _bulk(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows of database-ready values (ints, strings, None): COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    cursor = raw.cursor()
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', rows)
    cursor.close()


def _reset_sequences(*tables) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for t in tables:
        name = t.__tablename__
        db.session.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{name}\"))")
        )


class _Clock:
    """Timestamps as the database's own text, from whole seconds since the epoch.

    Formatting millions of datetimes was most of the seeder's time; a table of
    day prefixes and one of the 86,400 times of day make each a concatenation.
    SQLite keeps UTC naive (as UTCDateTime does); PostgreSQL reads the same text
    with an explicit ``+00``. ``iso`` is the form an event's payload hash uses.
    """

    def __init__(self, first: int, last: int, dialect: str):
        self.day0 = first - first % DAY
        origin = dt.datetime.fromtimestamp(self.day0, dt.timezone.utc).date()
        dates = [(origin + dt.timedelta(days=d)).isoformat() for d in range((last - self.day0) // DAY + 2)]
        suffix = "+00" if dialect == "postgresql" else ""
        clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(DAY)]
        self.db_days = [f"{d} " for d in dates]
        self.db_times = [f"{c}{suffix}" for c in clock]
        self.iso_days = [f"{d}T" for d in dates]
        self.iso_times = [f"{c}+00:00" for c in clock]

    def db(self, moment: int) -> str:
        day, second = divmod(moment - self.day0, DAY)
        return self.db_days[day] + self.db_times[second]

    def iso(self, moment: int) -> str:
        day, second = divmod(moment - self.day0, DAY)
        return self.iso_days[day] + self.iso_times[second]

    def event_stamps(self, moment: int) -> tuple[str, str, str, str]:
        """An event's moment, its creation a minute later, its entries' two minutes later, and its moment in ISO form."""
        day, second = divmod(moment - self.day0, DAY)
        if second >= DAY - 120:  # the minutes after cross midnight
            return self.db(moment), self.db(moment + 60), self.db(moment + 120), self.iso(moment)
        prefix, times = self.db_days[day], self.db_times
        return (
            prefix + times[second],
            prefix + times[second + 60],
            prefix + times[second + 120],
            self.iso_days[day] + self.iso_times[second],
        )


class _LocalDays:
    """Which local day (and so which week, month, quarter and year) a moment falls in.

    Days are numbered as they are first met; zones move by whole quarter hours,
    so the period keys are computed once per quarter hour of UTC.
    """

    def __init__(self):
        self.by_slot: dict[int, int] = {}
        self.number: dict[tuple[str, ...], int] = {}
        self.keys: list[tuple[str, ...]] = []

    def of(self, moment: int) -> int:
        slot = moment // 900
        day = self.by_slot.get(slot)
        if day is None:
            keys = period_keys(dt.datetime.fromtimestamp(slot * 900, dt.timezone.utc))
            day = self.number.setdefault(tuple(keys[p] for p in PERIODS), len(self.keys))
            if day == len(self.keys):
                self.keys.append(tuple(keys[p] for p in PERIODS))
            self.by_slot[slot] = day
        return day


def _shares(uid: int, partner: int, points: int, name: str) -> list[tuple[int, int, str]]:
    """Who an event pays, how much and why: a deduction or a lone event pays its owner, a shared one is split."""
    if points < 0 or partner == uid:
        return [(uid, points, name)]
    split = split_points(points, [uid, partner])
    return [(who, share, f"{name} (share {n} of 2 of {points})") for n, (who, share) in enumerate(split, start=1)]


# --- the organisation ------------------------------------------------------------


def _organisation(users: int, rng: random.Random, clock: _Clock) -> tuple[list[Team], list[tuple[int, int, str]]]:
    """Teams under branches under the company; returns teams and (user_id, team_id, role) per person."""
    company = org_team("Bench Bank")
    team_count = max(1, users // TEAM_SIZE)
    branches = [org_team(f"Branch {b + 1:03d}", company.id) for b in range((team_count - 1) // TEAMS_PER_BRANCH + 1)]
    teams = [org_team(f"Team {t + 1:04d}", branches[t // TEAMS_PER_BRANCH].id) for t in range(team_count)]
    password_hash = auth.hash_password(PASSWORD)  # one hash for everyone: argon2 per user would take minutes
    ids = _Ids(User)
    now = clock.db(int(utcnow().timestamp()))
    today = utcnow().date()
    people, rows = [], []
    for n in range(users):
        team = teams[n % team_count]
        role = "lead" if n < team_count else "employee"
        uid = ids.take("user_account")
        name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {n + 1:05d}"
        hired = (today - dt.timedelta(days=rng.randint(30, 3650))).isoformat()
        rows.append((uid, f"u{n + 1:05d}@bench.example", name, role, team.id, password_hash, None, hired, True, 0, now, now))
        people.append((uid, team.id, role))
    _bulk(
        "user_account",
        (
            "id",
            "email",
            "name",
            "role",
            "team_id",
            "password_hash",
            "locale",
            "hired_on",
            "is_active_account",
            "session_version",
            "created_at",
            "updated_at",
        ),
        rows,
    )
    _reset_sequences(User)
    return teams, people


def org_team(name: str, parent_id: int | None = None) -> Team:
    team = Team(name=name, parent_id=parent_id)
    db.session.add(team)
    db.session.flush()
    return team


def seed(users: int = 10_000, months: int = 12, *, seed_value: int = 12) -> SeedReport:
    """Build the organisation and its history; the caller commits."""
    rng = random.Random(seed_value)
    rules.seed_default_rules()
    admin = org.create_user(None, email=ADMIN_EMAIL, name="Bench HR", role="admin", password=PASSWORD)
    integration = Integration(name="Core CRM (bench)")
    db.session.add(integration)
    db.session.flush()
    now = int(utcnow().timestamp())
    clock = _Clock(now - 30 * months * DAY, now + 2 * DAY, db.session.get_bind().dialect.name)
    teams, people = _organisation(users, rng, clock)
    catalog = [
        rewards.create_reward(admin, {"name": name, "kind": kind, "cost": cost, "stock": stock})
        for name, kind, cost, stock in REWARDS
    ]
    report = SeedReport(users=len(people), teams=len(teams))
    history = _History(rng, months, now, clock, f"integration:{integration.id}", catalog, admin.id)
    with _indexes_rebuilt_after(HISTORY_TABLES):
        for start in range(0, len(people), CHUNK_USERS):
            history.write([uid for uid, _, _ in people[start : start + CHUNK_USERS]], report)
    _reset_sequences(Event, LedgerEntry, Hold, Redemption, RedemptionStep)
    report.challenges = _challenges(teams, admin.id, rng)
    for uid, _, role in people[: max(1, len(people) // 10)]:
        if role == "employee":
            db.session.add(Goal(user_id=uid, weekly_points=rng.choice((60, 80, 100)), set_by_id=admin.id))
    db.session.flush()
    return report


# --- the history -------------------------------------------------------------------


class _History:
    """Events, entries, redemptions, wallets and rollups for a chunk of users at a time."""

    def __init__(self, rng, months, now, clock, source, catalog, admin_id):
        self.rng, self.clock, self.source, self.catalog, self.admin_id = rng, clock, source, catalog, admin_id
        self.now, self.months = now, months
        self.start = now - 30 * months * DAY
        self.span = 30 * months * DAY - 3600
        in_force = rules.rules_in_force({t for t, _ in EVENT_MIX})
        # (rule id, points, name) of the rule in force per type, read once rather than per event
        self.rules = {t: (v[-1].id, v[-1].points, v[-1].name) for t, v in in_force.items() if v}
        self.types = [t for t, _ in EVENT_MIX]
        self.cum_weights = [sum(w for _, w in EVENT_MIX[: i + 1]) for i in range(len(EVENT_MIX))]
        self.days = _LocalDays()
        self.ids = _Ids(Event, LedgerEntry, Hold, Redemption, RedemptionStep)

    def write(self, user_ids: list[int], report: SeedReport) -> None:
        balance = dict.fromkeys(user_ids, 0)
        earned = dict.fromkeys(user_ids, 0)
        held = dict.fromkeys(user_ids, 0)
        daily: dict[int, int] = defaultdict(int)
        events, entries = self._events(user_ids, balance, earned, daily)
        holds, redemptions, steps = self._redemptions(user_ids, balance, held, entries)
        _bulk("event", EVENT_COLUMNS, events)
        _bulk("hold", HOLD_COLUMNS, holds)
        _bulk("ledger_entry", ENTRY_COLUMNS, entries)
        _bulk("redemption", REDEMPTION_COLUMNS, redemptions)
        _bulk("redemption_step", STEP_COLUMNS, steps)
        updated = self.clock.db(self.now)
        _bulk(
            "wallet",
            ("user_id", "balance", "held", "lifetime_earned", "updated_at"),
            [(uid, balance[uid], held[uid], earned[uid], updated) for uid in user_ids],
        )
        _bulk("period_total", ("user_id", "period", "period_key", "points"), self._rollups(daily))
        report.events += len(events)
        report.entries += len(entries)
        report.redemptions += len(redemptions)

    def _events(self, user_ids, balance, earned, daily) -> tuple[list[tuple], list[tuple]]:
        """Each user's events (a heavy-tailed count) and the entries their rules pay."""
        rng, clock, source, start, span = self.rng, self.clock, self.source, self.start, self.span
        day_of, day_by_slot = self.days.of, self.days.by_slot
        events, entries = [], []
        event_id = self.ids.next["event"]
        entry_id = self.ids.next["ledger_entry"]
        mean = EVENTS_PER_MONTH * self.months / 2.6
        for uid in user_ids:
            activity = min(rng.paretovariate(1.6), 25.0)  # a heavy tail: most near 1, a few stars far above
            count = int(rng.expovariate(1 / (mean * activity)))
            for n, kind in enumerate(rng.choices(self.types, cum_weights=self.cum_weights, k=count)):
                moment = start + int(rng.random() * span)
                partner = rng.choice(user_ids) if kind == SHARED_TYPE else uid
                sharers = [] if partner == uid else [partner]
                rule_id, points, name = self.rules.get(kind, (None, 0, ""))
                occurred, recorded, entered, occurred_iso = clock.event_stamps(moment)
                events.append(
                    (
                        event_id,
                        source,
                        f"crm-{uid}-{n}",
                        kind,
                        uid,
                        occurred,
                        1,
                        f"[{partner}]" if sharers else "[]",
                        payload_digest(kind, uid, occurred_iso, 1, sharers),
                        rule_id,
                        None,
                        recorded,
                    )
                )
                if rule_id is not None:
                    day = day_by_slot.get(moment // 900)
                    if day is None:
                        day = day_of(moment)
                    for who, share, reason in _shares(uid, partner, points, name):
                        kind_of_entry = "compliance_deduction" if share < 0 else "event_award"
                        entries.append(
                            (
                                entry_id,
                                who,
                                share,
                                kind_of_entry,
                                reason,
                                None,
                                event_id,
                                rule_id,
                                None,
                                None,
                                None,
                                occurred,
                                entered,
                            )
                        )
                        entry_id += 1
                        balance[who] += share
                        if share > 0:
                            earned[who] += share
                        daily[who << USER_SHIFT | day] += share
                event_id += 1
        self.ids.next["event"] = event_id
        self.ids.next["ledger_entry"] = entry_id
        return events, entries

    def _redemptions(self, user_ids, balance, held, entries) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Some users with points to spare redeem a reward: most approved (spent), a few pending (held)."""
        rng, clock = self.rng, self.clock
        holds, redemptions, steps = [], [], []
        for uid in user_ids:
            reward = rng.choice(self.catalog)
            roll = rng.random()
            if balance[uid] < reward.cost * 2 or roll > 0.4:
                continue
            pending = roll < 0.05
            moment = self.now - DAY * (rng.randint(1, 10) if pending else rng.randint(15, 30 * self.months - 1))
            asked, decided = clock.db(moment), None if pending else clock.db(moment + DAY)
            hold_id, redemption_id = self.ids.take("hold"), self.ids.take("redemption")
            status = ("open", "pending") if pending else ("captured", "approved")
            holds.append((hold_id, uid, reward.cost, status[0], f"Redemption: {reward.name}", asked, decided))
            redemptions.append(
                (
                    redemption_id,
                    uid,
                    reward.id,
                    1,
                    reward.cost,
                    status[1],
                    hold_id,
                    asked,
                    decided,
                    None if pending else self.admin_id,
                )
            )
            steps.append((self.ids.take("redemption_step"), redemption_id, "requested", uid, asked))
            if pending:
                held[uid] += reward.cost
                continue
            steps.append((self.ids.take("redemption_step"), redemption_id, "approved", self.admin_id, decided))
            entry_id = self.ids.take("ledger_entry")
            reason = f"Redeemed: {reward.name}"
            entries.append(
                (
                    entry_id,
                    uid,
                    -reward.cost,
                    "redemption",
                    reason,
                    self.admin_id,
                    None,
                    None,
                    hold_id,
                    None,
                    None,
                    decided,
                    decided,
                )
            )
            balance[uid] -= reward.cost
        return holds, redemptions, steps

    def _rollups(self, daily: dict[int, int]) -> list[tuple]:
        """Period totals from the points per user and local day (redemptions are not counted, as in ledger.post)."""
        totals: dict[tuple[int, str, str], int] = defaultdict(int)
        keys = self.days.keys
        mask = (1 << USER_SHIFT) - 1
        for packed, points in daily.items():
            uid = packed >> USER_SHIFT
            for period, key in zip(PERIODS, keys[packed & mask]):
                totals[(uid, period, key)] += points
        # In the table's key order (period, key, user): SQLite writes the rows from its first page to its last.
        rows = [(uid, period, key, points) for (uid, period, key), points in totals.items() if points]
        return sorted(rows, key=lambda row: (row[1], row[2], row[0]))


def _challenges(teams: list[Team], admin_id: int, rng: random.Random) -> int:
    """A running challenge for every fifth team and a failed one before it."""
    now = utcnow()
    count = 0
    for team in teams[::5]:
        kind = rng.choice(("loan_signed", "wealth_product_sold", "client_revisit_positive"))
        db.session.add(
            Challenge(
                team_id=team.id,
                title=f"{team.name}: {kind.replace('_', ' ')} sprint",
                event_type=kind,
                target=rng.randint(20, 60),
                pool=rng.choice((500, 800, 1000)),
                starts_at=now - dt.timedelta(days=10),
                ends_at=now + dt.timedelta(days=20),
                status="active",
                progress=0,
                created_by_id=admin_id,
            )
        )
        db.session.add(
            Challenge(
                team_id=team.id,
                title=f"{team.name}: last quarter's push",
                event_type=kind,
                target=500,
                pool=1000,
                starts_at=now - dt.timedelta(days=120),
                ends_at=now - dt.timedelta(days=30),
                status="failed",
                progress=rng.randint(100, 400),
                final_contributions=[],
                created_by_id=admin_id,
                closed_at=now - dt.timedelta(days=29),
            )
        )
        count += 2
    db.session.flush()
    return count
