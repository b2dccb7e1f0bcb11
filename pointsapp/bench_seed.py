"""A bank-sized organisation for benchmarks, written with bulk inserts.

``seed(users=10_000, months=12)`` builds branches of teams (a lead each, the
rest advisors), about ten events per advisor and month with a heavy-tailed
skew (a few stars, a long tail), their award entries (a share of referrals
split between two people), some redeemed and some pending rewards, running
and finished challenges. Wallets and period rollups are summed in Python from
the very rows inserted, so ``check-ledger`` passes afterwards.

Rows go in with ``COPY`` on PostgreSQL and ``executemany`` on SQLite, a few
hundred users at a time, with explicit ids (sequences are moved past them at
the end). Events are not replayed through the rules engine: this is a data
generator, not a second ingestion path.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections import defaultdict

import sqlalchemy as sa

from pointsapp import auth, org, rewards, rules
from pointsapp.earning import EventInput, split_points
from pointsapp.extensions import db
from pointsapp.ledger import earned_part
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
from pointsapp.periods import period_keys, utcnow

PASSWORD = "bench-points-2026"
ADMIN_EMAIL = "admin@bench.example"
TEAM_SIZE = 12
TEAMS_PER_BRANCH = 6
EVENTS_PER_MONTH = 10  # the mean per advisor; the skew spreads it from 0 to hundreds
CHUNK_USERS = 250
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
SURNAMES = "Chen Wang Li Zhang Liu Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo".split()
GIVEN = "Jing Wei Fang Min Lei Qiang Hui Yan Jun Tao Ping Hong Xin Yu Ling Bo Hao Ning Kai Mei".split()
REWARDS = (
    ("Paid leave day", "leave_day", 800, None),
    ("Bonus cash ¥500", "bonus_cash", 1200, None),
    ("Wealth management training seat", "training_seat", 600, 400),
    ("Remote working day", "remote_day", 300, None),
)


@dataclasses.dataclass
class SeedReport:
    users: int = 0
    teams: int = 0
    events: int = 0
    entries: int = 0
    redemptions: int = 0
    challenges: int = 0


class _Ids:
    """The next free id of each table (rows are inserted with explicit ids)."""

    def __init__(self, *tables):
        self.next = {t.__tablename__: (db.session.scalar(sa.select(sa.func.max(t.id))) or 0) + 1 for t in tables}

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] += 1
        return value


def _bulk(table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if not rows:
        return
    connection = db.session.connection()
    raw = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return

    def plain(value):
        if isinstance(value, dt.datetime):  # SQLite keeps UTC datetimes naive, as UTCDateTime does
            return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    cursor = raw.cursor()
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', [tuple(map(plain, r)) for r in rows])
    cursor.close()


def _reset_sequences(*tables) -> None:
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for t in tables:
        name = t.__tablename__
        db.session.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT COALESCE(MAX(id), 1) FROM \"{name}\"))")
        )


class _PeriodCache:
    """period_keys for a moment, cached per quarter hour (zones move by whole quarter hours)."""

    def __init__(self):
        self.cache: dict[int, dict[str, str]] = {}

    def keys(self, moment: dt.datetime) -> dict[str, str]:
        slot = int(moment.timestamp()) // 900
        if slot not in self.cache:
            self.cache[slot] = period_keys(moment)
        return self.cache[slot]


def _organisation(users: int, rng: random.Random) -> tuple[list[Team], list[tuple[int, int, str]]]:
    """Teams under branches under the company; returns teams and (user_id, team_id, role) per person."""
    company = org_team("Bench Bank")
    team_count = max(1, users // TEAM_SIZE)
    branches = [org_team(f"Branch {b + 1:03d}", company.id) for b in range((team_count - 1) // TEAMS_PER_BRANCH + 1)]
    teams = [org_team(f"Team {t + 1:04d}", branches[t // TEAMS_PER_BRANCH].id) for t in range(team_count)]
    password_hash = auth.hash_password(PASSWORD)  # one hash for everyone: argon2 per user would take minutes
    ids = _Ids(User)
    now = utcnow()
    people, rows = [], []
    for n in range(users):
        team = teams[n % team_count]
        role = "lead" if n < team_count else "employee"
        uid = ids.take("user_account")
        name = f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)} {n + 1:05d}"
        hired = (now - dt.timedelta(days=rng.randint(30, 3650))).date()
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
    teams, people = _organisation(users, rng)
    catalog = [
        rewards.create_reward(admin, {"name": name, "kind": kind, "cost": cost, "stock": stock})
        for name, kind, cost, stock in REWARDS
    ]
    report = SeedReport(users=len(people), teams=len(teams))
    history = _History(rng, months, f"integration:{integration.id}", catalog, admin.id)
    for start in range(0, len(people), CHUNK_USERS):
        history.write([uid for uid, _, _ in people[start : start + CHUNK_USERS]], report)
    _reset_sequences(Event, LedgerEntry, Hold, Redemption, RedemptionStep)
    report.challenges = _challenges(teams, admin.id, rng)
    for uid, _, role in people[: max(1, len(people) // 10)]:
        if role == "employee":
            db.session.add(Goal(user_id=uid, weekly_points=rng.choice((60, 80, 100)), set_by_id=admin.id))
    db.session.flush()
    return report


class _History:
    """Events, entries, redemptions, wallets and rollups for a chunk of users at a time."""

    def __init__(self, rng, months, source, catalog, admin_id):
        self.rng, self.source, self.catalog, self.admin_id = rng, source, catalog, admin_id
        self.now = utcnow()
        self.start = self.now - dt.timedelta(days=30 * months)
        self.span = (self.now - self.start).total_seconds() - 3600
        self.months = months
        in_force = rules.rules_in_force({t for t, _ in EVENT_MIX})
        self.rules = {t: versions[-1] for t, versions in in_force.items() if versions}
        self.types = [t for t, _ in EVENT_MIX]
        self.weights = [w for _, w in EVENT_MIX]
        self.periods = _PeriodCache()
        self.ids = _Ids(Event, LedgerEntry, Hold, Redemption, RedemptionStep)

    def write(self, user_ids: list[int], report: SeedReport) -> None:
        rng = self.rng
        events, entries = [], []
        balance: dict[int, int] = defaultdict(int)
        earned: dict[int, int] = defaultdict(int)
        rollups: dict[tuple[int, str, str], int] = defaultdict(int)

        def entry(uid, points, kind, reason, moment, event_id=None, rule_id=None, hold_id=None, actor_id=None):
            entries.append(
                (
                    self.ids.take("ledger_entry"),
                    uid,
                    points,
                    kind,
                    reason[:500],
                    actor_id,
                    event_id,
                    rule_id,
                    hold_id,
                    None,
                    None,
                    moment,
                    moment + dt.timedelta(minutes=2),
                )
            )
            balance[uid] += points
            earned[uid] += earned_part(kind, points)
            if kind != "redemption":
                for period, key in self.periods.keys(moment).items():
                    rollups[(uid, period, key)] += points

        for uid in user_ids:
            activity = min(rng.paretovariate(1.6), 25.0)  # a heavy tail: most near 1, a few stars far above
            count = int(rng.expovariate(1 / (EVENTS_PER_MONTH * self.months * activity / 2.6)))
            for kind in rng.choices(self.types, self.weights, k=count):
                moment = self.start + dt.timedelta(seconds=rng.random() * self.span)
                participants = [rng.choice(user_ids)] if kind == "cross_dept_referral" else []
                participants = [p for p in participants if p != uid]
                item = EventInput(f"crm-{uid}-{len(events)}-{rng.getrandbits(32)}", kind, uid, moment, 1, participants)
                rule = self.rules.get(kind)
                event_id = self.ids.take("event")
                events.append(
                    (
                        event_id,
                        self.source,
                        item.external_id,
                        kind,
                        uid,
                        moment,
                        1,
                        json.dumps(participants),
                        item.payload_hash,
                        rule.id if rule else None,
                        None,
                        moment + dt.timedelta(minutes=1),
                    )
                )
                if rule is None:
                    continue
                if rule.points < 0:
                    entry(uid, rule.points, "compliance_deduction", rule.name, moment, event_id, rule.id)
                    continue
                shares = split_points(rule.points, [uid, *participants])
                for n, (share_uid, points) in enumerate(shares, start=1):
                    reason = rule.name if len(shares) == 1 else f"{rule.name} (share {n} of {len(shares)} of {rule.points})"
                    entry(share_uid, points, "event_award", reason, moment, event_id, rule.id)
        holds, redemptions, steps = [], [], []
        held: dict[int, int] = defaultdict(int)
        for uid in user_ids:
            reward = rng.choice(self.catalog)
            roll = rng.random()
            if balance[uid] < reward.cost * 2 or roll > 0.4:
                continue
            pending = roll < 0.05
            moment = self.now - dt.timedelta(days=rng.randint(1, 10) if pending else rng.randint(15, 30 * self.months - 1))
            hold_id, redemption_id = self.ids.take("hold"), self.ids.take("redemption")
            holds.append(
                (
                    hold_id,
                    uid,
                    reward.cost,
                    "open" if pending else "captured",
                    f"Redemption: {reward.name}",
                    moment,
                    None if pending else moment + dt.timedelta(days=1),
                )
            )
            redemptions.append(
                (
                    redemption_id,
                    uid,
                    reward.id,
                    1,
                    reward.cost,
                    "pending" if pending else "approved",
                    hold_id,
                    moment,
                    None if pending else moment + dt.timedelta(days=1),
                    None if pending else self.admin_id,
                )
            )
            steps.append((self.ids.take("redemption_step"), redemption_id, "requested", uid, moment))
            if pending:
                held[uid] += reward.cost
            else:
                steps.append(
                    (self.ids.take("redemption_step"), redemption_id, "approved", self.admin_id, moment + dt.timedelta(days=1))
                )
                entry(
                    uid,
                    -reward.cost,
                    "redemption",
                    f"Redeemed: {reward.name}",
                    moment + dt.timedelta(days=1),
                    hold_id=hold_id,
                    actor_id=self.admin_id,
                )
        _bulk(
            "event",
            (
                "id",
                "source",
                "external_id",
                "type",
                "user_id",
                "occurred_at",
                "quantity",
                "participants",
                "payload_hash",
                "rule_id",
                "created_by_id",
                "created_at",
            ),
            events,
        )
        _bulk("hold", ("id", "user_id", "points", "status", "reason", "created_at", "closed_at"), holds)
        _bulk(
            "ledger_entry",
            (
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
            ),
            entries,
        )
        _bulk(
            "redemption",
            (
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
            ),
            redemptions,
        )
        _bulk("redemption_step", ("id", "redemption_id", "status", "actor_id", "created_at"), steps)
        _add_wallets(set(user_ids), balance, earned, held, self.now)
        _add_rollups(rollups)
        report.events += len(events)
        report.entries += len(entries)
        report.redemptions += len(redemptions)


def _add_wallets(user_ids, balance, earned, held, now) -> None:
    rows = [(uid, balance[uid], held[uid], earned[uid], now) for uid in sorted(user_ids)]
    _bulk("wallet", ("user_id", "balance", "held", "lifetime_earned", "updated_at"), rows)


def _add_rollups(rollups) -> None:
    rows = [(u, p, k, v) for (u, p, k), v in rollups.items() if v]
    _bulk("period_total", ("user_id", "period", "period_key", "points"), rows)


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
