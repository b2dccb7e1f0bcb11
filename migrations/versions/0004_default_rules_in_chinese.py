"""default rules in Chinese

Gives the default points rules their Chinese names (``translations.zh.name``)
from ``pointsapp/default_rules.py``. Only rules still named as shipped and
without a translation are touched, so an admin's own names stay.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 15:00:00

"""
from alembic import op
import sqlalchemy as sa

from pointsapp.default_rules import DEFAULT_EVENT_RULES, DEFAULT_PERIOD_RULES, DEFAULT_RULE_NAMES_ZH

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

rule = sa.table(
    'rule',
    sa.column('id', sa.Integer),
    sa.column('kind', sa.String),
    sa.column('event_type', sa.String),
    sa.column('name', sa.String),
    sa.column('translations', sa.JSON),
)


def _shipped_names():
    names = {('event', event_type): name for event_type, name, _ in DEFAULT_EVENT_RULES}
    names.update({('period', spec['event_type']): spec['name'] for spec in DEFAULT_PERIOD_RULES})
    return names


def upgrade():
    bind = op.get_bind()
    shipped = _shipped_names()
    rows = bind.execute(sa.select(rule.c.id, rule.c.kind, rule.c.event_type, rule.c.name, rule.c.translations)).all()
    for row in rows:
        key = (row.kind, row.event_type)
        if key in DEFAULT_RULE_NAMES_ZH and row.name == shipped.get(key) and not row.translations:
            bind.execute(rule.update().where(rule.c.id == row.id).values(translations={'zh': {'name': DEFAULT_RULE_NAMES_ZH[key]}}))


def downgrade():
    bind = op.get_bind()
    for (kind, event_type), name in DEFAULT_RULE_NAMES_ZH.items():
        rows = bind.execute(
            sa.select(rule.c.id, rule.c.translations).where(rule.c.kind == kind, rule.c.event_type == event_type)
        ).all()
        for row in rows:
            if row.translations == {'zh': {'name': name}}:
                bind.execute(rule.update().where(rule.c.id == row.id).values(translations={}))
