"""In a 360 px Chromium: points posted through the API appear on the open wallet within seconds, with a toast."""

from __future__ import annotations

import pytest
import requests

from pointsapp import rules
from pointsapp.extensions import db
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_points_posted_through_the_api_show_on_the_open_wallet_without_a_reload(browser, live_server):
    rules.seed_default_rules()
    member = factories.user("employee", password=factories.PASSWORD, name="Chen Jing", locale="zh")
    crm = factories.integration("Core CRM")
    db.session.commit()
    token = factories.token_for(crm)
    db.session.commit()
    factories.give_points(member, 100)

    page = browser()
    sign_in(page, member)
    assert page.locator("#balance .big").inner_text() == "100"
    page.evaluate("window.stillTheSamePage = true")
    answer = requests.post(
        f"{live_server}/api/v1/events",
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
        json={
            "external_id": "LOAN-2026-0042",
            "type": "loan_signed",
            "user_id": member.id,
            "occurred_at": "2026-11-20T09:30:00+08:00",
        },
    )
    assert answer.status_code == 201, answer.text
    toast = page.locator(".toast", has_text="+30 贷款签约")
    toast.wait_for(state="attached", timeout=10_000)
    assert page.locator("#balance .big").inner_text() == "130"
    assert page.locator("#entries .entry").first.locator(".reason").inner_text() == "贷款签约"
    assert page.evaluate("window.stillTheSamePage") is True  # no reload happened
