"""Authority over points: team budgets and the audit trail."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from pointsapp import audit, budgets
from pointsapp.api.base import MAX_ID, Blueprint, PageArgsSchema, Schema, acting_user, login_required, page_schema

blp = Blueprint("Authority", __name__, description="Team budgets for lead awards and challenge pools; the audit trail")


class BudgetSchema(Schema):
    team_id = ma.fields.Integer(dump_only=True)
    team_name = ma.fields.String(dump_only=True)
    period_key = ma.fields.String(dump_only=True)
    monthly_points = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0, max=budgets.MAX_BUDGET))
    used = ma.fields.Integer(dump_only=True)
    remaining = ma.fields.Integer(dump_only=True)
    is_default = ma.fields.Boolean(dump_only=True)


class AuditRecordSchema(Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    actor_id = ma.fields.Integer(allow_none=True)
    integration_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String()
    subject_type = ma.fields.String()
    subject_id = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict()


class AuditQueryArgsSchema(PageArgsSchema):
    action = ma.fields.String(validate=ma.validate.Length(max=40))
    actor_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))
    subject_type = ma.fields.String(validate=ma.validate.Length(max=40))
    subject_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=MAX_ID))


AuditPageSchema = page_schema(AuditRecordSchema, "AuditPageSchema")


@blp.route("/teams/<int:team_id>/budget")
class TeamBudget(MethodView):
    @login_required
    @blp.response(200, BudgetSchema)
    def get(self, team_id):
        """A team's monthly budget, used and remaining this month (its leads, admins)."""
        return budgets.get_budget(acting_user(), team_id)

    @login_required
    @blp.arguments(BudgetSchema)
    @blp.response(200, BudgetSchema)
    def put(self, data, team_id):
        """Set a team's monthly points budget (admins); what is used this month stays used."""
        return budgets.set_budget(acting_user(), team_id, data["monthly_points"])


@blp.route("/audit")
class AuditTrail(MethodView):
    @login_required
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Audit records of privileged actions, newest first, with filters (admins)."""
        items, next_cursor = audit.list_records(acting_user(), args, limit=args["limit"], cursor=args.get("cursor"))
        return {"items": items, "next_cursor": next_cursor}
