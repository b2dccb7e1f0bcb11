"""Earning: business events from CRM and risk systems turned into points exactly once.

Design overview
---------------
* **Identity.** An event is identified by ``(source, external_id)``: the source
  is ``integration:<id>`` for an integration token and ``admin`` for admins (the
  API, the CSV import page and ``flask import-events`` all use ``admin``, so a
  file imported twice, or posted once and imported once, changes nothing).
  ``payload_hash`` is a SHA-256 over the canonical payload (type, user,
  occurred_at in UTC, quantity, participants): the same identity with another
  payload is a *conflict*, the same payload a *duplicate* that awards nothing.
* **Exactly once under races.** Each event is inserted inside a savepoint; the
  unique constraint decides. A loser's savepoint rolls back and it re-reads the
  stored event to answer duplicate or conflict. On PostgreSQL the loser's insert
  waits for the winner's commit; on SQLite write transactions are serialised
  (``BEGIN IMMEDIATE``). Wallets are locked in user-id order before a batch
  writes, so overlapping batches cannot deadlock on them.
* **Points.** An event earns under the rule version in force at its
  ``occurred_at`` (see ``rules``): ``points × quantity``. With participants the
  points are split among owner and participants as equally as integers allow;
  the remainder goes one point each to the first recipients in the order
  *owner, then participants in the order given*, so the shares always sum to
  exactly the rule's points. Negative rules (a compliance breach) are never
  shared. Events of a type without a rule are stored and award nothing.
* **Traceability.** Every award entry carries ``event_id``, ``rule_id`` (the
  version) and ``effective_at = occurred_at``; its reason starts with the
  rule's name. Reversal adds linked reversing entries for every award the event
  produced (shares and mentorship bonus included) and reaches what it caused
  further (closed challenges, period bonuses: see ``corrections``); balances may
  go below zero.
* **Related events.** ``related_external_id`` names an earlier event of the same
  source (it is part of the payload hash only when given); an unknown one makes
  the item ``invalid``. A clawback type (``bad_loan``) reverses the related
  event's whole cascade in the clawback's own savepoint.
* **Mentorship bonus.** Only the mentee's first event of a deal type
  (``MENTORSHIP_DEAL_TYPES``) pays it; a revisit or a renewal never does.
* **Batches.** A batch is stored with one insert for its new events, one for
  their entries, one wallet update per user and one rollup upsert (see
  ``ledger.post_many``), inside the request's transaction; the unique identity
  still decides what is new. Items naming a related event follow one by one,
  each in its savepoint, once the rest of the batch is stored.
* **Badges.** ``badges.check_events`` runs once per batch in the same
  transaction, after the batch's events and awards are stored (not for
  duplicates). ``vetoed_user_ids(period, key)`` answers compliance vetoes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections import defaultdict
from json.encoder import encode_basestring_ascii as _json_string

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.dialects import sqlite

from pointsapp import audit, badges, bulk, corrections, ledger, mentoring, notify, policy, text, vetoes
from pointsapp.errors import Conflict, DomainError, InvalidTransition, NotFound, ValidationFailed, field_messages
from pointsapp.extensions import db
from pointsapp.http import translated
from pointsapp.models import Event, LedgerEntry, Rule, User, Wallet
from pointsapp.periods import as_utc, org_timezone, utcnow
from pointsapp.rules import COMPLIANCE_BREACH_TYPE, MENTORSHIP_BONUS_TYPE, is_event_type, rule_at, rules_in_force

MAX_BATCH = 1000
MAX_PARTICIPANTS = 50
MAX_QUANTITY = 10_000
FUTURE_TOLERANCE_HOURS = 24
# No business event of this bank predates it; an earlier date is a typo (0999 for 2099, a
# default 0001-01-01), and accepting it would pay points into a period that never closes.
EARLIEST_OCCURRED_AT = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns; a larger one cannot exist
DEFAULT_MENTORSHIP_DEAL_TYPES = ("loan_signed", "hnw_client_signed", "wealth_product_sold")


def vetoed_user_ids(period: str, period_key: str) -> set[int]:
    """Users vetoed for (any part of) the period."""
    return vetoes.vetoed_user_ids(period, period_key)


def source_for(principal) -> str:
    """The identity namespace of a caller: ``integration:<id>`` or ``admin``."""
    return f"integration:{principal.integration.id}" if principal.integration is not None else "admin"


# --- parsing -------------------------------------------------------------------


class WholeNumber(ma.fields.Integer):
    """An integer: a JSON number without a fraction, or a CSV cell of digits (never 1.5 read as 1)."""

    def _validated(self, value):
        if isinstance(value, float):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


def _json_integer(**kwargs) -> ma.fields.Integer:
    """A JSON number without a fraction: "12" is text, not a number, as the contract's integers say."""
    return ma.fields.Integer(strict=True, **kwargs)


