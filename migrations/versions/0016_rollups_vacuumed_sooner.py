"""rollups vacuumed sooner: PostgreSQL's autovacuum visits period_total after 2 % of it changed, not 20 %

Every ledger entry changes four rollup rows, and each change leaves the old row
version behind until a vacuum clears it. The month board counts the rows above
mine with an index-only scan, which must look at the table for every row on a
page changed since the last vacuum: with 557,000 dead versions beside 602,000
live ones (120 batches of 1,000 events, no vacuum) the board took 11.1 ms, and
5.6 ms after a vacuum. At the default scale factor (20 %) a table of 600,000
rollups waits for 120,000 dead versions; at 2 % for 12,000. SQLite has no
autovacuum of this kind: nothing changes there.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 06:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SETTINGS = ("autovacuum_vacuum_scale_factor", "autovacuum_analyze_scale_factor")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE period_total SET ({', '.join(f'{name} = 0.02' for name in SETTINGS)})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE period_total RESET ({', '.join(SETTINGS)})")
