"""challenge titles in two languages

Challenges get a ``translations`` JSON object like rules, badges, rewards and
teams: ``{"zh": {"title": "…"}}``; the ``title`` column stays the fallback.

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-29 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('challenge', schema=None) as batch_op:
        batch_op.drop_column('translations')
