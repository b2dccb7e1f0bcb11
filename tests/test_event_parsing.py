"""The plain path for well-formed JSON events answers as EventInputSchema does, or leaves the item to it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import hypothesis
import hypothesis.strategies as st
import marshmallow as ma
import pytest

from pointsapp import earning

FIELDS = ["external_id", "type", "user_id", "occurred_at", "participants", "quantity", "related_external_id"]

texts = st.sampled_from(
    [
        "",
        " ",
        "crm-1",
        " crm-2 ",
        "x" * 255,
        "x" * 256,
        "loan_signed",
        "loan_signed\n",
        "Loan_Signed",
        "mentorship.first_deal",
        "12",
        "1_000",
        "2026-11-20T10:00:00+08:00",
        "2026-11-20T10:00:00",
        "2026-11-20",
        "2026-11-20T10:00:00Z",
        "20261120T100000",
        "yesterday",
        "nul\x00",
        "lone \ud800",
    ]
)
numbers = st.sampled_from([0, 1, 2, 10_000, 10_001, 2**31 - 1, 2**31, -5, 1.0, 1.5, True, False])
values = st.one_of(
    texts,
    numbers,
    st.none(),
    st.lists(st.one_of(numbers, texts), max_size=3),
    st.just(list(range(1, 52))),
    st.dictionaries(texts, texts, max_size=2),
)
raw_events = st.dictionaries(st.sampled_from([*FIELDS, "extra", "nul\x00key"]), values, max_size=9)


def well_formed(**changes) -> dict:
    return {
        "external_id": "crm-1",
        "type": "loan_signed",
        "user_id": 7,
        "occurred_at": "2026-11-20T10:00:00+08:00",
        **changes,
    }


@hypothesis.settings(max_examples=1500, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
@hypothesis.given(raw=st.one_of(raw_events, st.builds(lambda base, extra: {**base, **extra}, st.just(well_formed()), raw_events)))
def test_the_plain_path_never_answers_differently_from_the_schema(raw):
    plain = earning.load_plain_event(raw)
    if plain is None:
        return  # the schema decides
    try:
        expected = earning.EventInputSchema().load(raw)
    except ma.ValidationError as error:
        pytest.fail(f"the plain path accepted what the schema refuses: {error.messages}")
    assert plain == expected


@pytest.mark.parametrize(
    "raw",
    [
        well_formed(),
        well_formed(quantity=3, participants=[8, 9], related_external_id="crm-0"),
        well_formed(external_id=1042, related_external_id=""),
        well_formed(occurred_at="2026-11-20T10:00:00", extra=None, note="ignored"),
    ],
)
def test_well_formed_events_take_the_plain_path(raw):
    plain = earning.load_plain_event(raw)
    assert plain is not None and plain == earning.EventInputSchema().load(raw)


@pytest.mark.parametrize(
    "change",
    [
        {"type": "loan_signed\n"},
        {"user_id": "7"},
        {"quantity": "2"},
        {"participants": ["8"]},
        {"user_id": True},
        {"quantity": 2.0},
        {"external_id": "nul\x00"},
        {"external_id": "rv-nl\n"},
        {"external_id": "   "},
        {"related_external_id": " crm-1"},
        {"note": "lone \ud800"},
    ],
)
def test_what_the_contract_refuses_is_refused_with_the_field_named(change):
    with pytest.raises(earning.ValidationFailed) as refused:
        earning.parse_event(well_formed(**change), offset_required=True)
    assert list(refused.value.fields) == list(change)


def test_a_csv_row_may_give_numbers_as_digits():
    row = {"external_id": "r1", "type": "loan_signed", "user_id": "7", "occurred_at": "2026-11-20 10:00", "quantity": "2"}
    parsed = earning.parse_event({**row, "participants": ["8"]}, csv=True)
    assert (parsed.user_id, parsed.quantity, parsed.participants) == (7, 2, [8])


def _digest_the_long_way(item: earning.EventInput) -> str:
    canonical = json.dumps(item.canonical(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


ids = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)


@hypothesis.given(
    kind=st.sampled_from(["loan_signed", "cross_dept_referral", 'odd "type" \\ é', "类型"]),
    user_id=st.integers(min_value=1, max_value=2**31 - 1),
    moment=st.datetimes(timezones=st.sampled_from([dt.timezone.utc, dt.timezone(dt.timedelta(hours=8))])),
    quantity=st.integers(min_value=1, max_value=10_000),
    participants=st.lists(st.integers(min_value=1, max_value=2**31 - 1), max_size=4),
    related=st.one_of(st.none(), ids),
)
def test_the_payload_hash_is_the_digest_of_the_canonical_json(kind, user_id, moment, quantity, participants, related):
    """Written out directly, the canonical text is byte for byte what json.dumps writes: stored hashes still match."""
    item = earning.EventInput("crm-1", kind, user_id, moment, quantity, participants, related)
    assert item.payload_hash == _digest_the_long_way(item)


def test_a_payload_hash_stored_before_still_matches():
    """A hash as an earlier release stored it: a replay of that event is a duplicate, not a conflict."""
    moment = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    item = earning.EventInput("crm-1", "loan_signed", 42, moment, 2, [7, 9], "crm-0")
    assert (
        item.payload_hash
        == hashlib.sha256(
            b'{"occurred_at":"2026-11-20T10:00:00.000000+08:00","participants":[7,9],"quantity":2,'
            b'"related_external_id":"crm-0","type":"loan_signed","user_id":42}'
        ).hexdigest()
    )
