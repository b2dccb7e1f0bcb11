"""bring early databases up to date

The initial revision 0001 was reissued twice after databases had been built
from it: once to add the events import, push deliveries and several challenge,
notification, subscription and redemption columns, and once to make wallets,
ledger entries and period totals 64-bit. A database built from an earlier 0001
(whatever later revisions have run since) never received those changes. This
revision adds whatever is missing and widens what is narrow; on a database
built from the current 0001 it changes nothing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:50:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Columns that hold sums of points and must be 64-bit.
WIDE_COLUMNS = {
    'wallet': ('balance', 'held', 'lifetime_earned'),
    'ledger_entry': ('points',),
    'period_total': ('points',),
}

def _new_columns():
    return {
    'board_link': [sa.Column('label', sa.String(length=120), nullable=False, server_default='')],
    'challenge': [sa.Column('final_contributions', sa.JSON(), nullable=True)],
    'notification': [sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
                     sa.Column('last_error', sa.String(length=200), nullable=True)],
    'push_subscription': [sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
                          sa.Column('user_agent', sa.String(length=200), nullable=True)],
    'redemption': [sa.Column('request_token', sa.String(length=64), nullable=True)],
    }

NEW_INDEXES = {
    'challenge': [('ix_challenge_status_end', ['status', 'ends_at'])],
    'notification': [('ix_notification_user_created', ['user_id', 'created_at'])],
    'redemption': [('ix_redemption_status_created', ['status', 'created_at']),
                   ('ix_redemption_user_created', ['user_id', 'created_at', 'id'])],
}

REDEMPTION_STEP_STATUSES = "status IN ('requested', 'pending', 'approved', 'rejected', 'cancelled', 'expired')"


def _create_event_import():
    op.create_table('event_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'running', 'done')", name='ck_event_import_status'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def _create_push_delivery():
    op.create_table('push_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name='ck_push_delivery_status'),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['push_subscription.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notification_id', 'subscription_id', name='uq_push_delivery_once')
    )
    with op.batch_alter_table('push_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_push_delivery_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_delivery_subscription_id'), ['subscription_id'], unique=False)


def upgrade():
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if 'event_import' not in tables:
        _create_event_import()
    if 'push_delivery' not in tables:
        _create_push_delivery()

    for table, columns in _new_columns().items():
        present = {c['name'] for c in inspector.get_columns(table)}
        for column in columns:
            if column.name not in present:
                op.add_column(table, column)
                if column.server_default is not None:
                    with op.batch_alter_table(table) as batch_op:
                        batch_op.alter_column(column.name, server_default=None, existing_type=column.type,
                                              existing_nullable=column.nullable)

    for table, indexes in NEW_INDEXES.items():
        present = {i['name'] for i in inspector.get_indexes(table)}
        for name, columns in indexes:
            if name not in present:
                op.create_index(name, table, columns, unique=False)

    uniques = {u['name'] for u in inspector.get_unique_constraints('redemption')}
    if 'uq_redemption_user_request_token' not in uniques:
        with op.batch_alter_table('redemption') as batch_op:
            batch_op.create_unique_constraint('uq_redemption_user_request_token', ['user_id', 'request_token'])

    checks = {c['name'] for c in inspector.get_check_constraints('redemption_step')}
    if 'ck_redemption_step_status' not in checks:
        with op.batch_alter_table('redemption_step') as batch_op:
            batch_op.create_check_constraint('ck_redemption_step_status', REDEMPTION_STEP_STATUSES)

    for table, names in WIDE_COLUMNS.items():
        narrow = [c['name'] for c in inspector.get_columns(table)
                  if c['name'] in names and not isinstance(c['type'], sa.BigInteger)]
        if narrow:
            with op.batch_alter_table(table) as batch_op:
                for name in narrow:
                    batch_op.alter_column(name, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=False)


def downgrade():
    # The schema after this revision is the one the current 0001 builds: nothing to undo.
    pass