class EventInputSchema(ma.Schema):
    """One event as posted (JSON); ``CsvEventInputSchema`` reads a CSV row."""

    class Meta:
        unknown = ma.EXCLUDE

    external_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    type = ma.fields.String(required=True)
    user_id = _json_integer(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    occurred_at = ma.fields.DateTime(required=True)
    participants = ma.fields.List(
        _json_integer(validate=ma.validate.Range(min=1, max=MAX_ID)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_PARTICIPANTS),
    )
    quantity = _json_integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_QUANTITY))
    related_external_id = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(min=1, max=255))

    @ma.validates("external_id")
    def _external_id(self, value, **kwargs):
        if value != value.strip():  # stored stripped, "rv-1\n" would silently become another id than the one sent
            raise ma.ValidationError(_("Must not begin or end with spaces or line breaks."))

    @ma.validates("related_external_id")
    def _related_external_id(self, value, **kwargs):
        if value is not None and value.strip() and value != value.strip():
            raise ma.ValidationError(_("Must not begin or end with spaces or line breaks."))

    @ma.validates("type")
    def _type(self, value, **kwargs):
        if not is_event_type(value):
            raise ma.ValidationError(_("Use lower-case letters, digits and _ . : - (at most 64 characters)."))
        if value == MENTORSHIP_BONUS_TYPE:
            raise ma.ValidationError(_("Mentorship bonuses are paid automatically; this type cannot be posted."))

    @ma.pre_load
    def _normalise(self, data, **kwargs):
        text.refuse_unstorable(data)
        # CSV cells are strings: an empty quantity or participants cell means "not given".
        blank_means_none = ("quantity", "participants", "related_external_id")
        data = {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip() and k in blank_means_none)}
        for key in ("external_id", "related_external_id"):
            if isinstance(data.get(key), int) and not isinstance(data[key], bool):
                data[key] = str(data[key])  # many CRMs number their records
        return data


class CsvEventInputSchema(EventInputSchema):
    """One row of an events file: every cell is text, so a number may be given as its digits."""

    user_id = WholeNumber(required=True, validate=ma.validate.Range(min=1, max=MAX_ID))
    participants = ma.fields.List(
        WholeNumber(validate=ma.validate.Range(min=1, max=MAX_ID)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_PARTICIPANTS),
    )
    quantity = WholeNumber(load_default=1, validate=ma.validate.Range(min=1, max=MAX_QUANTITY))


# Schemas are reusable; building one per event costs more than loading.
_EVENT_SCHEMA = EventInputSchema()
_CSV_EVENT_SCHEMA = CsvEventInputSchema()
_MISSING = object()
_EVENT_FIELDS = frozenset(_EVENT_SCHEMA.fields)


