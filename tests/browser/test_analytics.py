"""The manager dashboard in headless Chromium at 360 px: charts under CSP, boosted navigation, filters."""

from __future__ import annotations

import datetime as dt

import pytest

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.periods import utcnow
from tests import factories

pytestmark = pytest.mark.browser

DRAWN = "() => [...document.querySelectorAll('figure.chart canvas')].filter(c => window.Chart && Chart.getChart(c)).length"


def test_charts_draw_after_boosted_navigation_and_filter_changes_without_csp_errors(page, org):
    for back in range(6):
        moment = utcnow() - dt.timedelta(weeks=back)
        ledger.post(org.alice.id, 40 + back * 10, kind="manual_award", reason="Fund sale", effective_at=moment)
        deposit = factories.recorded_event(org.bob, "deposit.new", occurred_at=moment)
        ledger.post(org.bob.id, 30, kind="event_award", reason="Deposit", event_id=deposit.id, effective_at=moment)
    db.session.commit()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/login")
    page.fill("input[name=email]", org.wealth_lead.email)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/wallet")
    page.click("nav.tabbar a[href='/more']")
    page.click("a[href='/analytics']")  # boosted: only the body is swapped
    page.wait_for_url("**/analytics")
    page.wait_for_function(DRAWN + " === 3")
    assert page.evaluate("() => Chart.getChart(document.querySelector('figure.chart canvas')).data.datasets[0].data.length") == 12

    page.click("nav.segmented a:has-text('4 weeks')")  # an htmx fragment swap
    page.wait_for_url("**/analytics?*weeks=4*")
    page.wait_for_function(
        "() => { const c = document.querySelector('figure.chart canvas'); return window.Chart && Chart.getChart(c) && Chart.getChart(c).data.labels.length === 4; }"
    )
    assert page.evaluate(DRAWN) == 3
    assert page.inner_text("table.numbers tbody tr:last-child td:nth-child(3)") == "70"  # this week: 40 + 30

    wrap = page.query_selector("table.members").evaluate(
        "t => [t.parentElement.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth]"
    )
    assert wrap[2] <= 360  # the page never scrolls sideways (the table fits or scrolls inside its wrapper)
    page.reload()
    page.wait_for_function(DRAWN + " === 3")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert not [p for p in problems if "map" not in p], problems
