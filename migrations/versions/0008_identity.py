"""identity: leavers, SCIM provisioning ids, integration scopes

Users get ``updated_at``, ``deactivated_at``, the HR ids (``employee_number``,
``external_id``) and ``deprovisioned_at`` (deleted over SCIM: deactivated and
no longer listed there). Teams get ``external_id``, ``archived_at`` and
``updated_at``. Integrations get a ``scope``: ``events`` (every existing one)
or ``scim``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

OLD_KINDS = (
    "event_award", "mentorship_bonus", "period_bonus", "challenge_payout", "manual_award", "manual_deduction",
    "compliance_deduction", "reversal", "redemption",
)
NEW_KINDS = OLD_KINDS + ("forfeit",)


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('employee_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('deprovisioned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('scim_profile', sa.JSON(), nullable=True))
    op.execute("UPDATE user_account SET updated_at = created_at")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE team SET updated_at = created_at")
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)

    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=16), server_default='events', nullable=False))
        batch_op.create_check_constraint('ck_integration_scope', "scope IN ('events', 'scim')")

    # A leaver's unspent points may be forfeited (LEAVER_POLICY=forfeit): a new kind of entry.
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint('ck_ledger_entry_kind', type_='check')
        batch_op.create_check_constraint('ck_ledger_entry_kind', _kinds(NEW_KINDS))


def downgrade():
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_constraint('ck_ledger_entry_kind', type_='check')
        batch_op.create_check_constraint('ck_ledger_entry_kind', _kinds(OLD_KINDS))
    with op.batch_alter_table('integration', schema=None) as batch_op:
        batch_op.drop_constraint('ck_integration_scope', type_='check')
        batch_op.drop_column('scope')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('archived_at')
        batch_op.drop_column('external_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('scim_profile')
        batch_op.drop_column('deprovisioned_at')
        batch_op.drop_column('external_id')
        batch_op.drop_column('employee_number')
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('updated_at')