def load_plain_event(raw: dict) -> dict | None:
    """What ``EventInputSchema`` loads from a well-formed JSON event, without marshmallow; else None.

    A batch is a thousand events and the schema costs most of the CPU of a
    plain one. Anything out of the ordinary (a missing, null or mistyped field,
    a value out of range, text that cannot be stored, nested data) returns
    None, and the schema loads the item and names what is wrong. It never
    answers differently from the schema, only not at all (the tests compare them).
    """
    texts = []
    for key, value in raw.items():
        if type(key) is not str:
            return None
        texts.append(key)
        if type(value) is str:
            texts.append(value)
        elif key not in _EVENT_FIELDS and not (value is None or type(value) in (int, float, bool)):
            return None  # nested data the schema would search for unstorable text
    if not text.storable("".join(texts)):  # one search: each NUL or surrogate matches alone
        return None
    external_id = _plain_id(raw.get("external_id", _MISSING))
    kind = raw.get("type")
    user_id = raw.get("user_id")
    occurred_at = raw.get("occurred_at")
    participants = raw.get("participants", _MISSING)
    quantity = raw.get("quantity", 1)
    related = raw.get("related_external_id")
    if related is not None and not (type(related) is str and not related.strip()):  # blank means none
        related = _plain_id(related)
        if related is None:
            return None
    else:
        related = None
    if (
        external_id is None
        or not is_event_type(kind)
        or kind == MENTORSHIP_BONUS_TYPE
        or not _plain_int(user_id, MAX_ID)
        or type(occurred_at) is not str
        or not _plain_int(quantity, MAX_QUANTITY)
    ):
        return None
    if participants is _MISSING:
        participants = []
    elif type(participants) is not list or len(participants) > MAX_PARTICIPANTS:
        return None
    elif not all(_plain_int(p, MAX_ID) for p in participants):
        return None
    try:
        moment = dt.datetime.fromisoformat(occurred_at)
    except ValueError:
        return None
    return {
        "external_id": external_id,
        "type": kind,
        "user_id": user_id,
        "occurred_at": moment,
        "participants": list(participants),
        "quantity": quantity,
        "related_external_id": related,
    }


def _plain_id(value) -> str | None:
    """An external id as the schema reads it (a number as its digits): 1 to 255 characters, no edge whitespace; else None."""
    if type(value) is int:
        value = str(value)
    return value if type(value) is str and 1 <= len(value) <= 255 and value == value.strip() else None


def _plain_int(value, maximum: int) -> bool:
    return type(value) is int and 1 <= value <= maximum


@dataclasses.dataclass
class EventInput:
    external_id: str
    type: str
    user_id: int
    occurred_at: object
    quantity: int
    participants: list[int]
    related_external_id: str | None = None

    def canonical(self) -> dict:
        payload = {
            "type": self.type,
            "user_id": self.user_id,
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "quantity": self.quantity,
            "participants": self.participants,
        }
        if self.related_external_id is not None:  # absent from older payloads: their hashes stay
            payload["related_external_id"] = self.related_external_id
        return payload

    @functools.cached_property
    def payload_hash(self) -> str:
        return payload_digest(
            self.type,
            self.user_id,
            self.occurred_at.isoformat(timespec="microseconds"),
            self.quantity,
            self.participants,
            self.related_external_id,
        )


