"""Fixes from a phone review: boosted pages keep their layout, huge numbers, clear labels, confirmations."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import Reward
from tests import factories
from tests.conftest import csrf_token, login

BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://localhost/rewards"}
SWAP = {"HX-Request": "true", "HX-Target": "confirm"}


def make_reward(**fields) -> Reward:
    reward = Reward(**({"name": "Paid leave day", "kind": "leave_day", "cost": 800, "description": ""} | fields))
    db.session.add(reward)
    db.session.commit()
    return reward


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:600])
    return response.get_data(as_text=True)


# --- 1. boosted navigation gets whole pages --------------------------------------------


def test_boosted_click_on_redeem_gets_the_whole_confirm_page_and_a_swap_gets_the_fragment(client, org):
    reward = make_reward(cost=300)
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    full = text(client.get(f"/rewards/{reward.id}/confirm", headers=BOOSTED))
    assert "<nav" in full and "<h1>Confirm redemption</h1>" in full and 'id="confirm"' in full
    fragment = text(client.get(f"/rewards/{reward.id}/confirm?quantity=2", headers=SWAP))
    assert "<nav" not in fragment and fragment.lstrip().startswith('<section class="card confirm" id="confirm">')


def test_boosted_visit_of_an_import_progress_page_has_the_layout(client, org):
    login(client, org.admin)
    token = csrf_token(client, "/admin/events/import")
    data = {"csrf_token": token, "file": (io.BytesIO(b"external_id,type,user_id,occurred_at\nx1,loan_signed,999999,2026-11-20T10:30:00+08:00\n"), "events.csv")}
    response = client.post("/admin/events/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"], headers=BOOSTED))
    assert "<nav" in html and "Importing events.csv" in html and 'id="import-progress"' in html
