"""wallet version: one more with every ledger change to the wallet

The wallet page is cached per user and keyed on this number, which the ledger
raises in the same update that changes the balance or the held points; every
worker and host reads it from the database, so none shows a stale wallet.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-29 18:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('wallet', sa.Column('version', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('wallet', schema=None) as batch_op:
        batch_op.drop_column('version')
