"""Tokens, the caller, teams and users."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import abort

from pointsapp import auth, org
from pointsapp.api.base import Blueprint, Id, Schema, acting_user, bearer_token, caller_required, login_required
from pointsapp.api.translated import Localized, Translations
from pointsapp.extensions import client_address, rate_limit
from pointsapp.http import error_response
from pointsapp.models.org import ROLES

blp = Blueprint("Organisation", __name__, description="Tokens, the caller, teams and users")


EARLIEST_HIRE_DATE = dt.date(1950, 1, 1)
HIRE_DAYS_AHEAD = 366


def plausible_hire_date(day: dt.date | None) -> None:
    """A hire date from 1950 to a year ahead: 0001-01-01 or 9999-12-31 is a typo, not a career."""
    if day is not None and not EARLIEST_HIRE_DATE <= day <= dt.date.today() + dt.timedelta(days=HIRE_DAYS_AHEAD):
        raise ma.ValidationError(_("Give a date from 1950-01-01 to a year from today."))


class UserSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.Email(required=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    team_id = Id(allow_none=True, load_default=None)
    locale = ma.fields.String(dump_only=True, allow_none=True)
    hired_on = ma.fields.Date(allow_none=True, load_default=None, validate=plausible_hire_date)
    password = ma.fields.String(load_only=True, load_default=None, validate=ma.validate.Length(max=1024))
    wecom_userid = ma.fields.String(allow_none=True, metadata={"description": "The user's id in WeCom, for WeCom messages"})
    active = ma.fields.Boolean(dump_only=True, attribute="is_active_account")
    employee_number = ma.fields.String(dump_only=True, allow_none=True)


class UserPatchSchema(Schema):
    """Only the fields sent are changed."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=120))
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    team_id = Id(allow_none=True)
    active = ma.fields.Boolean(truthy={True}, falsy={False})


class TokenRequestSchema(Schema):
    email = ma.fields.String(required=True)
    password = ma.fields.String(required=True)


class TokenSchema(Schema):
    token = ma.fields.String()
    user = ma.fields.Nested(UserSchema)


class TeamSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    name = Localized(required=True, validate=ma.validate.Length(min=1, max=120))
    parent_id = Id(allow_none=True, load_default=None)
    translations = Translations(load_default=None)


def _login_key() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    email = (body.get("email") or "") if isinstance(body, dict) else ""  # any JSON may arrive: [null], "x", 5
    return f"{client_address()}:{str(email).strip().lower()}"


@blp.route("/auth/token")
class Tokens(MethodView):
    @rate_limit(
        lambda: __import__("flask").current_app.config["LOGIN_RATE_LIMIT"],
        key_func=_login_key,
        deduct_when=lambda response: response.status_code == 401,
    )
    @rate_limit(  # and per address alone, so one address cannot try many accounts
        lambda: current_app.config["LOGIN_ADDRESS_RATE_LIMIT"],
        key_func=client_address,
        deduct_when=lambda response: response.status_code == 401,
    )
    @blp.doc(security=[])
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, data):
        """Exchange an email and password for a bearer token."""
        if not current_app.config["PASSWORD_LOGIN"]:
            return error_response(403, "password_login_disabled", "Password sign-in is switched off here; use single sign-on.")
        user = auth.authenticate(data["email"], data["password"])
        if user is None:
            return error_response(401, "invalid_credentials", _("The email or password is wrong."))
        return {"token": auth.issue_token(user=user, label="api login"), "user": user}

    @caller_required
    @blp.response(204)
    def delete(self):
        """Revoke the bearer token of this request (log the phone out)."""
        token = bearer_token()
        if token is None:
            abort(400, message=_("Send the token to revoke as 'Authorization: Bearer <token>'."))
        auth.revoke(token)


@blp.route("/me")
class Me(MethodView):
    @login_required
    @blp.response(200, UserSchema)
    def get(self):
        """The calling user."""
        return acting_user()


@blp.route("/teams")
class Teams(MethodView):
    @login_required
    @blp.arguments(TeamSchema)
    @blp.response(201, TeamSchema)
    def post(self, data):
        """Create a team (admin)."""
        return org.create_team(acting_user(), **data)


@blp.route("/users")
class Users(MethodView):
    @login_required
    @blp.arguments(UserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Create a user (admin); a lead with a team leads it and every team under it."""
        wecom_userid = data.pop("wecom_userid", None)
        user = org.create_user(acting_user(), **data)
        return org.set_wecom_userid(acting_user(), user.id, wecom_userid) if wecom_userid else user


@blp.route("/users/<int:user_id>")
class UserById(MethodView):
    @login_required
    @blp.response(200, UserSchema)
    def get(self, user_id):
        """A user: themselves, their lead or an admin may look."""
        return org.get_user(acting_user(), user_id)

    @login_required
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes, user_id):
        """Change a user's name, role, team or active flag (admin); deactivating ends their sessions and tokens."""
        return org.update_user(acting_user(), user_id, changes)


__all__ = ["blp", "UserSchema", "abort"]
