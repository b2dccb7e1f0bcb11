"""Every page in the menu fits a 360 px phone: nothing scrolls the whole page sideways."""

from __future__ import annotations

import types

import pytest
import sqlalchemy as sa

from pointsapp import demo
from pointsapp.extensions import db
from pointsapp.models import Event
from tests.browser.conftest import PHONE, sign_in

pytestmark = pytest.mark.browser

# Pages reached from other pages rather than the menu, with the content the reviewer found too wide.
EXTRA_PAGES = {"admin": ["/admin/events/import", "/api/docs"], "lead": ["/api/docs"], "advisor": []}
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


def test_no_page_in_the_menu_is_wider_than_a_phone_for_any_role(browser, app):
    logins = demo.seed()  # realistic names, rules, events and standings: the data that made pages too wide
    event_id = db.session.scalar(sa.select(Event.id).order_by(Event.id).limit(1))
    db.session.commit()  # and end the test's transaction: the live server needs the database
    extra = {**EXTRA_PAGES, "admin": [*EXTRA_PAGES["admin"], f"/admin/events/{event_id}"]}
    emails = {role: email for role, email, _ in reversed(logins)}  # the first login of each role

    too_wide = []
    checked = 0
    for role in ("advisor", "lead", "admin"):
        page = browser()
        sign_in(page, types.SimpleNamespace(email=emails[role]), demo.DEMO_PASSWORD)
        page.goto("/more")
        links = page.eval_on_selector_all(".tabbar a, .menu a", "links => links.map(a => a.getAttribute('href'))")
        assert "/wallet" in links and "/more" in links
        for href in dict.fromkeys(links + extra[role]):
            response = page.goto(href)
            assert response.ok, f"{role} {href}: {response.status}"
            width = page.evaluate(PAGE_WIDTH)
            checked += 1
            if width > PHONE["width"]:
                too_wide.append(f"{role} {href}: {width}px")
        page.context.close()

    assert checked >= 40  # every role's menu was walked (admins see the most pages)
    assert too_wide == [], f"wider than the {PHONE['width']} px viewport: {too_wide}"
