"""Manager analytics: scope by role, exact trend / mix / top / risk numbers, CSV, API, page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from pointsapp import analytics, auth, ledger
from pointsapp.errors import NotAllowed, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import Goal, Rule
from pointsapp.periods import local, utcnow
from tests import factories
from tests.conftest import login


@pytest.fixture(autouse=True)
def _plain_goals(app, monkeypatch):
    """Role defaults the scenario relies on (employees 100, leads 0)."""
    monkeypatch.setitem(app.config, "DEFAULT_WEEKLY_GOALS", {"employee": 100, "lead": 0, "admin": 0})


def weeks_ago(n: int) -> dt.datetime:
    """A moment in the week ``n`` weeks before this one (the same weekday and time)."""
    return utcnow() - dt.timedelta(weeks=n)


def give_weekly(user, points: int, weeks) -> None:
    for back in weeks:
        ledger.post(user.id, points, kind="manual_award", reason=f"Week -{back}", effective_at=weeks_ago(back))
    db.session.commit()


def with_password(user):
    user.password_hash = auth.hash_password(factories.PASSWORD)
    db.session.commit()
    return user


def set_goal(user, points: int) -> None:
    db.session.add(Goal(user_id=user.id, weekly_points=points))
    db.session.commit()


@pytest.fixture()
def scene(org):
    """The scenario of the docstring numbers below (b = weeks back, b0 = this week).

    alice: 100/week in b5..b12, 40/week in b1..b4, 10 in b0; goal 30     → drop
    bob:   60/week in b1..b3 (awards), b0: a 60-point deposit event (qty 2) and a 30-point
           fund sale that was reversed; 60/week in b4..b12; goal 50       → steady
    dave:  45/week in b1..b12, a 10-point compliance deduction in b2; goal 50 → goal missed
    erin:  hired 10 days ago, nothing yet                                  → not judged
    carol (loans): 80/week in b4..b12, nothing since; goal 0               → drop + silent
    wealth lead: 25 in b0 (counted for the team, never judged)
    alice also spent 50 on a reward in b0 and logged 3 customer visits (no rule) in b1.
    """
    org.dave = factories.user("employee", org.wealth, name="Dave")
    org.erin = factories.user("employee", org.wealth, name="Erin", hired_on=local(utcnow()).date() - dt.timedelta(days=10))
    set_goal(org.alice, 30)
    set_goal(org.bob, 50)
    set_goal(org.dave, 50)
    set_goal(org.carol, 0)
    give_weekly(org.alice, 100, range(5, 13))
    give_weekly(org.alice, 40, range(1, 5))
    give_weekly(org.alice, 10, [0])
    give_weekly(org.bob, 60, range(1, 13))
    give_weekly(org.dave, 45, range(1, 13))
    ledger.post(org.dave.id, -10, kind="compliance_deduction", reason="KYC gap", effective_at=weeks_ago(2))
    give_weekly(org.carol, 80, range(4, 13))
    give_weekly(org.wealth_lead, 25, [0])

    rule = Rule(event_type="deposit.new", name="New deposit", points=30)
    db.session.add(rule)
    db.session.flush()
    deposit = factories.recorded_event(org.bob, "deposit.new", occurred_at=weeks_ago(0), quantity=2)
    ledger.post(
        org.bob.id, 60, kind="event_award", reason="Deposit", event_id=deposit.id, rule_id=rule.id, effective_at=weeks_ago(0)
    )
    sale = factories.recorded_event(org.bob, "fund.sale", occurred_at=weeks_ago(0))
    award = ledger.post(org.bob.id, 30, kind="event_award", reason="Fund sale", event_id=sale.id, effective_at=weeks_ago(0))
    ledger.reverse(award, actor_id=org.admin.id, reason="Sale cancelled")
    sale.reversed_at = utcnow()
    factories.recorded_event(org.alice, "customer.visit", occurred_at=weeks_ago(1), quantity=3)
    hold = ledger.place_hold(org.alice.id, 50, reason="Training seat")
    ledger.capture_hold(hold.id, actor_id=org.admin.id, reason="Training seat")
    db.session.commit()
    return org


# --- who may see what -----------------------------------------------------------


def test_employees_may_not_open_analytics(org, client, api_as):
    with pytest.raises(NotAllowed):
        analytics.dashboard(org.alice)
    login(client, org.alice)
    assert client.get("/analytics").status_code == 403
    assert client.get("/analytics/export.csv").status_code == 403
    response = api_as(org.alice).get(f"/analytics/teams/{org.wealth.id}/summary")
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert api_as(org.alice).get("/analytics/teams").status_code == 403


def test_a_lead_sees_their_own_team_and_nothing_beside_or_above_it(org, api_as):
    board = analytics.dashboard(org.wealth_lead)
    assert board.team.id == org.wealth.id
    assert [t.name for t, _depth in board.teams] == ["Wealth Team"]
    assert [m.name for m in board.members] == ["Alice", "Bob", "Wealth Lead"]
    for other in (org.loans, org.branch, org.company):
        with pytest.raises(NotAllowed):
            analytics.dashboard(org.wealth_lead, other.id)
        response = api_as(org.wealth_lead).get(f"/analytics/teams/{other.id}/summary")
        assert response.status_code == 403
    assert api_as(org.wealth_lead).get("/analytics/teams").json == {
        "items": [{"id": org.wealth.id, "name": "Wealth Team", "parent_id": org.branch.id, "depth": 0}]
    }


def test_a_branch_lead_sees_the_branch_and_its_teams(org):
    board = analytics.dashboard(org.branch_lead)
    assert [(t.name, depth) for t, depth in board.teams] == [("Pudong Branch", 0), ("Loans Team", 1), ("Wealth Team", 1)]
    assert [m.name for m in board.members] == ["Alice", "Bob", "Branch Lead", "Carol", "Loans Lead", "Wealth Lead"]
    assert [r.name for r in board.by_team] == ["Loans Team", "Pudong Branch", "Wealth Team"]
    assert analytics.dashboard(org.branch_lead, org.loans.id).team.name == "Loans Team"


def test_an_admin_sees_every_team_or_the_whole_company(org):
    board = analytics.dashboard(org.admin)
    assert board.team is None and board.scope_name == "All teams"
    assert [t.name for t, _d in board.teams] == ["Huaxia Bank", "Pudong Branch", "Loans Team", "Wealth Team"]
    assert "Admin" not in [m.name for m in board.members] and len(board.members) == 6
    assert analytics.dashboard(org.admin, org.loans.id).scope_name == "Loans Team"


def test_unknown_teams_and_ranges_are_refused(org, api_as):
    with pytest.raises(NotFound):
        analytics.dashboard(org.admin, 999_999)
    with pytest.raises(ValidationFailed):
        analytics.dashboard(org.admin, org.wealth.id, weeks=5)
    api = api_as(org.admin)
    assert api.get("/analytics/teams/999999/summary").json["error"]["code"] == "not_found"
    response = api.get(f"/analytics/teams/{org.wealth.id}/summary?weeks=5")
    assert response.status_code == 422 and "weeks" in response.json["error"]["fields"]
    response = api.get(f"/analytics/teams/{org.wealth.id}/summary?weeks=abc")
    assert response.status_code == 422 and "weeks" in response.json["error"]["fields"]


# --- the numbers -------------------------------------------------------------------


def test_the_trend_totals_and_comparison_are_exact(scene):
    board = analytics.dashboard(scene.wealth_lead, weeks=4)
    assert [w.key for w in board.trend] == [key for key, _start in analytics.week_keys(4)]
    assert [(w.points, w.active_members) for w in board.trend] == [(145, 3), (135, 3), (145, 3), (95, 3)]
    assert all(w.start.weekday() == 0 for w in board.trend)
    assert board.total == 520
    assert board.previous_total == 760  # alice 40+300, bob 240, dave 180
    assert board.change_percent == -32
    assert (board.member_count, board.active_members) == (5, 4)  # erin has not earned yet
    assert board.avg_per_member_week == 26.0


def test_the_activity_mix_counts_reversals_against_their_kind_and_ignores_spending(scene):
    board = analytics.dashboard(scene.wealth_lead, weeks=4)
    assert [(r.key, r.points, r.count) for r in board.mix_by_kind] == [
        ("manual_award", 470, 11),
        ("event_award", 60, 3),  # 60 + 30 − 30 (the reversal is counted as an event award)
        ("compliance_deduction", -10, 1),
    ]
    assert sum(r.points for r in board.mix_by_kind) == board.total
    assert [(r.key, r.label, r.count, r.quantity, r.points) for r in board.mix_by_type] == [
        ("deposit.new", "New deposit", 1, 2, 60),
        ("customer.visit", "customer.visit", 1, 3, 0),
    ]  # the reversed fund sale is gone


def test_top_performers_rank_the_range_points(scene):
    board = analytics.dashboard(scene.wealth_lead, weeks=4)
    assert [(m.name, m.total, m.previous_total, m.this_week) for m in board.top] == [
        ("Bob", 240, 240, 60),
        ("Alice", 130, 340, 10),
        ("Dave", 125, 180, 0),  # 45 + (45 − 10) + 45 + 0
        ("Wealth Lead", 25, 0, 25),
    ]


def test_attrition_risk_flags_drops_missed_goals_and_silence_with_reasons(scene):
    board = analytics.dashboard(scene.wealth_lead, weeks=12)
    flagged = {m.name: m for m in board.at_risk}
    assert [m.name for m in board.at_risk] == ["Alice", "Dave"]
    alice, dave = flagged["Alice"], flagged["Dave"]
    assert [r["code"] for r in alice.risks] == ["drop"]
    assert alice.risks[0]["message"] == "Averaged 40 points a week over the last 4 weeks, down from 100 in the 8 weeks before."
    assert (alice.recent_avg, alice.earlier_avg, alice.goal_misses) == (40.0, 100.0, 0)
    assert [r["code"] for r in dave.risks] == ["goal"]
    assert (dave.recent_avg, dave.earlier_avg, dave.goal_misses) == (42.5, 45.0, 4)
    assert dave.risks[0]["message"] == "Missed the weekly goal (50 points) in each of the last 4 weeks."
    members = {m.name: m for m in board.members}
    assert members["Bob"].risks == [] and members["Wealth Lead"].risks == []
    erin = members["Erin"]  # new: weeks before her hire date are not held against her
    assert (erin.risks, erin.tenure_months, erin.earlier_avg, erin.last_points_week) == ([], 0, None, None)


def test_silence_is_flagged_only_while_colleagues_earn(scene):
    board = analytics.dashboard(scene.branch_lead, scene.branch.id, weeks=12)
    carol = next(m for m in board.at_risk if m.name == "Carol")
    assert board.at_risk[0] is carol  # two reasons come first
    assert [r["code"] for r in carol.risks] == ["drop", "silent"]
    assert carol.risks[1]["message"] == "No points in the last 3 weeks while colleagues earned."
    assert carol.last_points_week == analytics.week_keys(5)[0][0]
    # Alone in her team, nobody else earned: silence is not singled out, the drop still is.
    alone = analytics.dashboard(scene.loans_lead, weeks=12)
    assert [(m.name, [r["code"] for r in m.risks]) for m in alone.at_risk] == [("Carol", ["drop"])]


def test_a_new_team_shows_the_empty_state(org, client, api_as):
    team = factories.team("Newly opened branch", org.company)
    board = analytics.dashboard(org.admin, team.id)
    assert board.is_empty and board.total == 0 and board.top == [] and board.mix_by_kind == []
    login(client, org.admin)
    html = client.get(f"/analytics?team_id={team.id}").get_data(as_text=True)
    assert "No members in this team yet." in html
    body = api_as(org.admin).get(f"/analytics/teams/{team.id}/summary?weeks=4").json
    assert body["members"] == [] and body["points"] == 0 and [w["points"] for w in body["trend"]] == [0, 0, 0, 0]


def test_a_lead_without_a_team_is_told_so(org, client):
    lead = factories.user("lead", None, password=factories.PASSWORD, name="Floating Lead")
    html = login(client, lead).get("/analytics").get_data(as_text=True)
    assert "You do not lead a team yet." in html


def test_the_dashboard_runs_a_fixed_number_of_queries_whatever_the_team_size(org):
    def count_queries() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            analytics.dashboard(org.wealth_lead, weeks=26)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    give_weekly(org.alice, 10, range(0, 26))
    small = count_queries()
    for n in range(8):
        give_weekly(factories.user("employee", org.wealth, name=f"Extra {n}"), 5, range(0, 26))
    assert count_queries() == small


# --- CSV, API and the page -------------------------------------------------------------


def test_the_csv_export_holds_the_member_table(scene, client):
    login(client, scene.wealth_lead)
    response = client.get("/analytics/export.csv?weeks=4")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    keys = [key for key, _start in analytics.week_keys(4)]
    assert f'filename="analytics-team-{scene.wealth.id}-{keys[-1]}-4w.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["name"] for r in rows] == ["Alice", "Bob", "Dave", "Erin", "Wealth Lead"]
    alice = rows[0]
    assert {k: alice[k] for k in ("team", "email", "points", "previous_points", "this_week", "weekly_goal")} == {
        "team": "Wealth Team",
        "email": scene.alice.email,
        "points": "130",
        "previous_points": "340",
        "this_week": "10",
        "weekly_goal": "30",
    }
    assert (alice["recent_weekly_avg"], alice["earlier_weekly_avg"], alice["at_risk"], alice["risk_reasons"]) == (
        "40",
        "100",
        "yes",
        "drop",
    )
    assert [alice[k] for k in keys] == ["40", "40", "40", "10"]
    assert [rows[2][k] for k in keys] == ["45", "35", "45", "0"] and rows[2]["risk_reasons"] == "goal"
    assert rows[3]["earlier_weekly_avg"] == "" and rows[3]["tenure_months"] == "0"


def test_csv_cells_cannot_become_spreadsheet_formulas(org, api_as):
    factories.user("employee", org.wealth, name='=HYPERLINK("http://x")')
    text = api_as(org.admin).get(f"/analytics/teams/{org.wealth.id}/export.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text


def test_the_api_summary_returns_the_dashboard_as_json(scene, api_as):
    response = api_as(scene.admin).get(f"/analytics/teams/{scene.wealth.id}/summary?weeks=4")
    assert response.status_code == 200
    body = response.json
    assert (body["team_id"], body["team_name"], body["weeks"]) == (scene.wealth.id, "Wealth Team", 4)
    assert (body["points"], body["previous_points"], body["change_percent"]) == (520, 760, -32)
    assert (body["member_count"], body["active_members"], body["avg_per_member_week"]) == (5, 4, 26.0)
    assert [w["points"] for w in body["trend"]] == [145, 135, 145, 95]
    assert body["mix_by_event_type"][0] == {"key": "deposit.new", "label": "New deposit", "points": 60, "count": 1, "quantity": 2}
    assert [m["name"] for m in body["top_performers"]] == ["Bob", "Alice", "Dave", "Wealth Lead"]
    alice = body["at_risk"][0]
    assert alice["name"] == "Alice" and alice["at_risk"] is True and alice["weekly"] == [40, 40, 40, 10]
    assert alice["risks"][0]["code"] == "drop" and alice["recent_weekly_avg"] == 40.0
    assert body["by_team"] == []
    default = api_as(scene.admin).get(f"/analytics/teams/{scene.wealth.id}/summary").json
    assert default["weeks"] == 12 and len(default["trend"]) == 12


def test_the_page_draws_charts_from_data_blocks_and_shows_the_tables(scene, client):
    response = login(client, scene.wealth_lead).get("/analytics?weeks=4")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "script-src 'self'" in response.headers["Content-Security-Policy"]
    for tag in re.findall(r"<script\b[^>]*>", html):  # nothing inline is meant to run
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert html.count('<figure class="chart"') == 3
    assert "js/charts.js" in html and "vendor/chartjs/chart.umd.min.js" in html
    assert '"data": [145, 135, 145, 95]' in html
    assert "<td>145</td><td>3</td>" in html  # the trend table under the chart
    assert "Averaged 40 points a week over the last 4 weeks" in html
    assert "below 50% of their average" in html
    assert 'class="table-wrap"' in html


def test_filters_swap_only_the_dashboard_fragment_for_htmx(scene, client):
    login(client, with_password(scene.branch_lead))
    response = client.get(f"/analytics?team_id={scene.loans.id}&weeks=26", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and "Loans Team" in html and 'aria-current="true">26 weeks' in html
    boosted = client.get("/analytics", headers={"HX-Request": "true", "HX-Boosted": "true"}).get_data(as_text=True)
    assert "<html" in boosted and "js/charts.js" in boosted


def test_the_default_summary_is_the_company_for_admins_and_the_own_team_for_leads(scene, api_as):
    company = api_as(scene.admin).get("/analytics/summary?weeks=4").json
    assert (company["team_id"], company["team_name"], company["member_count"]) == (None, "All teams", 8)
    assert company["points"] == 520  # carol's last points (b4) are outside a 4-week range
    assert company["previous_points"] == 760 + 4 * 80
    assert [row["name"] for row in company["by_team"]] == ["Wealth Team", "Loans Team", "Pudong Branch"]
    lead = api_as(scene.wealth_lead).get("/analytics/summary?weeks=4").json
    assert (lead["team_id"], lead["points"]) == (scene.wealth.id, 520)
    assert api_as(scene.alice).get("/analytics/summary").status_code == 403
