"""In Chinese, validation errors say what is wrong in Chinese: the envelope's message as well as its fields."""

from __future__ import annotations

import pytest

from tests import factories
from tests.i18n.test_zh_pages import ZH, english_words

# The JSON keys named in a message are what a developer types, not words to translate.
FIELD_NAMES = {"type", "user_id", "external_id", "occurred_at", "quantity", "participants", "nonsense"}

EVENTS = [
    {"external_id": "x"},  # missing fields
    {"external_id": "x", "type": "loan_signed", "user_id": "one", "occurred_at": "2026-01-01T00:00:00Z"},
    {"external_id": "x", "type": "loan_signed", "user_id": None, "occurred_at": "2026-01-01T00:00:00Z"},
    {"external_id": "x", "type": "loan_signed", "user_id": 1, "occurred_at": "2026-01-01T00:00:00Z", "nonsense": 1},
    {"external_id": "x" * 300, "type": "loan_signed", "user_id": 1, "occurred_at": "2026-01-01T00:00:00Z"},
    {"external_id": "x", "type": "loan_signed", "user_id": 1, "occurred_at": "yesterday"},
    {"external_id": "x", "type": "loan_signed", "user_id": 1, "occurred_at": "2026-01-01T00:00:00Z", "quantity": 0},
    {"external_id": "x", "type": "loan_signed", "user_id": 99999, "occurred_at": "2026-01-01T00:00:00Z"},
    {"external_id": "x", "type": "loan_signed", "user_id": 99998, "occurred_at": "2026-01-01T00:00:00Z", "participants": [99997]},
    {"external_id": "x", "type": "loan_signed", "user_id": 1, "occurred_at": "2026-01-01T00:00:00Z", "participants": ["x"]},
]


def _chinese_only(text: str) -> list[str]:
    return sorted(set(english_words(text)) - FIELD_NAMES)


@pytest.mark.parametrize("event", EVENTS)
def test_an_invalid_event_is_refused_in_chinese_in_its_message_and_fields(api_as, event):
    error = api_as(factories.integration()).post("/events", event, headers=ZH).get_json()["error"]
    assert error["code"] == "validation_error"
    assert _chinese_only(error["message"]) == [], error
    assert error["fields"], error
    assert _chinese_only(str(error["fields"])) == [], error


def test_the_message_of_a_missing_field_is_the_translated_field_message(api_as):
    error = api_as(factories.integration()).post("/events", {"external_id": "x"}, headers=ZH).get_json()["error"]
    assert error["message"] in {f"{field}：{messages[0]}" for field, messages in error["fields"].items()}
    assert "Missing data" not in error["message"]


def test_a_batch_reports_each_invalid_event_in_chinese(api_as):
    answer = api_as(factories.integration()).post("/events", {"events": EVENTS}, headers=ZH).get_json()
    errors = [item["error"] for item in answer["items"]]
    assert len(errors) == len(EVENTS)
    for error in errors:
        assert _chinese_only(error["message"]) == [], error
        assert _chinese_only(str(error["fields"])) == [], error


def _library_messages() -> set[str]:
    """Every fixed message of the marshmallow fields and validators the project's schemas use."""
    import marshmallow as ma

    kinds = (ma.fields.Integer, ma.fields.String, ma.fields.Nested, ma.fields.List, ma.fields.DateTime)
    kinds += (ma.fields.AwareDateTime, ma.fields.Boolean, ma.fields.Dict, ma.fields.Date, ma.fields.Float)
    kinds += (ma.fields.Email, ma.fields.Decimal, ma.fields.Raw)
    messages = set()
    for kind in kinds:
        for cls in kind.__mro__:
            messages |= {m for m in getattr(cls, "default_error_messages", {}).values() if "{" not in m}
    messages |= {str(ma.Schema().error_messages[key]) for key in ("unknown", "type")}
    return messages


def test_every_fixed_marshmallow_message_has_its_chinese_text(app):
    from flask_babel import force_locale

    from pointsapp.http import translated

    with app.test_request_context(), force_locale("zh"):
        literal = {"nan", "infinity"}  # the values a caller sends, named as such
        untranslated = sorted(m for m in _library_messages() if set(english_words(translated(m))) - literal)
    assert untranslated == []


@pytest.mark.parametrize(
    "english",
    [
        "Length must be between 1 and 64.",
        "Longer than maximum length 200.",
        "Shorter than minimum length 1.",
        "Must be greater than or equal to 1.",
        "Must be greater than or equal to 1 and less than or equal to 2147483647.",
        "Must be less than or equal to 1000.",
        "Must be one of: week, month.",
        "Not a valid datetime.",
        "Not a valid aware datetime.",
    ],
)
def test_marshmallow_messages_with_numbers_read_in_chinese(app, english):
    from flask_babel import force_locale

    from pointsapp.http import translated

    with app.test_request_context(), force_locale("zh"):
        assert set(english_words(translated(english))) <= {"week", "month"}, translated(english)


def test_the_csv_import_reports_invalid_rows_in_chinese(app, org):
    from pointsapp.extensions import db
    from tests.conftest import login
    from tests.web.test_earning import run_import, seed, upload

    seed()
    org.admin.locale = "zh"
    db.session.commit()
    client = login(app.test_client(), org.admin)
    text = (
        "external_id,type,user_id,occurred_at,quantity,participants\n"
        "r3,loan_signed,999999,2026-11-21T15:00:00+08:00,,\n"
        f"r4,loan_signed,{org.bob.id},not a date,,\n"
        f"r5,loan_signed,{org.bob.id},2026-11-21T15:00:00+08:00,zero,\n"
    )
    report = run_import(client, upload(client, org, text))
    assert "999999" in report and "occurred_at" in report
    for english in ("Not a valid", "There is no user", "Missing data"):
        assert english not in report, english
