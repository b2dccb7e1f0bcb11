"""Analytics resources: the teams a manager may analyse, a team's dashboard summary, its CSV."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from pointsapp import analytics, names
from pointsapp.api.base import Blueprint, Schema, acting_user, list_schema, login_required

blp = Blueprint("Analytics", __name__, description="Manager analytics: trends, activity mix, top performers, attrition risk")


class AnalyticsTeamSchema(Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    parent_id = ma.fields.Integer(allow_none=True)
    depth = ma.fields.Integer()


class SummaryArgsSchema(Schema):
    weeks = ma.fields.Integer(
        load_default=analytics.DEFAULT_RANGE,
        validate=ma.validate.OneOf(analytics.RANGES),
        metadata={"description": "4, 12 or 26"},
    )


class WeekSchema(Schema):
    key = ma.fields.String()
    start = ma.fields.Date()
    points = ma.fields.Integer()
    active_members = ma.fields.Integer()


class MixSchema(Schema):
    key = ma.fields.String()
    label = ma.fields.String()
    points = ma.fields.Integer()
    count = ma.fields.Integer()
    quantity = ma.fields.Integer()


class RiskSchema(Schema):
    code = ma.fields.String(metadata={"description": "drop, silent or goal"})
    message = ma.fields.String()


class MemberSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    email = ma.fields.String()
    team_id = ma.fields.Integer(allow_none=True)
    team_name = ma.fields.String()
    role = ma.fields.String()
    hired_on = ma.fields.Date(allow_none=True)
    tenure_months = ma.fields.Integer(allow_none=True)
    points = ma.fields.Integer(attribute="total")
    previous_points = ma.fields.Integer(attribute="previous_total")
    this_week = ma.fields.Integer()
    weekly = ma.fields.List(ma.fields.Integer(), metadata={"description": "points per week of the range, oldest first"})
    weekly_goal = ma.fields.Integer()
    goal_misses = ma.fields.Integer()
    recent_weekly_avg = ma.fields.Float(attribute="recent_avg")
    earlier_weekly_avg = ma.fields.Float(attribute="earlier_avg", allow_none=True)
    last_points_week = ma.fields.String(allow_none=True)
    at_risk = ma.fields.Boolean()
    risks = ma.fields.List(ma.fields.Nested(RiskSchema))


class TeamRowSchema(Schema):
    team_id = ma.fields.Integer()
    name = ma.fields.String()
    members = ma.fields.Integer()
    points = ma.fields.Integer(attribute="total")
    this_week = ma.fields.Integer()


class SummarySchema(Schema):
    team_id = ma.fields.Function(lambda board: board.team.id if board.team else None)
    team_name = ma.fields.String(attribute="scope_name")
    weeks = ma.fields.Integer()
    points = ma.fields.Integer(attribute="total")
    previous_points = ma.fields.Integer(attribute="previous_total")
    change_percent = ma.fields.Integer(allow_none=True)
    member_count = ma.fields.Integer()
    active_members = ma.fields.Integer()
    avg_per_member_week = ma.fields.Float()
    trend = ma.fields.List(ma.fields.Nested(WeekSchema))
    mix_by_kind = ma.fields.List(ma.fields.Nested(MixSchema))
    mix_by_event_type = ma.fields.List(ma.fields.Nested(MixSchema), attribute="mix_by_type")
    top_performers = ma.fields.List(ma.fields.Nested(MemberSchema), attribute="top")
    at_risk = ma.fields.List(ma.fields.Nested(MemberSchema))
    by_team = ma.fields.List(ma.fields.Nested(TeamRowSchema))
    members = ma.fields.List(ma.fields.Nested(MemberSchema))


@blp.route("/analytics/teams")
class AnalyticsTeams(MethodView):
    @login_required
    @blp.response(200, list_schema(AnalyticsTeamSchema, "AnalyticsTeamListSchema"))
    def get(self):
        """The teams I may analyse (leads: theirs and every team under them; admins: all)."""
        teams = analytics.visible_teams(acting_user())
        return {
            "items": [{"id": t.id, "name": names.localized(t), "parent_id": t.parent_id, "depth": depth} for t, depth in teams]
        }


@blp.route("/analytics/summary")
class MySummary(MethodView):
    @login_required
    @blp.arguments(SummaryArgsSchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, args):
        """The whole company's dashboard for admins; a lead's own team for leads."""
        return analytics.dashboard(acting_user(), None, args["weeks"])


@blp.route("/analytics/teams/<int:team_id>/summary")
class TeamSummary(MethodView):
    @login_required
    @blp.arguments(SummaryArgsSchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, args, team_id):
        """A team's weekly trend, activity mix, top performers, attrition risk and members."""
        return analytics.dashboard(acting_user(), team_id, args["weeks"])


@blp.route("/analytics/teams/<int:team_id>/export.csv")
class TeamExport(MethodView):
    @login_required
    @blp.arguments(SummaryArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", description="The member table, one row per member")
    def get(self, args, team_id):
        """A team's member table as CSV."""
        filename, text = analytics.export_csv(acting_user(), team_id, args["weeks"])
        return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})
