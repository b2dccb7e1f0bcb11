"""A board's top rows are read once per state of the data and kept by the worker; any change is seen at once."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from pointsapp import leaderboard, ledger, rules
from pointsapp.api.recognition import LeaderboardSchema, PlaceSchema
from pointsapp.database import read_version, read_version_and
from pointsapp.extensions import db
from pointsapp.models import PeriodTotal, User
from pointsapp.periods import current_key
from tests import factories


@contextlib.contextmanager
def top_reads(monkeypatch):
    """How often the top rows are read from the database while inside."""
    reads: list[tuple] = []
    people = leaderboard._people

    def counted(period, key, limit=None):
        reads.append((period, key, limit))
        return people(period, key, limit)

    monkeypatch.setattr(leaderboard, "_people", counted)
    yield reads


def _on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _several_idle_connections() -> None:
    """Leave the pool several idle connections, as requests at once do (SQLite's data versions are per connection)."""
    db.session.commit()
    held = [db.engine.connect() for _ in range(3)]
    for connection in held:
        connection.close()


def test_one_state_of_the_data_reads_the_top_once_for_every_viewer(org, api_as, monkeypatch):
    factories.give_points(org.alice, 300)
    factories.give_points(org.bob, 200)
    carol, bob = api_as(org.carol), api_as(org.bob)  # each issues a token: a change, made before the reads
    _several_idle_connections()
    with top_reads(monkeypatch) as reads:
        as_carol = carol.get("/leaderboard?period=month").json
        as_bob = bob.get("/leaderboard?period=month").json
    assert as_carol["items"] == as_bob["items"]
    assert [(i["id"], i["rank"], i["points"]) for i in as_bob["items"][:2]] == [(org.alice.id, 1, 300), (org.bob.id, 2, 200)]
    # Each viewer's own place is still counted for them.
    assert as_bob["me"] == {"rank": 2, "points": 200, "gap_to_next": 100, "gap_to_top3": 0}
    assert as_carol["me"]["rank"] == 3 and as_carol["me"]["gap_to_next"] == 200
    # SQLite: nothing changed between the two requests, so the second served the kept rows. PostgreSQL: a snapshot
    # moves with any transaction that completes on the server (other databases included), so it may read again.
    assert len(reads) == 1 if _on_sqlite() else len(reads) >= 1


def test_points_posted_through_the_api_show_on_the_very_next_board(org, api_as, monkeypatch):
    rules.seed_default_rules()
    factories.give_points(org.alice, 300)
    crm, bob = api_as(factories.integration()), api_as(org.bob)
    assert bob.get("/leaderboard?period=month").json["items"][0]["id"] == org.alice.id
    with top_reads(monkeypatch) as reads:
        for n in range(2):
            posted = crm.post(
                "/events", {"external_id": f"kept-{n}", "type": "loan_signed", "user_id": org.carol.id, "occurred_at": _now()}
            )
            assert posted.status_code == 201 and posted.json["items"][0]["status"] == "created", posted.json
        body = bob.get("/leaderboard?period=month").json
    carol = next(i for i in body["items"] if i["id"] == org.carol.id)
    assert carol["points"] == _month_points(org.carol.id) > 0
    assert len(reads) == 1


def test_a_commit_from_another_connection_is_seen_at_once(org, app, api_as):
    factories.give_points(org.alice, 300)
    factories.give_points(org.bob, 200)
    api = api_as(org.carol)
    assert api.get("/leaderboard?period=month").json["items"][0]["id"] == org.alice.id
    # Another worker or host: its own connection and its own commit, outside every request here.
    other = sa.create_engine(db.engine.url)
    try:
        with other.begin() as conn:
            conn.execute(
                sa.update(PeriodTotal)
                .where(PeriodTotal.user_id == org.bob.id, PeriodTotal.period == "month")
                .values(points=PeriodTotal.points + 500)
            )
    finally:
        other.dispose()
    first = api.get("/leaderboard?period=month").json["items"][0]
    assert (first["id"], first["points"]) == (org.bob.id, 700)
    db.session.remove()
    with db.engine.begin() as conn:  # as it was: the ledger check after the test sums the entries again
        conn.execute(
            sa.update(PeriodTotal)
            .where(PeriodTotal.user_id == org.bob.id, PeriodTotal.period == "month")
            .values(points=PeriodTotal.points - 500)
        )


def test_a_board_read_by_a_transaction_that_wrote_is_not_kept(org, monkeypatch):
    factories.give_points(org.alice, 300)
    key = current_key("month")
    assert read_version() is not None
    ledger.post(org.bob.id, 900, kind="manual_award", reason="Not kept")  # flushed, not committed
    assert read_version() is None  # its own change is in no token
    with top_reads(monkeypatch) as reads:
        assert leaderboard.board(None, "month", limit=5).items[0].id == org.bob.id
        db.session.rollback()
        top = leaderboard.board(None, "month", limit=5).items
    assert top[0].id == org.alice.id and org.bob.id not in [p.id for p in top if p.points]
    assert len(reads) == 2  # the read of the transaction that wrote was not kept
    assert _month_points(org.bob.id, key) == 0


def test_the_read_version_holds_while_nothing_changes_and_moves_with_every_commit(org):
    factories.give_points(org.alice, 100)
    _several_idle_connections()
    first = read_version()
    assert first is not None
    if _on_sqlite():  # a PostgreSQL snapshot may move with any other transaction on the server
        assert read_version() == first
    db.session.commit()
    if _on_sqlite():
        assert read_version() == first  # a new transaction, nothing changed
    db.session.commit()
    factories.give_points(org.bob, 5)  # this connection's own commit
    after_own = read_version()
    assert after_own is not None and after_own != first
    db.session.commit()
    other = sa.create_engine(db.engine.url)
    try:
        with other.begin() as conn:
            conn.execute(sa.update(User).where(User.id == org.carol.id).values(name="Carol Renamed"))
    finally:
        other.dispose()
    assert read_version() not in (first, after_own)


def test_the_read_version_and_a_value_read_with_it(org):
    factories.give_points(org.alice, 120)
    db.session.commit()
    key = current_key("month")
    version, points = read_version_and(leaderboard._MY_POINTS, org.alice.id, "month", key)
    assert points == 120 and version is not None
    if _on_sqlite():
        assert version == read_version()
    assert read_version_and(leaderboard._MY_POINTS, org.bob.id, "month", key)[1] is None  # no rollup row: no value
    ledger.post(org.bob.id, 40, kind="manual_award", reason="Not kept")  # flushed, not committed
    version, points = read_version_and(leaderboard._MY_POINTS, org.bob.id, "month", key)
    assert version is None and points == 40  # the transaction's own change: read, and in no token


def test_the_places_are_written_out_as_their_schema_writes_them(org, api_as):
    for user, points in ((org.alice, 300), (org.bob, 200), (org.carol, 200)):
        factories.give_points(user, points)
    board = leaderboard.board(org.bob, "month", limit=10)
    dumped = LeaderboardSchema().dump(board)
    assert dumped["items"] == PlaceSchema(many=True).dump(board.items)
    assert dumped["items"][:3] == [
        {"rank": 1, "id": org.alice.id, "name": "Alice", "points": 300},
        {"rank": 2, "id": org.bob.id, "name": "Bob", "points": 200},
        {"rank": 2, "id": org.carol.id, "name": "Carol", "points": 200},
    ]
    assert api_as(org.bob).get("/leaderboard?period=month&limit=3").json["items"] == dumped["items"][:3]


def _now() -> str:
    from pointsapp.periods import utcnow

    return utcnow().isoformat()


def _month_points(user_id: int, key: str | None = None) -> int:
    return (
        db.session.scalar(
            sa.select(PeriodTotal.points).where(
                PeriodTotal.user_id == user_id,
                PeriodTotal.period == "month",
                PeriodTotal.period_key == (key or current_key("month")),
            )
        )
        or 0
    )


def _ranked_crowd(org) -> dict[str, User]:
    """A board with ties, a lead with points, and a deactivated person and an admin with points."""
    people = {}
    for n, points in enumerate((500, 420, 420, 300, 250, 250, 250, 90, 40, 5)):
        people[f"p{n}"] = factories.user("employee", org.wealth, name=f"Person {n:02d}")
        factories.give_points(people[f"p{n}"], points)
    factories.give_points(org.wealth_lead, 260)
    gone = factories.user("employee", org.loans, name="Gone")
    factories.give_points(gone, 1000)
    gone.is_active_account = False
    factories.give_points(org.admin, 700)
    factories.give_points(org.carol, 100)
    db.session.commit()
    return people


def test_the_kept_ladder_answers_as_the_counts_do(org):
    _ranked_crowd(org)
    key = current_key("month")
    version = read_version()
    assert leaderboard._ladder("month", key, version) is None  # first seen: answered by counting
    ladder = leaderboard._ladder("month", key, version)  # seen again by another view: read
    assert ladder is not None and list(ladder) == sorted(ladder)
    assert 1000 not in ladder and 700 not in ladder  # a deactivated person and an admin have no place
    assert 260 in ladder  # a lead with points
    for points in sorted({*ladder, 0, 1, 39, 41, 249, 251, 499, 500, 501, 10_000}):
        if points < 0:
            continue
        assert leaderboard._count_above("month", key, points, ladder) == leaderboard._count_above("month", key, points), points
        assert leaderboard._nearest("month", key, points, above=True, ladder=ladder) == leaderboard._nearest(
            "month", key, points, above=True
        ), points


def test_my_place_is_the_same_counted_or_read_off_the_ladder_and_moves_with_a_change(org, app, api_as):
    people = _ranked_crowd(org)
    viewer = people["p8"]  # 40 points: below the top 3 shown
    views = [api_as(viewer) for _ in range(3)]  # tokens first: each is a change
    _several_idle_connections()
    answers = [view.get("/leaderboard?period=month&limit=3").json["me"] for view in views]
    # Above 40: 500, 420, 420, 300, 260 (the lead), 250 x3, 100 (Carol), 90.
    assert answers == [{"rank": 11, "points": 40, "gap_to_next": 50, "gap_to_top3": 380}] * 3
    kept = [value for _, value in app.extensions["leaderboard_ladders"]._items.values()]
    if _on_sqlite():  # the second view read the ladder, the third used it (PostgreSQL: see above)
        assert any(isinstance(value, leaderboard.array) for value in kept)
    factories.give_points(people["p9"], 200)  # 5 -> 205: now above the viewer
    assert views[0].get("/leaderboard?period=month&limit=3").json["me"] == {
        "rank": 12,
        "points": 40,
        "gap_to_next": 50,
        "gap_to_top3": 380,
    }


def test_one_kept_top_serves_every_shorter_board_and_a_longer_one_is_read(org, api_as, monkeypatch):
    people = _ranked_crowd(org)
    viewer = api_as(people["p9"])
    _several_idle_connections()
    with top_reads(monkeypatch) as reads:
        two, five, three = (viewer.get(f"/leaderboard?period=month&limit={n}").json for n in (2, 5, 3))
    assert [len(b["items"]) for b in (two, five, three)] == [2, 5, 3]
    assert three["items"] == five["items"][:3] and two["items"] == five["items"][:2]
    assert [(i["rank"], i["points"]) for i in five["items"]] == [(1, 500), (2, 420), (2, 420), (4, 300), (5, 260)]
    assert two["me"] == five["me"] == three["me"]
    # The top 3 (at least 3 are read, for the gap to the top 3), then the top 5, and the top 3 again from those 5.
    assert reads[:2] == [("month", current_key("month"), 3), ("month", current_key("month"), 5)]
    if _on_sqlite():  # PostgreSQL: its snapshot may move between requests (see above)
        assert len(reads) == 2


def test_a_view_asks_the_read_version_once_for_its_top_and_its_ladder(org, api_as, monkeypatch):
    people = _ranked_crowd(org)
    views = [api_as(people["p8"]) for _ in range(3)]  # below the top 3: its place needs the ladder or a count
    asked = []

    def counted():
        version = read_version()
        asked.append(version)
        return version

    def counted_with(value, *values):  # the version and my points together (one statement on PostgreSQL)
        version, found = read_version_and(value, *values)
        asked.append(version)
        return version, found

    monkeypatch.setattr(leaderboard, "read_version", counted)
    monkeypatch.setattr(leaderboard, "read_version_and", counted_with)
    answers = []
    for view in views:
        before = len(asked)
        answers.append(view.get("/leaderboard?period=month&limit=3").json["me"])
        assert len(asked) - before == 1  # the top, the ladder (read, kept or counted around) and my place share it
    assert answers == [{"rank": 11, "points": 40, "gap_to_next": 50, "gap_to_top3": 380}] * 3
    near = leaderboard.neighbours(db.session.get(User, people["p8"].id), "month")  # the wallet's rank panel
    assert near is not None and near.me.rank == 11 and len(asked) == 4
