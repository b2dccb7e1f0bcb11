"""leaderboard: an index of the people without a place

Admins and deactivated people are taken off a count on the rollup index
instead of joining every user; this partial index finds them at once.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

UNRANKED = "role = 'admin' OR NOT is_active_account"


def upgrade():
    op.create_index('ix_user_account_unranked', 'user_account', ['id'], unique=False,
                    sqlite_where=sa.text(UNRANKED), postgresql_where=sa.text(UNRANKED))


def downgrade():
    op.drop_index('ix_user_account_unranked', table_name='user_account')
