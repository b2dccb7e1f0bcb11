"""leaderboard indexes: the people without a place, and names in board order

A rank is counted on the rollup index; admins and deactivated people are
taken off that count through a small partial index instead of joining every
user. The people standing at 0 are listed in name order (by code point, as
the ranking sorts) along an index on (name, id), a few rows at a time.

Revision ID: 0009
Revises: 0010 (0009 was set aside for this revision while 0010 landed first)
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0010'
branch_labels = None
depends_on = None

UNRANKED = "role = 'admin' OR NOT is_active_account"


def upgrade():
    op.create_index('ix_user_account_unranked', 'user_account', ['id'], unique=False,
                    sqlite_where=sa.text(UNRANKED), postgresql_where=sa.text(UNRANKED))
    # SQLite compares text by code point already; PostgreSQL is given the "C" collation on that column.
    op.create_index('ix_user_account_board_name', 'user_account', ['name', 'id'], unique=False,
                    postgresql_ops={'name': 'COLLATE "C"'})


def downgrade():
    op.drop_index('ix_user_account_board_name', table_name='user_account')
    op.drop_index('ix_user_account_unranked', table_name='user_account')
