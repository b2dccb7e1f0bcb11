"""names in two languages, the WeCom channel, leave dates on redemptions

Rules, badges, rewards and teams get a ``translations`` JSON object (base
columns stay the fallback); users get their WeCom user id; notification
preferences get one switch per channel; ``wecom_delivery`` records each
WeCom message once; leave and remote-day redemptions carry their dates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 14:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

TRANSLATED_TABLES = ('badge', 'reward', 'rule', 'team')


def upgrade():
    op.create_table('wecom_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('wecom_userid', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('errcode', sa.Integer(), nullable=True),
    sa.Column('msgid', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('sending', 'sent', 'failed')", name='ck_wecom_delivery_status'),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notification_id', name='uq_wecom_delivery_once')
    )
    for table in TRANSLATED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('translations', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))

    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.add_column(sa.Column('web_push', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('wecom', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.add_column(sa.Column('starts_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('ends_on', sa.Date(), nullable=True))
        batch_op.create_check_constraint('ck_redemption_dates_ordered', 'ends_on IS NULL OR ends_on >= starts_on')

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wecom_userid', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_user_wecom_userid', ['wecom_userid'])


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint('uq_user_wecom_userid', type_='unique')
        batch_op.drop_column('wecom_userid')

    with op.batch_alter_table('redemption', schema=None) as batch_op:
        batch_op.drop_constraint('ck_redemption_dates_ordered', type_='check')
        batch_op.drop_column('ends_on')
        batch_op.drop_column('starts_on')

    with op.batch_alter_table('notification_preference', schema=None) as batch_op:
        batch_op.drop_column('wecom')
        batch_op.drop_column('web_push')

    for table in TRANSLATED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('translations')

    op.drop_table('wecom_delivery')
