"""Earning resources: the points rules, business events, reversals, mentorships."""

from __future__ import annotations

import functools

import marshmallow as ma
from flask import jsonify
from flask.views import MethodView
from flask_babel import gettext as _

from pointsapp import earning, mentoring, policy, rules
from pointsapp.api.base import MAX_ID, Blueprint, Id, Schema, acting_user, caller_required, idempotent, login_required, principal
from pointsapp.api.translated import Localized, Translations
from pointsapp.models.ledger import ENTRY_KINDS
from pointsapp.periods import PERIODS

blp = Blueprint("Earning", __name__, description="Points rules, business events, reversals and mentorships")


class FullMatch(ma.validate.Regexp):
    """A regular expression the whole value must match: "$" alone lets a final newline through.

    Still a ``Regexp``, so the API document shows its pattern.
    """

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class RuleSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    event_type = ma.fields.String(
        required=True,
        validate=FullMatch(rules.EVENT_TYPE_RE, error="Use lower-case letters, digits and _ . : - (at most 64 characters)."),
    )
    name = Localized(required=True, validate=ma.validate.Length(min=1, max=120))
    translations = Translations(load_default=None)
    points = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=-rules.MAX_POINTS, max=rules.MAX_POINTS)
    )
    active = ma.fields.Boolean(load_default=True)
    kind = ma.fields.String(load_default="event", validate=ma.validate.OneOf(("event", "period")))
    period = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(PERIODS))
    requires_event_type = ma.fields.String(load_default=None, allow_none=True)
    forbids_event_type = ma.fields.String(load_default=None, allow_none=True)
    version = ma.fields.Integer(dump_only=True)
    valid_from = ma.fields.DateTime(dump_only=True, allow_none=True)
    valid_to = ma.fields.DateTime(dump_only=True, allow_none=True)


class RuleListSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(RuleSchema))


class RuleQueryArgsSchema(Schema):
    # Documented as the words it reads: "?all=" (empty) means no, as browsers send an unticked box.
    all = ma.fields.Boolean(
        load_default=False,
        truthy={"1", "true", "yes", "True"},
        falsy={"0", "false", "no", "False", ""},
        metadata={"type": "string", "default": "0", "enum": ["1", "true", "yes", "True", "0", "false", "no", "False", ""]},
    )


class EventsRequestSchema(Schema):
    """One event (its fields at the top level) or ``{"events": [...]}`` with up to 1,000."""

    class Meta:
        unknown = ma.INCLUDE

    TEXT_CHECKED_ELSEWHERE = frozenset({"events"})  # each event alone, so one bad item is reported alone

    events = ma.fields.List(ma.fields.Raw(), validate=ma.validate.Length(min=1, max=earning.MAX_BATCH))
    external_id = ma.fields.Raw(metadata={"description": "Your id for the event, unique per integration"})
    type = ma.fields.Raw(metadata={"description": "Event type, e.g. loan_signed"})
    user_id = ma.fields.Raw()
    occurred_at = ma.fields.Raw(
        metadata={"description": "ISO 8601 with a UTC offset; not before 2000-01-01 nor more than 24 hours ahead"}
    )
    participants = ma.fields.Raw(metadata={"description": "User ids sharing the points"})
    quantity = ma.fields.Raw(metadata={"description": "Multiplies the points; at least 1"})
    related_external_id = ma.fields.Raw(
        metadata={"description": "external_id of an earlier event from the same source; a clawback type (bad_loan) reverses it"}
    )


# The body is one event or a batch; marshmallow cannot say "one of", so the document is written here.
_ID_DOC = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
EVENT_DOC = {
    "type": "object",
    "required": ["external_id", "type", "user_id", "occurred_at"],
    "properties": {
        "external_id": {
            "description": "Your id for the event, unique per integration (a number is read as its digits)",
            "anyOf": [{"type": "string", "minLength": 1, "maxLength": 255}, {"type": "integer"}],
        },
        "type": {"type": "string", "pattern": rules.EVENT_TYPE_RE.pattern, "description": "Event type, e.g. loan_signed"},
        "user_id": _ID_DOC,
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 with a UTC offset; not before 2000-01-01 nor more than 24 hours ahead",
        },
        "participants": {
            "type": "array",
            "maxItems": earning.MAX_PARTICIPANTS,
            "items": _ID_DOC,
            "description": "User ids sharing the points",
        },
        "quantity": {"type": "integer", "minimum": 1, "maximum": earning.MAX_QUANTITY, "description": "Multiplies the points"},
        "related_external_id": {
            "type": "string",
            "maxLength": 255,
            "nullable": True,
            "description": "The external_id of an earlier event from the same source (a clawback reverses it); blank means none",
        },
    },
}
EVENTS_REQUEST_DOC = {
    "description": "One event, or {events: [...]} with up to 1,000; each item of a batch is checked alone and reported.",
    "anyOf": [
        EVENT_DOC,
        {
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "minItems": 1, "maxItems": earning.MAX_BATCH, "items": {}}},
        },
    ],
}


