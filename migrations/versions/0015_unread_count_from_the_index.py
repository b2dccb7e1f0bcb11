"""unread count from the index: the user's notification index carries read_at

Every page's layout shows how many notifications I have not read, counted with
the user's index and then each of my rows read from the table to see read_at.
A user who never opens them gathers thousands (a notice per ingestion batch
that pays them), and the count grew with them: 82 rows took 21 microseconds
of SQLite's time, two thousand would take half a millisecond on every page.
With read_at in the index the count reads the index alone (82 rows: 2 µs);
the list of my notifications, newest first, still walks the same index.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_created_read", ["user_id", "created_at", "read_at"], unique=False)
        batch_op.drop_index("ix_notification_user_created")


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_created", ["user_id", "created_at"], unique=False)
        batch_op.drop_index("ix_notification_user_created_read")
