"""Wallets and ledger entries."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask.views import MethodView

from pointsapp import ledger, names, org
from pointsapp.api.base import Blueprint, PageArgsSchema, Schema, acting_user, keyset_page, login_required, page_schema
from pointsapp.models import LedgerEntry
from pointsapp.models.ledger import ENTRY_KINDS

blp = Blueprint("Wallet", __name__, description="Balances and ledger entries")


class PeriodPointsSchema(Schema):
    week = ma.fields.Integer()
    month = ma.fields.Integer()
    quarter = ma.fields.Integer()
    year = ma.fields.Integer()


class WalletSchema(Schema):
    balance = ma.fields.Integer()
    available = ma.fields.Integer()
    held = ma.fields.Integer()
    lifetime_earned = ma.fields.Integer()
    period_points = ma.fields.Nested(PeriodPointsSchema)


class LedgerEntrySchema(Schema):
    id = ma.fields.Integer()
    points = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": list(ENTRY_KINDS)})
    reason = ma.fields.Function(lambda entry: getattr(entry, "reason_in_language", entry.reason))
    created_at = ma.fields.DateTime()
    effective_at = ma.fields.DateTime()
    event_id = ma.fields.Integer(allow_none=True)
    rule_id = ma.fields.Integer(allow_none=True)
    actor_id = ma.fields.Integer(allow_none=True)
    reverses_id = ma.fields.Integer(allow_none=True)


LedgerPageSchema = page_schema(LedgerEntrySchema, "LedgerPageSchema")


@blp.route("/me/wallet")
class MyWallet(MethodView):
    @login_required
    @blp.response(200, WalletSchema)
    def get(self):
        """My balance, available and held points, and this period's points."""
        return ledger.wallet_summary(acting_user().id)


@blp.route("/me/ledger")
class MyLedger(MethodView):
    @login_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, LedgerPageSchema)
    def get(self, args):
        """My ledger entries, newest first."""
        stmt = sa.select(LedgerEntry).where(LedgerEntry.user_id == acting_user().id)
        items, next_cursor = keyset_page(stmt, LedgerEntry, args)
        reasons = names.entry_reasons(items)
        for entry in items:
            entry.reason_in_language = reasons[entry.id]  # the reader's language; the stored reason stays as written
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/users/<int:user_id>/wallet")
class UserWallet(MethodView):
    @login_required
    @blp.response(200, WalletSchema)
    def get(self, user_id):
        """A member's wallet, for their lead or an admin."""
        target = org.get_user(acting_user(), user_id)
        return ledger.wallet_summary(target.id)
