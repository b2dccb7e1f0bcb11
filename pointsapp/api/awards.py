"""Manual awards and deductions."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_babel import gettext as _

from pointsapp import awards
from pointsapp.api.base import Blueprint, Id, Schema, acting_user, idempotent, login_required

blp = Blueprint("Awards", __name__, description="Manual awards and deductions by leads and admins")


class AwardSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    user_id = Id(required=True)
    points = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(min=-100_000, max=100_000))
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    kind = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)

    @ma.validates("points")
    def _not_zero(self, value, **kwargs):
        if value == 0:
            raise ma.ValidationError(_("Must not be zero."))

    @ma.validates("reason")
    def _not_blank(self, value, **kwargs):
        if not value.strip():
            raise ma.ValidationError(_("A reason is required."))


@blp.route("/awards")
class Awards(MethodView):
    @login_required
    @idempotent
    @blp.arguments(AwardSchema)
    @blp.response(201, AwardSchema)
    def post(self, data):
        """Award (or, with negative points, deduct) points to a member, with a reason."""
        return awards.award(acting_user(), data["user_id"], data["points"], data["reason"])
