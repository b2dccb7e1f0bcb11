"""The plain path for well-formed JSON events answers as EventInputSchema does, or leaves the item to it."""

from __future__ import annotations

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
