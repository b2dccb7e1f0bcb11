"""default points rules

Seeds a fresh install with the bank's points scheme: the per-event rules and
the (inactive) clean-quarter period bonus. The values live in
``pointsapp/default_rules.py`` (plain data), shared with
``rules.seed_default_rules()`` for tests and the demo. Types that already have
a rule are left alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 10:30:00

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa

from pointsapp.default_rules import DEFAULT_EVENT_RULES, DEFAULT_PERIOD_RULES

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

rule = sa.table(
    'rule',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('event_type', sa.String),
    sa.column('name', sa.String),
    sa.column('points', sa.Integer),
    sa.column('version', sa.Integer),
    sa.column('active', sa.Boolean),
    sa.column('valid_from', sa.DateTime(timezone=True)),
    sa.column('valid_to', sa.DateTime(timezone=True)),
    sa.column('period', sa.String),
    sa.column('requires_event_type', sa.String),
    sa.column('forbids_event_type', sa.String),
    sa.column('created_by_id', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)


def _default_rows(now):
    for event_type, name, points in DEFAULT_EVENT_RULES:
        yield {'kind': 'event', 'event_type': event_type, 'name': name, 'points': points, 'active': True,
               'valid_to': None, 'period': None, 'requires_event_type': None, 'forbids_event_type': None}
    for spec in DEFAULT_PERIOD_RULES:
        yield {'kind': 'period', 'event_type': spec['event_type'], 'name': spec['name'], 'points': spec['points'],
               'active': spec['active'], 'valid_to': None if spec['active'] else now, 'period': spec['period'],
               'requires_event_type': spec['requires_event_type'], 'forbids_event_type': spec['forbids_event_type']}


def upgrade():
    bind = op.get_bind()
    now = dt.datetime.now(dt.timezone.utc)
    if bind.dialect.name == 'sqlite':
        now = now.replace(tzinfo=None)  # stored as naive UTC, like the models' UTCDateTime
    existing = set(bind.execute(sa.select(rule.c.kind, rule.c.event_type)).all())
    rows = [
        {**row, 'version': 1, 'valid_from': None, 'created_by_id': None, 'created_at': now}
        for row in _default_rows(now)
        if (row['kind'], row['event_type']) not in existing
    ]
    if rows:
        op.bulk_insert(rule, rows)


def downgrade():
    # Remove the seeded first versions that nothing has been paid under yet.
    types = [t for t, _, _ in DEFAULT_EVENT_RULES] + [spec['event_type'] for spec in DEFAULT_PERIOD_RULES]
    op.execute(
        rule.delete().where(
            rule.c.event_type.in_(types),
            rule.c.version == 1,
            rule.c.created_by_id.is_(None),
            ~rule.c.id.in_(sa.text("SELECT rule_id FROM ledger_entry WHERE rule_id IS NOT NULL")),
            ~rule.c.id.in_(sa.text("SELECT rule_id FROM event WHERE rule_id IS NOT NULL")),
            ~rule.c.id.in_(sa.text("SELECT rule_id FROM period_close")),
        )
    )
