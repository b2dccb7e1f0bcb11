"""Team challenges: launch, progress, close."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from pointsapp import challenges
from pointsapp.api.base import Blueprint, Id, Schema, acting_user, idempotent, in_utc_range, list_schema, login_required
from pointsapp.api.translated import Localized, Translations
from pointsapp.models.teams import CHALLENGE_STATUSES

blp = Blueprint("Challenges", __name__, description="Team challenges with a point pool shared by contribution")


class ContributionSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    value = ma.fields.Integer()


class PayoutSchema(Schema):
    user_id = ma.fields.Integer()
    name = ma.fields.String()
    points = ma.fields.Integer()


class ChallengeSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    team_id = Id(required=True)
    title = Localized(required=True, validate=ma.validate.Length(max=160))
    translations = Translations('The title in other languages, e.g. {"zh": {"title": "优质贷款冲刺"}}', load_default=None)
    event_type = ma.fields.String(required=True, validate=ma.validate.Length(max=64))
    target = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=challenges.MAX_TARGET))
    pool = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=challenges.MAX_POOL))
    # Times carry their UTC offset (the contract): a bare "2026-11-20T09:00" is refused, not guessed.
    starts_at = ma.fields.AwareDateTime(
        required=True,
        validate=in_utc_range,
        metadata={"description": "With a UTC offset; within 366 days before or after now"},
    )
    ends_at = ma.fields.AwareDateTime(
        required=True,
        validate=in_utc_range,
        metadata={"description": "With a UTC offset; after starts_at and at most 366 days after it"},
    )
    status = ma.fields.String(dump_only=True, metadata={"enum": list(CHALLENGE_STATUSES)})
    progress = ma.fields.Integer(dump_only=True)
    team_name = ma.fields.String(dump_only=True)
    closed_at = ma.fields.AwareDateTime(dump_only=True, allow_none=True)
    restated_at = ma.fields.AwareDateTime(
        dump_only=True, allow_none=True, metadata={"description": "When a correction after the close last restated it"}
    )
    contributions = ma.fields.List(ma.fields.Nested(ContributionSchema), dump_only=True)
    payouts = ma.fields.List(ma.fields.Nested(PayoutSchema), dump_only=True)


ChallengeListSchema = list_schema(ChallengeSchema, "ChallengeListSchema")


@blp.route("/challenges")
class Challenges(MethodView):
    @login_required
    @blp.response(200, ChallengeListSchema)
    def get(self):
        """Challenges of my teams and the teams I lead: running first, then recent ones."""
        return {"items": challenges.visible_challenges(acting_user())}

    @login_required
    @idempotent
    @blp.arguments(ChallengeSchema)
    @blp.response(201, ChallengeSchema)
    def post(self, data):
        """Launch a team challenge (the team's lead or an admin)."""
        created = challenges.launch(acting_user(), **data)
        return challenges.view(created)


@blp.route("/challenges/<int:challenge_id>")
class ChallengeById(MethodView):
    @login_required
    @blp.response(200, ChallengeSchema)
    def get(self, challenge_id):
        """A challenge's progress, each member's contribution and, once closed, the payouts."""
        return challenges.get_challenge(acting_user(), challenge_id)


@blp.route("/challenges/<int:challenge_id>/close")
class CloseChallenge(MethodView):
    @login_required
    @idempotent
    @blp.response(200, ChallengeSchema)
    def post(self, challenge_id):
        """Close a challenge and pay the pool out on success; closing again returns the same result."""
        return challenges.close(acting_user(), challenge_id)
