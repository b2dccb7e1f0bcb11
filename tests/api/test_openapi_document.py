"""The OpenAPI document says what the API does: errors, money, enums, limits, public operations."""

from __future__ import annotations

import pytest

OPERATIONS = ("get", "post", "put", "patch", "delete")


@pytest.fixture()
def doc(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                yield method.upper(), path, operation


def _query(doc, path, name):
    return next(p["schema"] for p in doc["paths"][path]["get"]["parameters"] if p["name"] == name)


def test_every_operation_documents_the_error_envelope_as_its_default_response(doc):
    error = doc["components"]["schemas"]["Error"]
    detail = doc["components"]["schemas"][error["properties"]["error"]["$ref"].rsplit("/", 1)[1]]
    assert error["required"] == ["error"]
    assert set(detail["required"]) == {"code", "message"} and detail["properties"]["fields"]["type"] == "object"
    default = doc["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"]
    assert default == {"$ref": "#/components/schemas/Error"}
    operations = list(_operations(doc))
    assert len(operations) >= 44
    for method, path, operation in operations:
        assert operation["responses"]["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}, (method, path)


def test_an_error_answer_matches_the_documented_envelope(client):
    body = client.get("/api/v1/me").json
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == "unauthorized"


def test_money_has_one_documented_type_and_is_answered_in_it(doc, api_as, org):
    reward = doc["components"]["schemas"]["Reward"]["properties"]
    for name in ("cash_amount", "monthly_budget"):
        assert [branch["type"] for branch in reward[name]["anyOf"]] == ["string", "number"]
        assert "type" not in reward[name]
    created = api_as(org.admin).post("/rewards", {"name": "Cash", "kind": "bonus_cash", "cost": 10, "cash_amount": 500})
    assert created.status_code == 201 and created.json["cash_amount"] == "500.00"
    assert (
        api_as(org.admin)
        .post("/rewards", {"name": "Cash", "kind": "bonus_cash", "cost": 10, "cash_amount": "500.5"})
        .json["cash_amount"]
        == "500.50"
    )
    for bad in ("1e3", " 5", "5.001", True):
        refused = api_as(org.admin).post("/rewards", {"name": "Cash", "kind": "bonus_cash", "cost": 10, "cash_amount": bad})
        assert refused.status_code == 422 and "cash_amount" in refused.json["error"]["fields"], bad


def test_enums_and_limits_are_declared(doc):
    assert _query(doc, "/api/v1/leaderboard", "period")["enum"] == ["week", "month", "quarter", "year"]
    assert _query(doc, "/api/v1/leaderboard", "kind")["enum"] == ["individual", "team"]
    assert "pattern" in _query(doc, "/api/v1/leaderboard", "period_key")
    limit, cursor = _query(doc, "/api/v1/me/ledger", "limit"), _query(doc, "/api/v1/me/ledger", "cursor")
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 200, 50)
    assert cursor["pattern"] == "^[A-Za-z0-9_-]*$" and cursor["maxLength"] == 400
    endpoint = doc["components"]["schemas"]["Subscription"]["properties"]["endpoint"]
    assert endpoint["format"] == "uri" and endpoint["maxLength"] == 1024
    assert doc["components"]["schemas"]["Reward"]["properties"]["kind"]["enum"] == [
        "leave_day",
        "bonus_cash",
        "training_seat",
        "remote_day",
        "other",
    ]


def test_every_post_that_moves_points_or_stock_declares_the_idempotency_key(doc):
    for path in ("/api/v1/awards", "/api/v1/events", "/api/v1/redemptions", "/api/v1/redemptions/{redemption_id}/approve"):
        header = next(p for p in doc["paths"][path]["post"]["parameters"] if p["in"] == "header")
        assert header["name"] == "Idempotency-Key"
        assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)


def test_the_events_body_is_one_event_or_a_batch(doc):
    body = doc["paths"]["/api/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    single, batch = body["anyOf"]
    assert set(single["required"]) == {"external_id", "type", "user_id", "occurred_at"}
    assert batch["properties"]["events"]["maxItems"] == 1000


def test_only_the_public_operations_need_no_token(doc, client):
    public = {(method, path) for method, path, operation in _operations(doc) if operation.get("security") == []}
    assert public == {("POST", "/api/v1/auth/token"), ("GET", "/api/v1/push/vapid-public-key")}
    assert doc["security"] == [{"bearer": []}]
    assert client.get("/api/v1/push/vapid-public-key").status_code == 200


def test_unknown_keys_are_ignored_whatever_they_hold(api_as, org):
    """Keys a body may carry beyond the schema are dropped, so a NUL inside one is no reason to refuse."""
    response = api_as(org.admin).post("/teams", {"name": "Retail", "note": {"x": "a\x00b"}})
    assert response.status_code == 201 and response.json["name"] == "Retail"
    refused = api_as(org.admin).post("/teams", {"name": "Re\x00tail"})
    assert refused.status_code == 422 and "name" in refused.json["error"]["fields"]


def test_answers_declare_their_enums(doc):
    schemas = doc["components"]["schemas"]
    assert schemas["LedgerEntry"]["properties"]["kind"]["enum"][0] == "event_award"
    assert schemas["Challenge"]["properties"]["status"]["enum"] == ["active", "succeeded", "failed"]
    assert schemas["EventResult"]["properties"]["status"]["enum"] == ["created", "duplicate", "conflict", "invalid"]
    assert "expired" in schemas["Decision"]["properties"]["status"]["enum"]
