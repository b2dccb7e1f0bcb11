"""The published points table: versioned per-event rules and period rules.

Versioning: the first version of a rule has ``valid_from`` NULL (in force since
the beginning, so back-dated events earn under it). Publishing a rule for an
event type that already has one closes the old version (``valid_to = now``,
``active = False``) and starts the new one at ``valid_from = now``; past awards
keep their ``rule_id``. An event earns under the version in force at its
``occurred_at``. A partial unique index allows one active version per
(kind, event_type), so two admins racing to publish cannot both win.
"""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, names, policy
from pointsapp.default_rules import DEFAULT_EVENT_RULES, DEFAULT_PERIOD_RULES, DEFAULT_RULE_NAMES_ZH
from pointsapp.errors import Conflict, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Rule, User
from pointsapp.periods import PERIODS, utcnow

# Also the JSON Schema "pattern" in the API document, where "$" is the end of the text. In Python "$"
# also matches before a final newline: check a value with ``is_event_type`` (a full match), never .match.
EVENT_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
MENTORSHIP_BONUS_TYPE = "mentorship.first_deal"
COMPLIANCE_BREACH_TYPE = "compliance_breach"
MAX_POINTS = 100_000


def is_event_type(value) -> bool:
    """Whether ``value`` is a well-formed event type, all of it ("loan_signed\\n" is not)."""
    return isinstance(value, str) and EVENT_TYPE_RE.fullmatch(value) is not None


def list_rules(*, include_history: bool = False, kind: str | None = None) -> list[Rule]:
    """Active rules (or every version), ordered by kind, type and version."""
    stmt = sa.select(Rule)
    if not include_history:
        stmt = stmt.where(Rule.active.is_(True))
    if kind:
        stmt = stmt.where(Rule.kind == kind)
    return list(db.session.scalars(stmt.order_by(Rule.kind, Rule.event_type, Rule.version)))


