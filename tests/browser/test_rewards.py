"""In a 360 px Chromium: an advisor browses, redeems with confirmation, and sees the lead's approval."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import Redemption, Reward
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_advisor_redeems_with_confirmation_and_watches_the_lead_approve(browser, org):
    db.session.add(Reward(name="Paid leave day", kind="leave_day", cost=800, stock=None, description="One day off"))
    db.session.add(Reward(name="Certification course", kind="training_seat", cost=1500, stock=3, description=""))
    db.session.commit()
    factories.give_points(org.alice, 1000)

    advisor = browser()
    sign_in(advisor, org.alice)
    advisor.goto("/rewards")
    assert "You need 500 more points" in advisor.locator(".reward", has_text="Certification course").inner_text()
    assert fits_the_phone(advisor)
    advisor.locator(".reward", has_text="Paid leave day").get_by_role("link", name="Redeem").click()
    advisor.wait_for_url("**/confirm")
    advisor.fill("input[name=starts_on]", (dt.date.today() + dt.timedelta(days=10)).isoformat())
    advisor.locator("input[name=starts_on]").dispatch_event("change")
    advisor.get_by_role("button", name="Redeem for 800 points").wait_for()
    assert "200" in advisor.locator(".confirm .facts div", has_text="Available after").inner_text()
    advisor.get_by_role("button", name="Redeem for 800 points").dblclick()
    advisor.wait_for_url("**/rewards/mine")
    assert "Waiting for approval" in advisor.locator(".redemption").first.inner_text()
    assert fits_the_phone(advisor)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1  # the double tap redeemed once
    db.session.remove()  # end the read so the server can write

    lead = browser()
    sign_in(lead, org.wealth_lead)
    lead.goto("/rewards/approvals")
    card = lead.locator(".approval", has_text="Alice")
    card.get_by_role("button", name="Approve").click()
    lead.locator(".approval .reward-head .pill.approved").wait_for()
    assert fits_the_phone(lead)

    advisor.reload()
    assert "Approved" in advisor.locator(".redemption .reward-head").first.inner_text()
    assert "by Wealth Lead" in advisor.locator(".redemption .timeline").first.inner_text()
