"""Leaderboards, badges, honours and weekly goals."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from pointsapp import badges, goals, honours, leaderboard
from pointsapp.api.base import Blueprint, Id, Schema, acting_user, list_schema, login_required
from pointsapp.api.translated import Localized, Translations
from pointsapp.http import MAX_ID
from pointsapp.periods import PERIODS

blp = Blueprint("Recognition", __name__, description="Leaderboards, badges, honours and weekly goals")


class LeaderboardArgsSchema(Schema):
    period = ma.fields.String(load_default="week", validate=ma.validate.OneOf(PERIODS))
    kind = ma.fields.String(load_default="individual", validate=ma.validate.OneOf(leaderboard.KINDS))
    team_id = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    period_key = ma.fields.String(
        load_default=None,
        validate=ma.validate.Regexp(r"^[0-9]{4}(-W[0-9]{2}|-Q[1-4]|-[0-9]{2})?$"),
        metadata={"description": "A key of the period: 2026-W48, 2026-11, 2026-Q4 or 2026 (default: the current one)."},
    )
    # At bank scale a board lists its top rows; ``me`` is computed whatever the limit.
    limit = ma.fields.Integer(load_default=leaderboard.ITEMS_SHOWN, validate=ma.validate.Range(min=1, max=1000))


class PlaceSchema(Schema):
    rank = ma.fields.Integer()
    id = ma.fields.Integer()
    name = ma.fields.String()
    points = ma.fields.Integer()


class Places(ma.fields.List):
    """A board's places, written out directly: a board lists up to a thousand, and the schema would
    serialize each of their four fields alone. Documented, and read, as a list of ``PlaceSchema``."""

    def __init__(self, **kwargs):
        super().__init__(ma.fields.Nested(PlaceSchema), **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return [{"rank": p.rank, "id": p.id, "name": p.name, "points": p.points} for p in value]


class StandingSchema(Schema):
    rank = ma.fields.Integer()
    points = ma.fields.Integer()
    gap_to_next = ma.fields.Integer()
    gap_to_top3 = ma.fields.Integer()


class LeaderboardSchema(Schema):
    period = ma.fields.String(metadata={"enum": list(PERIODS)})
    period_key = ma.fields.String()
    kind = ma.fields.String(metadata={"enum": list(leaderboard.KINDS)})
    team_id = ma.fields.Integer(allow_none=True)
    items = Places()
    me = ma.fields.Nested(StandingSchema, allow_none=True)


class BadgeSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Localized(required=True, validate=ma.validate.Length(min=1, max=120))
    description = Localized(load_default="", validate=ma.validate.Length(max=500))
    translations = Translations(load_default=None)
    event_type = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    threshold = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=badges.MAX_THRESHOLD))
    period = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(PERIODS))


class HonorSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    user_id = Id(required=True)
    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    period_key = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10))
    team_id = ma.fields.Integer(dump_only=True, allow_none=True)
    awarded_at = ma.fields.AwareDateTime(dump_only=True)


class UserBadgeSchema(Schema):
    badge_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String()
    awarded_at = ma.fields.AwareDateTime()
    period_key = ma.fields.String()
    kind = ma.fields.String()


class GoalInputSchema(Schema):
    weekly_points = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=0, max=goals.MAX_WEEKLY_POINTS))


class GoalSchema(Schema):
    user_id = ma.fields.Integer()
    weekly_points = ma.fields.Integer()
    set_by_id = ma.fields.Integer(allow_none=True)
    updated_at = ma.fields.AwareDateTime()


class GoalStatusSchema(Schema):
    weekly_points = ma.fields.Integer()
    earned = ma.fields.Integer()
    remaining = ma.fields.Integer()


BadgeListSchema = list_schema(BadgeSchema, "BadgeListSchema")
UserBadgeListSchema = list_schema(UserBadgeSchema, "UserBadgeListSchema")


@blp.route("/leaderboard")
class Leaderboard(MethodView):
    @login_required
    @blp.arguments(LeaderboardArgsSchema, location="query")
    @blp.response(200, LeaderboardSchema)
    def get(self, args):
        """A leaderboard for a period, company-wide or within a team, with my place and gaps."""
        return leaderboard.board(
            acting_user(),
            args["period"],
            kind=args["kind"],
            team_id=args["team_id"],
            key=args["period_key"],
            limit=args["limit"],
        )


@blp.route("/badges")
class Badges(MethodView):
    @login_required
    @blp.response(200, BadgeListSchema)
    def get(self):
        """Every badge that can be earned."""
        return {"items": badges.list_badges()}

    @login_required
    @blp.arguments(BadgeSchema)
    @blp.response(201, BadgeSchema)
    def post(self, data):
        """Define a threshold badge (admin)."""
        return badges.create_badge(acting_user(), **data)


@blp.route("/honors")
class Honors(MethodView):
    @login_required
    @blp.arguments(HonorSchema)
    @blp.response(201, HonorSchema)
    def post(self, data):
        """Award an honour title for a period (admin)."""
        return honours.award_honor(acting_user(), **data)


@blp.route("/users/<int:user_id>/badges")
class UserBadges(MethodView):
    @login_required
    @blp.response(200, UserBadgeListSchema)
    def get(self, user_id):
        """A user's badges and honour titles, newest first."""
        return {"items": badges.user_badges(acting_user(), user_id)}


@blp.route("/users/<int:user_id>/goal")
class UserGoal(MethodView):
    @login_required
    @blp.arguments(GoalInputSchema)
    @blp.response(200, GoalSchema)
    def put(self, data, user_id):
        """Set a member's weekly points goal (their lead or an admin)."""
        return goals.set_goal(acting_user(), user_id, data["weekly_points"])


@blp.route("/me/goal")
class MyGoal(MethodView):
    @login_required
    @blp.response(200, GoalStatusSchema)
    def get(self):
        """This week's goal (after new-hire staging), points earned this week and what remains."""
        return goals.goal_status(acting_user())
