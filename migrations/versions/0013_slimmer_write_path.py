"""slimmer write path: partial indexes on the entries, rollups kept in key order

An ingestion batch wrote seven index entries for every ledger entry, though an
event award has no hold, no reversed entry, no correction and no operation key:
the three unique constraints (user and operation key, hold, reversed entry) and
the indexes on the corrected payout and the causing event become partial
indexes of the rows that have a value, with the same uniqueness. The event
index on the related event likewise holds only the clawbacks and corrections.
The notification index on the user alone goes: ix_notification_user_created
starts with the user. On SQLite the rollups become a table without rowid, kept
in (user, period, key) order, so that an upsert finds its row in one lookup
and a user's rows share a page.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 21:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

KINDS = (
    "event_award", "mentorship_bonus", "period_bonus", "challenge_payout", "manual_award", "manual_deduction",
    "compliance_deduction", "reversal", "redemption", "forfeit",
)
ENTRY_COLUMNS = (
    "id, user_id, points, kind, reason, actor_id, event_id, rule_id, hold_id, reverses_id, dedupe_key, "
    "effective_at, created_at, corrects_id, cause_event_id"
)
# (name, columns, unique, the column that must be set)
PARTIAL = (
    ("uq_ledger_entry_user_dedupe", ["user_id", "dedupe_key"], True, "dedupe_key"),
    ("uq_ledger_entry_hold_id", ["hold_id"], True, "hold_id"),
    ("uq_ledger_entry_reverses_id", ["reverses_id"], True, "reverses_id"),
    ("ix_ledger_entry_corrects_id", ["corrects_id"], False, "corrects_id"),
    ("ix_ledger_entry_cause_event_id", ["cause_event_id"], False, "cause_event_id"),
)


def _entry_table_sql(name, uniques):
    kinds = ", ".join(f"'{kind}'" for kind in KINDS)
    unique_clauses = (
        "\tCONSTRAINT uq_ledger_entry_user_dedupe UNIQUE (user_id, dedupe_key), \n"
        "\tUNIQUE (hold_id), \n\tUNIQUE (reverses_id), \n"
        if uniques
        else ""
    )
    return f"""CREATE TABLE {name} (
\tid INTEGER NOT NULL, 
\tuser_id INTEGER NOT NULL, 
\tpoints BIGINT NOT NULL, 
\tkind VARCHAR(32) NOT NULL, 
\treason VARCHAR(500) NOT NULL, 
\tactor_id INTEGER, 
\tevent_id INTEGER, 
\trule_id INTEGER, 
\thold_id INTEGER, 
\treverses_id INTEGER, 
\tdedupe_key VARCHAR(120), 
\teffective_at DATETIME NOT NULL, 
\tcreated_at DATETIME NOT NULL, 
\tcorrects_id INTEGER, 
\tcause_event_id INTEGER, 
\tPRIMARY KEY (id), 
{unique_clauses}\tCONSTRAINT ck_ledger_entry_points_not_zero CHECK (points <> 0), 
\tCONSTRAINT ck_ledger_entry_kind CHECK (kind IN ({kinds})), 
\tFOREIGN KEY(user_id) REFERENCES user_account (id), 
\tFOREIGN KEY(actor_id) REFERENCES user_account (id), 
\tFOREIGN KEY(event_id) REFERENCES event (id), 
\tFOREIGN KEY(rule_id) REFERENCES rule (id), 
\tFOREIGN KEY(hold_id) REFERENCES hold (id), 
\tFOREIGN KEY(reverses_id) REFERENCES ledger_entry (id), 
\tFOREIGN KEY(corrects_id) REFERENCES ledger_entry (id), 
\tFOREIGN KEY(cause_event_id) REFERENCES event (id)
)"""


def _rollup_table_sql(name, without_rowid):
    return f"""CREATE TABLE {name} (
\tuser_id INTEGER NOT NULL, 
\tperiod VARCHAR(8) NOT NULL, 
\tperiod_key VARCHAR(10) NOT NULL, 
\tpoints BIGINT NOT NULL, 
\tPRIMARY KEY (user_id, period, period_key), 
\tCONSTRAINT ck_period_total_period CHECK (period IN ('week', 'month', 'quarter', 'year')), 
\tFOREIGN KEY(user_id) REFERENCES user_account (id)
){' WITHOUT ROWID' if without_rowid else ''}"""


def _rebuild_sqlite(table, create_sql, columns):
    """SQLite's own recipe for a changed table: a new one, the rows copied, the old dropped, the new renamed."""
    op.execute(create_sql)
    op.execute(f"INSERT INTO _new_{table} ({columns}) SELECT {columns} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE _new_{table} RENAME TO {table}")