def payload_digest(
    kind: str, user_id: int, occurred_iso: str, quantity: int, participants: list[int], related_external_id: str | None = None
) -> str:
    """SHA-256 of an event's canonical payload: ``canonical()`` as ``json.dumps(sort_keys=True, separators=(",", ":"))`` writes it.

    Written out directly, keys in sorted order, strings escaped by the json
    module's own encoder: a batch hashes a thousand payloads, and the general
    encoder cost more than the digest. The tests hold the two to the same text.
    """
    related = "" if related_external_id is None else f',"related_external_id":{_json_string(related_external_id)}'
    canonical = (
        f'{{"occurred_at":{_json_string(occurred_iso)},"participants":[{",".join(map(str, participants))}],'
        f'"quantity":{quantity}{related},"type":{_json_string(kind)},"user_id":{user_id}}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_event(raw, *, offset_required: bool = False, csv: bool = False) -> EventInput:
    """Validate one raw event; ValidationFailed names each bad field.

    An ``occurred_at`` without a UTC offset is refused with ``offset_required``
    (the JSON API, whose contract says every time carries one: guessing the zone
    would pay a late-evening deal into the wrong day or month), else read in the
    organisation's time zone (CSV exports often omit it). ``csv`` reads a row of
    text cells, where numbers come as digits. A moment before
    ``EARLIEST_OCCURRED_AT`` or more than a day ahead is refused.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed(_("Each event must be a JSON object."), fields={"_schema": [_("Not an object.")]})
    data = None if csv else load_plain_event(raw)
    if data is None:
        data = _load(_CSV_EVENT_SCHEMA if csv else _EVENT_SCHEMA, raw)
    moment = data["occurred_at"]
    try:
        if moment.tzinfo is None:
            if offset_required:
                raise ValidationFailed(
                    _("occurred_at needs a UTC offset, e.g. 2026-11-29T10:00:00+08:00."),
                    fields={"occurred_at": [_("Give a UTC offset (+08:00, Z, …).")]},
                )
            moment = moment.replace(tzinfo=org_timezone())
        moment = as_utc(moment)
    except OverflowError:  # e.g. 0001-01-01T00:00+14:00 is before the year 1 in UTC
        raise ValidationFailed(_("occurred_at is out of range."), fields={"occurred_at": [_("Out of range.")]}) from None
    if moment < EARLIEST_OCCURRED_AT:
        raise ValidationFailed(
            _("occurred_at is before 2000-01-01; check the date."),
            fields={"occurred_at": [_("Must not be before 2000-01-01.")]},
        )
    if (moment - utcnow()).total_seconds() > FUTURE_TOLERANCE_HOURS * 3600:
        raise ValidationFailed(
            _("occurred_at is in the future; events are posted once they have happened."),
            fields={"occurred_at": [_("Must not be in the future.")]},
        )
    participants = list(dict.fromkeys(p for p in data["participants"] if p != data["user_id"]))
    return EventInput(
        external_id=data["external_id"].strip(),
        type=data["type"],
        user_id=data["user_id"],
        occurred_at=moment,
        quantity=data["quantity"],
        participants=participants,
        related_external_id=(data.get("related_external_id") or "").strip() or None,
    )


def _load(schema: EventInputSchema, raw: dict) -> dict:
    """Load with the schema; ValidationFailed with marshmallow's message per field.

    Marshmallow writes its messages in English: they are translated here, once, so that the
    message naming the first field says the same as that field's entry (single posts and batches).
    """
    try:
        return schema.load(raw)
    except ma.ValidationError as error:
        # Translated before flattening: "[0]: " in front of a message would hide it from the catalog.
        fields = {k: field_messages(translated(v)) for k, v in error.normalized_messages().items()}
        name, messages = next(iter(fields.items()))
        raise ValidationFailed(_("%(value)s: %(value2)s", value=name, value2=" ".join(messages)), fields=fields) from None


# --- results -------------------------------------------------------------------


@dataclasses.dataclass
class EventResult:
    index: int
    external_id: str | None
    status: str  # created | duplicate | conflict | invalid
    event_id: int | None = None
    awards: list[dict] = dataclasses.field(default_factory=list)
    error: DomainError | None = None

    @property
    def event(self) -> Event | None:
        """The stored event, read when asked for: a batch keeps ids, not an ORM object per event."""
        return db.session.get(Event, self.event_id) if self.event_id is not None else None

    def as_dict(self) -> dict:
        body = {
            "index": self.index,
            "external_id": self.external_id,
            "id": self.event_id,
            "status": self.status,
            "awards": self.awards,
        }
        if self.error is not None:
            body["error"] = self.error.to_dict()
        return body


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """An event the batch has just inserted: its id and what was posted, without an ORM object.

    It has the attributes ``_shares`` and the bonus reads; the rarer work that
    needs the stored row (a veto, a correction, a badge) loads the ``Event``.
    """

    id: int
    external_id: str
    type: str
    user_id: int
    occurred_at: dt.datetime
    quantity: int
    participants: list[int]


def award_dicts(entries: list[LedgerEntry]) -> list[dict]:
    return [{"user_id": e.user_id, "points": e.points, "kind": e.kind, "entry_id": e.id, "reason": e.reason} for e in entries]


# --- ingestion -----------------------------------------------------------------


def split_points(total: int, recipients: list[int]) -> list[tuple[int, int]]:
    """Split ``total`` as equally as integers allow; the remainder one each from the first."""
    if len(recipients) == 1:  # most events: the owner alone
        return [(recipients[0], total)]
    share, remainder = divmod(total, len(recipients))
    return [(uid, share + (1 if i < remainder else 0)) for i, uid in enumerate(recipients)]


def ingest_events(
    raw_items: list, *, source: str, actor_id: int | None, offset_required: bool = False, csv: bool = False
) -> list[EventResult]:
    """Store events and award their points once; one result per item, in order.

    A bad item (invalid, conflict) never blocks the good ones. One notification
    per user sums what the batch awarded them. ``csv``: the items are rows of
    text cells (see ``parse_event``); ``offset_required`` refuses times without a UTC offset.
    """
    results: list[EventResult | None] = [None] * len(raw_items)
    parsed: list[tuple[int, EventInput]] = []
    # Parsed and hashed before the first query: on SQLite that query takes the write lock.
    for i, raw in enumerate(raw_items):
        try:
            item = parse_event(raw, offset_required=offset_required, csv=csv)
            item.payload_hash  # noqa: B018 (computed now, kept: see above)
            parsed.append((i, item))
        except ValidationFailed as error:
            ext = raw.get("external_id") if isinstance(raw, dict) and isinstance(raw.get("external_id"), str) else None
            ext = ext if text.storable(ext) else None
            results[i] = EventResult(i, ext, "invalid", error=error)
    user_ids = {p.user_id for _, p in parsed} | {u for _, p in parsed for u in p.participants}
    known_users = set(db.session.scalars(sa.select(User.id).where(bulk.among(User.id, user_ids)))) if user_ids else set()
    known_events = _stored_events(
        source, {p.external_id for _, p in parsed} | {p.related_external_id for _, p in parsed} - {None}
    )
    versions = rules_in_force({p.type for _, p in parsed} | {MENTORSHIP_BONUS_TYPE})
    mentorships = mentoring.open_mentorships(user_ids)
    new = [p for _, p in parsed if p.external_id not in known_events]
    # Corrections lock events, then challenges, then wallets: take theirs before the wallets (no deadlock).
    corrections.lock_before_wallets(
        [known_events[p.related_external_id] for p in new if p.related_external_id in known_events],
        [(p.user_id, p.occurred_at) for p in new if p.type == COMPLIANCE_BREACH_TYPE],
    )
    _lock_wallets({p.user_id for p in new} | {u for p in new for u in p.participants} | _mentors(mentorships))
    fresh: dict[str, tuple[int, EventInput]] = {}
    twins: list[tuple[int, EventInput]] = []  # the same external_id again later in the batch
    for i, item in parsed:
        unknown = [uid for uid in [item.user_id, *item.participants] if uid not in known_users]
        if unknown:
            field = "user_id" if item.user_id in unknown else "participants"
            message = (
                _("There is no user %(user_id)s.", user_id=unknown[0])
                if len(unknown) == 1
                else _("There are no users %(user_ids)s.", user_ids=", ".join(map(str, unknown)))
            )
            results[i] = EventResult(i, item.external_id, "invalid", error=ValidationFailed(message, fields={field: [message]}))
        elif item.external_id in known_events:
            results[i] = _known(i, item, known_events[item.external_id])
        elif item.external_id in fresh:
            twins.append((i, item))
        else:
            fresh[item.external_id] = (i, item)
    batch = [(i, item) for i, item in fresh.values() if item.related_external_id is None]
    for result in _store_batch(batch, source, actor_id, versions, mentorships):
        results[result.index] = result
    # Later items may name or repeat events this batch stored: only those are read back.
    named = {item.related_external_id for _, item in fresh.values() if item.related_external_id is not None}
    named |= {item.external_id for _, item in twins}
    if named_now := named & {results[i].external_id for i, _ in batch}:
        known_events.update(_stored_events(source, named_now))
    for i, item in fresh.values():  # clawbacks and corrections name an earlier event: one at a time, after the batch
        if item.related_external_id is not None:
            results[i] = _ingest_one(i, item, source, actor_id, known_events, versions, mentorships)
    for i, item in twins:  # answered as the stored event, or checked alone when the first was refused
        results[i] = _ingest_one(i, item, source, actor_id, known_events, versions, mentorships)
    totals: dict[int, int] = defaultdict(int)
    reasons: dict[int, list[str]] = defaultdict(list)
    for result in results:
        for award in result.awards:
            totals[award["user_id"]] += award["points"]
            reasons[award["user_id"]].append(award["reason"])
    notices = []
    for user_id, points in totals.items():
        if points > 0:
            names = list(dict.fromkeys(reasons[user_id]))
            reason = "; ".join(names[:3]) + ("…" if len(names) > 3 else "")
            notices.append((user_id, {"points": points, "reason": reason}))
    notify.queue_many("award", "points_awarded", notices, url="/wallet")
    return results


def _stored_events(source: str, external_ids: set[str]) -> dict[str, Event]:
    found: dict[str, Event] = {}
    ids = sorted(external_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in db.session.scalars(sa.select(Event).where(Event.source == source, bulk.among(Event.external_id, chunk))):
            found[event.external_id] = event
    return found


def _mentors(mentorships: dict) -> set[int]:
    return {m.mentor_id for m in mentorships.values()}


def _lock_wallets(user_ids: set[int]) -> None:
    """Lock the wallets a batch may touch in id order (a no-op on SQLite)."""
    if user_ids and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            sa.select(Wallet.user_id).where(bulk.among(Wallet.user_id, user_ids)).order_by(Wallet.user_id).with_for_update()
        ).all()


def _known(i: int, item: EventInput, stored: Event) -> EventResult:
    if stored.payload_hash == item.payload_hash:
        return EventResult(i, item.external_id, "duplicate", event_id=stored.id)
    error = Conflict(
        _(
            "Event %(external_id)s was already received with different details; send a new external_id for a new event, or ask an admin to reverse the stored one.",
            external_id=item.external_id,
        ),
        external_id=item.external_id,
        event_id=stored.id,
    )
    return EventResult(i, item.external_id, "conflict", event_id=stored.id, error=error)


def _store_batch(items: list[tuple[int, EventInput]], source, actor_id, versions, mentorships) -> list[EventResult]:
    """Store new events and their awards for a whole batch: one insert each for events and entries.

    The events go in with ``ON CONFLICT DO NOTHING``: the unique identity still
    decides, and an event a concurrent request stored first is simply not
    returned, so it is answered as that request stored it (duplicate or
    conflict). Only ids come back (no ORM object per event). Per-event work
    that is rare (a mentorship bonus, a compliance veto, a correction) and the
    badge checks follow, in the order of the batch.
    """
    if not items:
        return []
    now = utcnow()
    rules_of = {item.external_id: rule_at(versions.get(item.type, []), item.occurred_at) for _, item in items}
    ids = _insert_events(items, source, actor_id, rules_of, now)
    created = {
        item.external_id: NewEvent(
            ids[item.external_id], item.external_id, item.type, item.user_id, item.occurred_at, item.quantity, item.participants
        )
        for _, item in items
        if item.external_id in ids
    }
    postings = [posting for ext, event in created.items() for posting in _shares(event, rules_of[ext])]
    entries: dict[int, list] = defaultdict(list)
    for entry in ledger.post_many(postings):
        entries[entry.event_id].append(entry)
    forbidding = corrections.forbidding_rules({event.type for event in created.values()})
    results = []
    for i, item in items:
        event = created.get(item.external_id)
        if event is None:  # a concurrent request stored this identity first: answer as it did
            results.append(
                _known(
                    i,
                    item,
                    db.session.scalar(sa.select(Event).where(Event.source == source, Event.external_id == item.external_id)),
                )
            )
            continue
        rule = rules_of[item.external_id]
        awarded = entries[event.id] + _after_award(
            event, rule, entries[event.id], versions, mentorships, actor_id, forbidding[event.type]
        )
        results.append(EventResult(i, item.external_id, "created", event_id=event.id, awards=award_dicts(awarded)))
    _check_badges(list(created.values()))
    return results


def _insert_events(items: list[tuple[int, EventInput]], source, actor_id, rules_of, now) -> dict[str, int]:
    """Store new events, skipping an identity already stored; the id of each stored one by its external id."""
    rows = [
        (
            item.external_id,
            item.type,
            item.user_id,
            item.occurred_at,
            item.quantity,
            item.participants,
            item.payload_hash,
            rules_of[item.external_id].id if rules_of[item.external_id] else None,
        )
        for _, item in items
    ]
    if db.session.get_bind().dialect.name == "sqlite":  # ids given (see ``bulk``): nothing to read back
        first = bulk.next_id(Event.__table__)
        stored = _EVENT_ROWS.execute([(first + n, source, *row, actor_id, now) for n, row in enumerate(rows)])
        if stored == len(rows):
            return {row[0]: first + n for n, row in enumerate(rows)}
        found = sa.select(Event.id, Event.external_id).where(Event.id >= first)  # some identity was there first
        return {external_id: event_id for event_id, external_id in db.session.execute(found)}
    params = _EVENT_ARRAYS.params([(source, *row, actor_id, now) for row in rows])
    return {external_id: event_id for event_id, external_id in db.session.execute(_INSERT_EVENTS_RETURNING, params)}


# The columns an event is stored with by a batch (and by the bench seeder), in the order of a row.
EVENT_COLUMNS = (
    "id",
    "source",
    "external_id",
    "type",
    "user_id",
    "occurred_at",
    "quantity",
    "participants",
    "payload_hash",
    "rule_id",
    "created_by_id",
    "created_at",
)
# ``ON CONFLICT DO NOTHING`` on the identity alone: the unique (source, external_id) still decides what is new.
_EVENT_ROWS = bulk.Many(
    sqlite.insert(Event.__table__).on_conflict_do_nothing(index_elements=["source", "external_id"]), EVENT_COLUMNS
)
# PostgreSQL: one array per column; the ids come back with their external ids (in no promised order).
_EVENT_ARRAYS = bulk.Arrays(Event.__table__, EVENT_COLUMNS[1:])
_INSERT_EVENTS_RETURNING = _EVENT_ARRAYS.statement.on_conflict_do_nothing(index_elements=["source", "external_id"]).returning(
    Event.__table__.c.id, Event.__table__.c.external_id
)


def _check_badges(created: list[NewEvent]) -> None:
    """Award the badges a batch reached; only events of a type some badge counts are read back."""
    with_badges = badges.types_with_badges({event.type for event in created})
    wanted = [event.id for event in created if event.type in with_badges]
    if not wanted:
        return
    stored = {event.id: event for event in db.session.scalars(sa.select(Event).where(bulk.among(Event.id, wanted)))}
    for event_id in wanted:  # in the order of the batch, as they were stored
        badges.check_event(stored[event_id])


def mentorship_deal_types() -> tuple[str, ...]:
    """Event types whose first occurrence pays the mentorship bonus (setting ``MENTORSHIP_DEAL_TYPES``)."""
    return tuple(current_app.config.get("MENTORSHIP_DEAL_TYPES") or DEFAULT_MENTORSHIP_DEAL_TYPES)


def related_event(i: int, item: EventInput, known_events: dict[str, Event]) -> tuple[Event | None, EventResult | None]:
    """The earlier event of the same source an item names, or the item's ``invalid`` result."""
    if item.related_external_id is None:
        return None, None
    related = known_events.get(item.related_external_id)
    if related is None or related.external_id == item.external_id:
        message = f"There is no earlier event {item.related_external_id} from this source."
        error = ValidationFailed(message, fields={"related_external_id": [message]})
        return None, EventResult(i, item.external_id, "invalid", error=error)
    return related, None


def _ingest_one(i, item: EventInput, source, actor_id, known_events, versions, mentorships) -> EventResult:
    if item.external_id in known_events:
        return _known(i, item, known_events[item.external_id])
    related, refused = related_event(i, item, known_events)
    if refused is not None:
        return refused
    rule = rule_at(versions.get(item.type, []), item.occurred_at)
    event = Event(
        source=source,
        external_id=item.external_id,
        type=item.type,
        user_id=item.user_id,
        occurred_at=item.occurred_at,
        quantity=item.quantity,
        participants=item.participants,
        payload_hash=item.payload_hash,
        related_event_id=related.id if related is not None else None,
        rule_id=rule.id if rule is not None else None,
        created_by_id=actor_id,
        created_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(event)
            db.session.flush()
            entries = _award(event, rule)
            deal = event.type in mentorship_deal_types()
            mentorship = next(
                (mentorships[e.user_id] for e in entries if deal and e.points > 0 and e.user_id in mentorships), None
            )
            if mentorship is not None:
                bonus = mentoring.pay_first_deal_bonus(
                    mentorship, event, rule_at(versions[MENTORSHIP_BONUS_TYPE], event.occurred_at)
                )
                if bonus:
                    mentorships.pop(mentorship.mentee_id, None)
                entries += bonus
            if event.type == COMPLIANCE_BREACH_TYPE:
                vetoes.veto_for_event(event, f"{rule.name if rule else 'Compliance breach'} (event {event.external_id})")
            corrections.event_stored(event, related=related, actor_id=actor_id)
            badges.check_events([event])
    except sa.exc.IntegrityError:
        # Someone stored this identity first (a concurrent replay): answer as they did.
        stored = db.session.scalar(sa.select(Event).where(Event.source == source, Event.external_id == item.external_id))
        if stored is None:
            raise
        return _known(i, item, stored)
    known_events[item.external_id] = event
    return EventResult(i, item.external_id, "created", event_id=event.id, awards=award_dicts(entries))


def _after_award(
    new: NewEvent, rule: Rule | None, entries: list, versions, mentorships, actor_id, forbidding: list[tuple[str, str]]
) -> list[LedgerEntry]:
    """A mentee's first deal pays the mentorship bonus; a breach vetoes; corrections see the stored event.

    Most events need none of this: then the stored row is not even read.
    """
    deal = bool(mentorships) and new.type in mentorship_deal_types()
    mentorship = next((mentorships[e.user_id] for e in entries if deal and e.points > 0 and e.user_id in mentorships), None)
    if mentorship is None and new.type != COMPLIANCE_BREACH_TYPE and not forbidding:
        return []
    event = db.session.get(Event, new.id)
    bonus: list[LedgerEntry] = []
    if mentorship is not None:
        bonus = mentoring.pay_first_deal_bonus(mentorship, event, rule_at(versions[MENTORSHIP_BONUS_TYPE], event.occurred_at))
        if bonus:
            mentorships.pop(mentorship.mentee_id, None)
    if event.type == COMPLIANCE_BREACH_TYPE:
        vetoes.veto_for_event(event, f"{rule.name if rule else 'Compliance breach'} (event {event.external_id})")
    corrections.event_stored(event, related=None, actor_id=actor_id, forbidding=forbidding)
    return bonus


def _award(event: Event, rule: Rule | None) -> list:
    """Pay one event's shares (the path of items that name a related event)."""
    return ledger.post_many(_shares(event, rule))


def _shares(event: Event | NewEvent, rule: Rule | None) -> list[ledger.Posting]:
    """The entries a rule pays for an event: the owner's, or equal shares with the participants."""
    if rule is None:
        return []
    total = rule.points * event.quantity
    reason = rule.name if event.quantity == 1 else f"{rule.name} ×{event.quantity}"
    if total < 0:  # deductions are the owner's alone
        kind = "compliance_deduction" if event.type == COMPLIANCE_BREACH_TYPE else "event_award"
        shares = [(event.user_id, total)]
    else:
        kind = "event_award"
        shares = split_points(total, [event.user_id, *event.participants])
    count = len(shares)
    return [
        ledger.Posting(
            user_id,
            points,
            kind,
            reason if count == 1 else f"{reason} (share {n} of {count} of {total})",
            event_id=event.id,
            rule_id=rule.id,
            effective_at=event.occurred_at,
        )
        for n, (user_id, points) in enumerate(shares, start=1)
        if points != 0
    ]


# --- reversal ------------------------------------------------------------------


def reverse_event(actor: User | None, event_id: int, reason: str) -> tuple[Event, list[LedgerEntry]]:
    """Reverse everything an event produced (see ``corrections``) with linked entries."""
    if actor is not None:
        policy.require(policy.can_reverse_events(actor), _("Only administrators can reverse events."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the event is reversed; the people affected will see it."), fields={"reason": [_("A reason is required.")]}
        )
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_("There is no event %(event_id)s.", event_id=event_id))
    if not corrections.claim_reversal(event, actor_id=actor.id if actor else None, reason=reason):
        raise InvalidTransition(_("This event has already been reversed."))
    reversals = corrections.reverse_cascade(event, actor_id=actor.id if actor else None, reason=reason, actor=actor)
    audit.record(
        actor,
        "event.reversed",
        "event",
        event_id,
        {
            "reason": reason[:500],
            "reversals": [{"user_id": e.user_id, "points": e.points} for e in reversals],
        },
    )
    return event, reversals
