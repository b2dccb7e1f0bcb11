"""Rewards catalog and redemptions."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from pointsapp import names, redemptions, rewards
from pointsapp.api.base import (
    Blueprint,
    Money,
    PageArgsSchema,
    Schema,
    acting_user,
    idempotent,
    in_utc_range,
    list_schema,
    login_required,
    page_schema,
)
from pointsapp.api.translated import Localized, Translations
from pointsapp.models.rewards import REDEMPTION_STATUSES, REWARD_KINDS

blp = Blueprint("Rewards", __name__, description="The rewards catalog, redeeming and approvals")


class RewardSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Localized(required=True, validate=ma.validate.Length(min=1, max=120))
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(REWARD_KINDS))
    cost = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=10_000_000))
    stock = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(min=0, max=1_000_000))
    description = Localized(validate=ma.validate.Length(max=2000))
    translations = Translations()
    cash_amount = Money(maximum=10_000_000, allow_none=True)
    limit_per_year = ma.fields.Integer(strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=366))
    monthly_budget = Money(maximum=1_000_000_000, allow_none=True)
    active = ma.fields.Boolean()
    # With a UTC offset, as every time in the contract: a bare time is refused, not guessed.
    available_from = ma.fields.AwareDateTime(allow_none=True, validate=in_utc_range)
    available_until = ma.fields.AwareDateTime(allow_none=True, validate=in_utc_range)
    available = ma.fields.Function(lambda reward: rewards.is_available(reward), dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class RewardPatchSchema(RewardSchema):
    """Any subset of a reward's fields."""


class StepSchema(Schema):
    status = ma.fields.String()
    actor_id = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class RedemptionSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    reward_id = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=rewards.MAX_ID))
    quantity = ma.fields.Integer(strict=True, load_default=1, validate=ma.validate.Range(min=1, max=rewards.MAX_QUANTITY))
    status = ma.fields.String(dump_only=True, metadata={"enum": list(REDEMPTION_STATUSES)})
    points = ma.fields.Integer(dump_only=True)
    user_id = ma.fields.Integer(dump_only=True)
    reward_name = ma.fields.Function(lambda redemption: names.localized(redemption.reward), dump_only=True)
    kind = ma.fields.String(attribute="reward.kind", dump_only=True)
    cash_amount = Money(maximum=10_000_000, allow_none=True, dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    decided_at = ma.fields.DateTime(allow_none=True, dump_only=True)
    decided_by_id = ma.fields.Integer(allow_none=True, dump_only=True)
    reason = ma.fields.String(attribute="decision_reason", allow_none=True, dump_only=True)
    starts_on = ma.fields.Date(allow_none=True, metadata={"description": "Leave and remote days: the first day asked for"})
    ends_on = ma.fields.Date(
        allow_none=True, metadata={"description": "The last day (defaults to the first); the days are the quantity"}
    )


class RedemptionDetailSchema(RedemptionSchema):
    steps = ma.fields.List(ma.fields.Nested(StepSchema), dump_only=True)


class DecisionSchema(Schema):
    id = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": list(REDEMPTION_STATUSES)})
    reward_id = ma.fields.Integer()
    points = ma.fields.Integer()
    reason = ma.fields.String(attribute="decision_reason", allow_none=True)
    decided_at = ma.fields.DateTime(allow_none=True)


class RejectArgsSchema(Schema):
    reason = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))

    @ma.pre_load
    def _null_is_empty(self, data, **kwargs):
        # Actions accept an empty body; a JSON null is as empty as it gets.
        return {} if data is None else data


@blp.route("/rewards")
class Rewards(MethodView):
    @login_required
    @blp.response(200, list_schema(RewardSchema, "RewardListSchema"))
    def get(self):
        """The rewards catalog (stock null means unlimited)."""
        return {"items": rewards.list_rewards()}

    @login_required
    @idempotent
    @blp.arguments(RewardSchema)
    @blp.response(201, RewardSchema)
    def post(self, data):
        """Add a reward to the catalog (admins)."""
        return rewards.create_reward(acting_user(), data)


@blp.route("/rewards/<int:reward_id>")
class RewardItem(MethodView):
    @login_required
    @blp.response(200, RewardSchema)
    def get(self, reward_id):
        """One reward."""
        return rewards.get_reward(reward_id)

    @login_required
    @blp.arguments(RewardPatchSchema(partial=True))
    @blp.response(200, RewardSchema)
    def patch(self, data, reward_id):
        """Change a reward, e.g. its stock, or switch it off with active: false (admins)."""
        return rewards.update_reward(acting_user(), reward_id, data)


@blp.route("/redemptions")
class Redemptions(MethodView):
    @login_required
    @blp.response(200, list_schema(RedemptionSchema, "ApprovalQueueSchema"))
    def get(self):
        """The pending redemptions I may decide, oldest first (leads and admins)."""
        return {"items": redemptions.approval_queue(acting_user())}

    @login_required
    @idempotent
    @blp.arguments(RedemptionSchema)
    @blp.response(201, RedemptionSchema)
    def post(self, data):
        """Redeem a reward: the points are held at once and the redemption is pending."""
        return rewards.redeem(
            acting_user(), data["reward_id"], data["quantity"], starts_on=data.get("starts_on"), ends_on=data.get("ends_on")
        )


@blp.route("/me/redemptions")
class MyRedemptions(MethodView):
    @login_required
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, page_schema(RedemptionSchema, "RedemptionPageSchema"))
    def get(self, args):
        """My redemptions, newest first."""
        items, next_cursor = redemptions.my_redemptions(acting_user(), limit=args["limit"], cursor=args["cursor"])
        return {"items": items, "next_cursor": next_cursor}


@blp.route("/redemptions/<int:redemption_id>")
class RedemptionItem(MethodView):
    @login_required
    @blp.response(200, RedemptionDetailSchema)
    def get(self, redemption_id):
        """One redemption with its timeline (owner, their lead, admins)."""
        redemption = redemptions.get_redemption(acting_user(), redemption_id)
        redemption.steps = redemptions.timelines([redemption.id])[redemption.id]
        return redemption


@blp.route("/redemptions/<int:redemption_id>/approve")
class Approve(MethodView):
    @login_required
    @idempotent
    @blp.response(200, DecisionSchema)
    def post(self, redemption_id):
        """Approve a pending redemption; the held points are spent."""
        return redemptions.approve(acting_user(), redemption_id)


@blp.route("/redemptions/<int:redemption_id>/reject")
class Reject(MethodView):
    @login_required
    @idempotent
    @blp.arguments(RejectArgsSchema)
    @blp.response(200, DecisionSchema)
    def post(self, data, redemption_id):
        """Reject a pending redemption, with a reason; points and stock go back."""
        return redemptions.reject(acting_user(), redemption_id, data.get("reason"))


@blp.route("/redemptions/<int:redemption_id>/cancel")
class Cancel(MethodView):
    @login_required
    @idempotent
    @blp.response(200, DecisionSchema)
    def post(self, redemption_id):
        """Cancel my pending redemption; points and stock go back."""
        return redemptions.cancel(acting_user(), redemption_id)