def _validate(event_type: str, name: str, points: int, period: str | None, kind: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not is_event_type(event_type):
        errors["event_type"] = [_("Use lower-case letters, digits and _ . : - (at most 64 characters).")]
    if not (name or "").strip():
        errors["name"] = [_("Give the rule a name people will recognise, e.g. 'Loan signed'.")]
    if not isinstance(points, int) or isinstance(points, bool) or points == 0 or abs(points) > MAX_POINTS:
        errors["points"] = [
            _("A whole number other than zero, between -%(MAX_POINTS)s and %(MAX_POINTS)s.", MAX_POINTS=MAX_POINTS)
        ]
    if kind == "period" and period not in PERIODS:
        errors["period"] = [_("One of: %(value)s.", value=", ".join(PERIODS))]
    return errors


def latest_version_ids(all_rules: list[Rule]) -> set[int]:
    """The newest version of each rule: the one an admin may switch on or off."""
    latest: dict[tuple[str, str], Rule] = {}
    for rule in all_rules:
        key = (rule.kind, rule.event_type)
        if key not in latest or rule.version > latest[key].version:
            latest[key] = rule
    return {rule.id for rule in latest.values()}


def publish_rule(
    actor: User | None,
    *,
    event_type: str,
    name: str,
    points: int,
    kind: str = "event",
    period: str | None = None,
    requires_event_type: str | None = None,
    forbids_event_type: str | None = None,
    active: bool = True,
    translations: dict | None = None,
) -> Rule:
    """Publish a rule; one for a type that already has one replaces it from now on."""
    if actor is not None:
        policy.require(policy.can_edit_rules(actor), _("Only administrators can change the points rules."))
    event_type = (event_type or "").strip()
    errors = _validate(event_type, name, points, period, kind)
    translations = names.clean_translations(translations) if translations is not None else None
    if kind == "period" and not requires_event_type:
        errors["requires_event_type"] = [_("A period bonus needs the event type that qualifies for it, e.g. loan_signed.")]
    if errors:
        raise ValidationFailed(_("Some fields of the rule are not valid."), fields=errors)
    now = utcnow()
    previous = db.session.scalar(
        sa.select(Rule).where(Rule.kind == kind, Rule.event_type == event_type).order_by(Rule.version.desc()).limit(1)
    )
    current = previous if previous is not None and previous.active else None
    if current is not None:
        closed = db.session.execute(
            sa.update(Rule).where(Rule.id == current.id, Rule.active.is_(True)).values(active=False, valid_to=now)
        ).rowcount
        if closed != 1:
            raise Conflict(_("This rule was changed at the same moment by someone else; reload and try again."))
    rule = Rule(
        kind=kind,
        event_type=event_type,
        name=name.strip()[:120],
        # A new version keeps the previous names in other languages unless new ones are given.
        translations=translations if translations is not None else dict(previous.translations or {}) if previous else {},
        points=points,
        version=(previous.version + 1) if previous is not None else 1,
        active=active,
        valid_from=None if previous is None else now,
        valid_to=None if active else now,
        period=period if kind == "period" else None,
        requires_event_type=requires_event_type if kind == "period" else None,
        forbids_event_type=forbids_event_type if kind == "period" else None,
        created_by_id=actor.id if actor is not None else None,
        created_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(rule)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Conflict(_("This rule was changed at the same moment by someone else; reload and try again.")) from None
    if current is not None:
        db.session.expire(current)
    audit.record(
        actor,
        "rule.created",
        "rule",
        rule.id,
        {
            "kind": kind,
            "event_type": event_type,
            "name": rule.name,
            "points": points,
            "version": rule.version,
            "active": active,
            "replaces_rule_id": current.id if current is not None else None,
        },
    )
    return rule


def set_rule_active(actor: User, rule_id: int, active: bool) -> Rule:
    """Switch a rule off (events from now on earn nothing) or back on (a new version from now)."""
    policy.require(policy.can_edit_rules(actor), _("Only administrators can change the points rules."))
    rule = db.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(_("There is no such rule."))
    if active == rule.active:
        return rule
    if not active:
        db.session.execute(
            sa.update(Rule).where(Rule.id == rule.id, Rule.active.is_(True)).values(active=False, valid_to=utcnow())
        )
        db.session.refresh(rule)
        audit.record(actor, "rule.deactivated", "rule", rule.id, {"event_type": rule.event_type, "kind": rule.kind})
        return rule
    return publish_rule(
        actor,
        event_type=rule.event_type,
        name=rule.name,
        points=rule.points,
        kind=rule.kind,
        period=rule.period,
        requires_event_type=rule.requires_event_type,
        forbids_event_type=rule.forbids_event_type,
    )


def rules_in_force(event_types: set[str]) -> dict[str, list[Rule]]:
    """Every version of the per-event rules of these types, for ``rule_at`` lookups."""
    if not event_types:
        return {}
    found: dict[str, list[Rule]] = {t: [] for t in event_types}
    for rule in db.session.scalars(sa.select(Rule).where(Rule.kind == "event", Rule.event_type.in_(event_types))):
        found[rule.event_type].append(rule)
    return found


def rule_at(versions: list[Rule], moment: dt.datetime) -> Rule | None:
    """The version in force at ``moment``: valid_from ≤ moment < valid_to (NULL = open)."""
    for rule in versions:
        starts_ok = rule.valid_from is None or rule.valid_from <= moment
        ends_ok = rule.valid_to is None or moment < rule.valid_to
        if starts_ok and ends_ok:
            return rule
    return None


def seed_default_rules() -> list[Rule]:
    """Insert the default points scheme for every type that has no rule yet (idempotent)."""
    existing = set(db.session.execute(sa.select(Rule.kind, Rule.event_type)).all())
    created = []
    for event_type, name, points in DEFAULT_EVENT_RULES:
        if ("event", event_type) not in existing:
            zh = {"zh": {"name": DEFAULT_RULE_NAMES_ZH[("event", event_type)]}}
            created.append(publish_rule(None, event_type=event_type, name=name, points=points, translations=zh))
    for spec in DEFAULT_PERIOD_RULES:
        if ("period", spec["event_type"]) not in existing:
            zh = {"zh": {"name": DEFAULT_RULE_NAMES_ZH[("period", spec["event_type"])]}}
            created.append(publish_rule(None, kind="period", translations=zh, **spec))
    return created
