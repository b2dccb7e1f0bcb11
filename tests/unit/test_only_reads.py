"""Which statements a safe request may send in autocommit on PostgreSQL (``bulk.only_reads``)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from pointsapp import bulk
from pointsapp.bulk import only_reads
from pointsapp.models import Team, Wallet

READS = [
    "SELECT 1",
    "  select id from team",
    "SELECT\n id, updated_at, for_x FROM t",  # words that merely contain a writing word
    "WITH RECURSIVE sub(id) AS (SELECT id FROM team WHERE id = 1 UNION ALL "
    "SELECT team.id FROM team JOIN sub ON team.parent_id = sub.id) SELECT id FROM sub",
]
NOT_ONLY_READS = [
    "INSERT INTO team (name) VALUES ('x')",
    "UPDATE wallet SET balance = 0",
    "DELETE FROM team",
    "SAVEPOINT sa_savepoint_1",
    "SELECT user_id FROM wallet WHERE user_id = 1 FOR UPDATE",
    "SELECT user_id FROM wallet\nFOR NO KEY UPDATE SKIP LOCKED",
    "SELECT id FROM reward FOR KEY SHARE",
    "SELECT id FROM reward FOR SHARE",
    "WITH gone AS (DELETE FROM team RETURNING id) SELECT id FROM gone",
    "with changed as (update wallet set balance = 1 returning user_id) select * from changed",
    "WITH x AS (SELECT 1 AS id) SELECT id FROM x FOR SHARE",
    "SELECT * INTO team_copy FROM team",
    "VACUUM team",
    "WITHIN GROUP",
]


@pytest.mark.parametrize("statement", READS)
def test_reads(statement):
    assert only_reads(statement)


@pytest.mark.parametrize("statement", NOT_ONLY_READS)
def test_writes_locks_and_anything_else(statement):
    assert not only_reads(statement)


def test_sqlalchemys_locking_selects_are_seen_as_such():
    dialect = postgresql.dialect()
    plain = sa.select(Wallet.user_id).where(Wallet.user_id == 1)
    assert only_reads(str(plain.compile(dialect=dialect)))
    for locked in (plain.with_for_update(), plain.with_for_update(key_share=True), plain.with_for_update(skip_locked=True)):
        assert not only_reads(str(locked.compile(dialect=dialect)))


def test_a_lookup_refuses_a_statement_that_does_not_only_read():
    lookup = bulk.Lookup(sa.select(Team.id).where(Team.id == sa.bindparam("team_id")).with_for_update(), ("team_id",))
    with pytest.raises(ValueError, match="only reads"):
        lookup._named(postgresql.dialect(), (1,))
