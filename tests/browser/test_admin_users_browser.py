"""An admin deactivates a leaver and moves a member from a 360 px phone."""

from __future__ import annotations

import pytest

from pointsapp.extensions import db
from pointsapp.models import User
from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def test_an_admin_edits_users_on_a_phone(org, page):
    db.session.commit()
    sign_in(page, org.admin)
    page.goto("/admin/org")
    row = page.locator(f"#user-{org.bob.id}")
    row.get_by_text("Edit Bob").click()
    row.locator("select[name=team_id]").select_option(str(org.loans.id))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row.locator("details button.primary").click()
    page.get_by_text("Bob saved.").wait_for()

    row = page.locator(f"#user-{org.alice.id}")
    row.get_by_text("Edit Alice").click()
    row.locator("input[name=active]").uncheck()
    row.locator("details button.primary").click()
    page.get_by_text("Alice is deactivated.").wait_for()
    assert page.locator(f"#user-{org.alice.id} .pill").inner_text() == "Deactivated"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    db.session.remove()
    assert db.session.get(User, org.bob.id).team_id == org.loans.id
    assert db.session.get(User, org.alice.id).is_active_account is False
