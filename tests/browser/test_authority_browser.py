"""Budgets and the audit trail in a phone browser: over-budget amounts stopped before sending; pages fit 360 px."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from pointsapp import audit, budgets
from pointsapp.extensions import db
from pointsapp.models import Challenge, LedgerEntry
from tests import factories
from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser


def test_the_launcher_refuses_an_over_budget_pool_before_submitting(page, org):
    factories.recorded_event(org.alice, "loan_signed")  # a type the launcher offers
    budgets.draw(org.wealth.id, 4000)
    db.session.commit()
    sign_in(page, org.wealth_lead)
    page.goto("/challenges/new")
    assert "Wealth Team 1,000 of 5,000 points" in page.inner_text(".budget-note")
    page.fill("input[name=title]", "Too rich")
    page.select_option("select[name=event_type]", "loan_signed")
    page.fill("input[name=target]", "3")
    page.fill("input[name=pool]", "1500")
    page.click("button.primary")
    message = page.locator("[data-budget-error]")
    message.wait_for(state="visible")
    assert message.inner_text() == "Only 1,000 points are left in the Wealth Team budget this month; choose a smaller pool."
    assert page.url.endswith("/challenges/new")
    page.fill("input[name=pool]", "1000")  # exactly what is left is fine
    assert message.is_hidden()
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/challenges/\d+$"))
    db.session.remove()
    assert db.session.scalars(sa.select(Challenge.pool)).all() == [1000]


def test_the_award_form_refuses_an_over_budget_award_before_submitting(page, org):
    budgets.set_budget(org.admin, org.wealth.id, 100)
    db.session.commit()
    sign_in(page, org.wealth_lead)
    page.goto("/admin/awards")
    page.select_option("select[name=user_id]", str(org.alice.id))
    page.fill("input[name=points]", "150")
    page.fill("input[name=reason]", "Great week")
    page.click("button.primary")
    message = page.locator("[data-budget-error]")
    message.wait_for(state="visible")
    assert "Only 100 points are left in the Wealth Team budget this month" in message.inner_text()
    page.fill("input[name=points]", "-150")  # a deduction draws nothing: no check
    assert message.is_hidden()
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_the_audit_and_budget_pages_fit_a_phone_in_both_languages(page, org, locale):
    long_reason = "Client ceremony for the Zhang family trust, very long reason text " * 4
    for n in range(12):
        audit.record(org.admin, "award.created", "award", n + 1, {"user_id": org.alice.id, "points": 20, "reason": long_reason})
    audit.record(org.admin, "budget.set", "team", org.wealth.id, {"monthly_points": 1_000_000, "previous": 5000})
    org.admin.locale = locale
    db.session.commit()
    sign_in(page, org.admin)
    for path in ("/admin/audit", "/admin/audit?action=award.created&subject_type=award", "/admin/budgets"):
        response = page.goto(path)
        assert response.ok, path
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide in {locale}"
    page.goto("/admin/audit")
    page.select_option("select[name=action]", "budget.set")
    page.click("form.filters button.primary")
    page.wait_for_url("**action=budget.set**")
    assert page.locator("table.audit tbody tr").count() == 1
    assert ("Team budget set" if locale == "en" else "设置团队预算") in page.inner_text("table.audit")