def _drop_entry_uniques_postgresql():
    uniques = sa.inspect(op.get_bind()).get_unique_constraints("ledger_entry")
    for constraint in uniques:
        if sorted(constraint["column_names"]) in (["dedupe_key", "user_id"], ["hold_id"], ["reverses_id"]):
            op.drop_constraint(constraint["name"], "ledger_entry", type_="unique")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _rebuild_sqlite("ledger_entry", _entry_table_sql("_new_ledger_entry", uniques=False), ENTRY_COLUMNS)
        op.create_index('ix_ledger_entry_event_id', 'ledger_entry', ['event_id'], unique=False)
        op.create_index('ix_ledger_entry_user_created', 'ledger_entry', ['user_id', 'created_at', 'id'], unique=False)
        _rebuild_sqlite("period_total", _rollup_table_sql("_new_period_total", without_rowid=True),
                        "user_id, period, period_key, points")
        op.create_index('ix_period_total_board', 'period_total', ['period', 'period_key', 'points'], unique=False)
    else:
        _drop_entry_uniques_postgresql()
        op.drop_index('ix_ledger_entry_corrects_id', table_name='ledger_entry')
        op.drop_index('ix_ledger_entry_cause_event_id', table_name='ledger_entry')
    for name, columns, unique, column in PARTIAL:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, 'ledger_entry', columns, unique=unique, sqlite_where=where, postgresql_where=where)
    op.drop_index('ix_event_related_event_id', table_name='event')
    where = sa.text("related_event_id IS NOT NULL")
    op.create_index('ix_event_related_event_id', 'event', ['related_event_id'], unique=False,
                    sqlite_where=where, postgresql_where=where)
    op.execute("DROP INDEX IF EXISTS ix_notification_user_id")


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_index('ix_notification_user_id', 'notification', ['user_id'], unique=False)
    op.drop_index('ix_event_related_event_id', table_name='event')
    op.create_index('ix_event_related_event_id', 'event', ['related_event_id'], unique=False)
    if sqlite:
        _rebuild_sqlite("period_total", _rollup_table_sql("_new_period_total", without_rowid=False),
                        "user_id, period, period_key, points")
        op.create_index('ix_period_total_board', 'period_total', ['period', 'period_key', 'points'], unique=False)
        _rebuild_sqlite("ledger_entry", _entry_table_sql("_new_ledger_entry", uniques=True), ENTRY_COLUMNS)
        op.create_index('ix_ledger_entry_event_id', 'ledger_entry', ['event_id'], unique=False)
        op.create_index('ix_ledger_entry_user_created', 'ledger_entry', ['user_id', 'created_at', 'id'], unique=False)
    else:
        for name, _columns, _unique, _column in PARTIAL:
            op.drop_index(name, table_name='ledger_entry')
        op.create_unique_constraint('uq_ledger_entry_user_dedupe', 'ledger_entry', ['user_id', 'dedupe_key'])
        op.create_unique_constraint('ledger_entry_hold_id_key', 'ledger_entry', ['hold_id'])
        op.create_unique_constraint('ledger_entry_reverses_id_key', 'ledger_entry', ['reverses_id'])
    op.create_index('ix_ledger_entry_corrects_id', 'ledger_entry', ['corrects_id'], unique=False)
    op.create_index('ix_ledger_entry_cause_event_id', 'ledger_entry', ['cause_event_id'], unique=False)
