"""rollups in period order: the primary key of period_total starts with the period

An ingestion batch adds to the rollups of a thousand users, each in the current
week, month, quarter and year. Keyed by user first, those rows lay one or two
to a page across the whole table, so a batch changed some thousand pages of it;
keyed by (period, key, user), the rows of the current periods lie together and a
batch changes a few hundred, most of them already in the cache. Every query of
the rollups names all three columns, or the period and its key, so each still
finds its rows through the key. SQLite rebuilds the table (without rowid, as
before); PostgreSQL replaces the primary key.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 02:30:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

COLUMNS = "user_id, period, period_key, points"


def _rollup_table_sql(primary_key):
    return f"""CREATE TABLE _new_period_total (
\tuser_id INTEGER NOT NULL, 
\tperiod VARCHAR(8) NOT NULL, 
\tperiod_key VARCHAR(10) NOT NULL, 
\tpoints BIGINT NOT NULL, 
\tPRIMARY KEY ({primary_key}), 
\tCONSTRAINT ck_period_total_period CHECK (period IN ('week', 'month', 'quarter', 'year')), 
\tFOREIGN KEY(user_id) REFERENCES user_account (id)
) WITHOUT ROWID"""


def _rekey(primary_key):
    if op.get_bind().dialect.name == "sqlite":
        op.execute(_rollup_table_sql(primary_key))
        # Copied in the new key's order: the new table is written from its first page to its last.
        op.execute(f"INSERT INTO _new_period_total ({COLUMNS}) SELECT {COLUMNS} FROM period_total ORDER BY {primary_key}")
        op.execute("DROP TABLE period_total")
        op.execute("ALTER TABLE _new_period_total RENAME TO period_total")
        op.create_index('ix_period_total_board', 'period_total', ['period', 'period_key', 'points'], unique=False)
    else:
        op.drop_constraint('period_total_pkey', 'period_total', type_='primary')
        op.create_primary_key('period_total_pkey', 'period_total', [c.strip() for c in primary_key.split(",")])


def upgrade():
    _rekey("period, period_key, user_id")


def downgrade():
    _rekey("user_id, period, period_key")