class EventAwardSchema(Schema):
    user_id = ma.fields.Integer()
    points = ma.fields.Integer()
    kind = ma.fields.String(metadata={"enum": list(ENTRY_KINDS)})
    entry_id = ma.fields.Integer()


class EventResultSchema(Schema):
    index = ma.fields.Integer()
    external_id = ma.fields.String(allow_none=True)
    id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(metadata={"enum": ["created", "duplicate", "conflict", "invalid"]})
    awards = ma.fields.List(ma.fields.Nested(EventAwardSchema))
    error = ma.fields.Dict()


class EventResultsSchema(Schema):
    items = ma.fields.List(ma.fields.Nested(EventResultSchema))
    summary = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


def result_item(result: earning.EventResult) -> dict:
    """One item of the answer as ``EventResultSchema`` would dump it.

    Built here rather than dumped: a batch answers a thousand items, and the
    schema's dump cost as much CPU as validating them. The schema still documents
    the answer, and a test holds the two to the same output.
    """
    body = result.as_dict()
    body["awards"] = [
        {"user_id": a["user_id"], "points": a["points"], "kind": a["kind"], "entry_id": a["entry_id"]} for a in body["awards"]
    ]
    return body


class ReverseSchema(Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=400))


class ReversalSchema(Schema):
    id = ma.fields.Integer()
    reversed = ma.fields.Boolean()
    reversals = ma.fields.List(ma.fields.Nested(EventAwardSchema))


class MentorshipSchema(Schema):
    id = ma.fields.Integer(dump_only=True)
    mentor_id = Id(required=True)
    mentee_id = Id(required=True)
    started_at = ma.fields.DateTime(dump_only=True)
    ended_at = ma.fields.DateTime(dump_only=True, allow_none=True)


def event_poster_required(view):
    """Admins and integration tokens only, checked before the body is parsed."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        policy.require(policy.can_post_events(principal()), _("Only administrators and integrations may post events."))
        return view(*args, **kwargs)

    return wrapper


@blp.route("/rules")
class Rules(MethodView):
    @login_required
    @blp.arguments(RuleQueryArgsSchema, location="query")
    @blp.response(200, RuleListSchema)
    def get(self, args):
        """List the published points rules (every version with ?all=1)."""
        return {"items": rules.list_rules(include_history=args["all"])}

    @login_required
    @idempotent
    @blp.arguments(RuleSchema)
    @blp.response(201, RuleSchema)
    def post(self, data):
        """Publish a points rule; it replaces the type's current rule from now on."""
        return rules.publish_rule(acting_user(), **data)


@blp.route("/events")
class Events(MethodView):
    @caller_required
    @event_poster_required
    @idempotent
    @blp.arguments(EventsRequestSchema)
    @blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": EVENTS_REQUEST_DOC}}})
    @blp.response(201, EventResultsSchema)
    @blp.alt_response(200, schema=EventResultsSchema, description="Every event was already known")
    def post(self, data):
        """Post one business event, or a batch of up to 1,000; each is applied once."""
        caller = principal()
        batch = "events" in data
        results = earning.ingest_events(
            data["events"] if batch else [data],
            source=earning.source_for(caller),
            actor_id=caller.user.id if caller.user else None,
            offset_required=True,
        )
        if not batch and results[0].status in ("invalid", "conflict"):
            raise results[0].error
        summary = {s: sum(r.status == s for r in results) for s in ("created", "duplicate", "conflict", "invalid")}
        status = 201 if summary["created"] else 200
        return jsonify({"items": [result_item(r) for r in results], "summary": summary}), status


@blp.route("/events/<int:event_id>/reverse")
class ReverseEvent(MethodView):
    @login_required
    @idempotent
    @blp.arguments(ReverseSchema)
    @blp.response(200, ReversalSchema)
    def post(self, data, event_id):
        """Reverse every award an event produced (admins), with a reason."""
        event, entries = earning.reverse_event(acting_user(), event_id, data["reason"])
        return {"id": event.id, "reversed": True, "reversals": earning.award_dicts(entries)}


@blp.route("/mentorships")
class Mentorships(MethodView):
    @login_required
    @idempotent
    @blp.arguments(MentorshipSchema)
    @blp.response(201, MentorshipSchema)
    def post(self, data):
        """Pair a mentor with a mentee (a lead for their teams, or an admin)."""
        return mentoring.create_mentorship(acting_user(), data["mentor_id"], data["mentee_id"])
