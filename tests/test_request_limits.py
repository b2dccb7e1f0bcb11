"""Request bodies are capped (MAX_CONTENT_LENGTH, 2 MB); CSV uploads have their own 5 MB limit."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from pointsapp import rules
from pointsapp.extensions import db
from pointsapp.models import Event, Team
from pointsapp.models.earning import EventImport
from pointsapp.web import CSV_UPLOAD_MAX_BYTES
from tests import factories
from tests.conftest import csrf_token, login

MB = 1024 * 1024
WHEN = "2026-11-20T10:00:00+08:00"


def test_the_default_limit_is_2_mb(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * MB


def test_an_api_body_over_the_limit_is_a_413_with_the_error_body_and_writes_nothing(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    crm = api_as(factories.integration("CRM"))
    event = {"external_id": "big", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": WHEN, "note": "x" * (2 * MB)}
    response = crm.post("/events", event)
    assert response.status_code == 413
    assert response.json == {"error": {"code": "payload_too_large", "message": "The request body is too large."}}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event)) == 0


def test_a_body_just_under_the_limit_is_read_and_a_1000_event_batch_is_far_smaller(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    event = {
        "external_id": "crm-000001-" + "r" * 100,
        "type": "loan_signed",
        "user_id": org.alice.id,
        "occurred_at": WHEN,
        "participants": [org.bob.id, org.carol.id],
    }
    assert len(json.dumps({"events": [event] * 1000})) < MB
    response = api_as(factories.integration("CRM")).post("/events", {**event, "note": "x" * (2 * MB - 4096)})
    assert response.status_code == 201, response.json
    assert response.json["items"][0]["status"] == "created"


def test_a_form_over_the_limit_is_a_413_page_and_writes_nothing(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    response = client.post("/admin/teams", data={"name": "Branch", "csrf_token": token, "padding": "x" * (2 * MB)})
    assert response.status_code == 413
    assert "text/html" in response.content_type
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Team)) == 4


def _upload(client, token, size: int, path="/admin/events/import"):
    data = b"\xff" * size  # not UTF-8: refused by the import itself once it gets the file
    # Encoded in memory: the test client would spool a large body to a temporary file it never closes.
    boundary, body = encode_multipart({"csrf_token": token, "file": FileStorage(io.BytesIO(data), "events.csv")})
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_a_csv_upload_may_exceed_the_request_limit_up_to_its_own_5_mb(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/events/import")
    response = _upload(client, token, 3 * MB)
    assert response.status_code == 422  # read, and refused for its content, not its size
    assert "The file is not UTF-8 text" in response.get_data(as_text=True)
    response = _upload(client, token, 3 * MB, "/admin/users/import")
    assert response.status_code == 422
    assert "The file is not UTF-8 text." in response.get_data(as_text=True)
    assert _upload(client, token, CSV_UPLOAD_MAX_BYTES + MB).status_code == 413
    assert _upload(client, token, CSV_UPLOAD_MAX_BYTES + MB, "/admin/users/import").status_code == 413
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EventImport)) == 0
