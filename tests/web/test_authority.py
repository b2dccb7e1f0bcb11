"""Budget and audit pages as a browser uses them: the admin budgets page, the audit trail and its CSV, budgets on the forms."""

from __future__ import annotations

import csv
import datetime as dt
import io

import sqlalchemy as sa

from pointsapp import audit, budgets, demo
from pointsapp.extensions import db
from pointsapp.models import AuditRecord, BudgetReservation, Challenge, LedgerEntry, TeamBudget, User
from tests import factories
from tests.conftest import csrf_token, login


def test_the_budgets_page_lists_every_team_with_budget_used_and_remaining(org, client):
    budgets.draw(org.wealth.id, 1200)
    budgets.set_budget(org.admin, org.loans.id, 800)
    db.session.commit()
    html = login(client, org.admin).get("/admin/budgets").get_data(as_text=True)
    for team in (org.company, org.branch, org.wealth, org.loans):
        assert f'id="budget-{team.id}"' in html and team.name in html
    wealth_row = html.split(f'id="budget-{org.wealth.id}"')[1].split("</tr>")[0]
    assert ">5,000<" in wealth_row and ">1,200<" in wealth_row and ">3,800<" in wealth_row and "(default)" in wealth_row
    loans_row = html.split(f'id="budget-{org.loans.id}"')[1].split("</tr>")[0]
    assert ">800<" in loans_row and "(default)" not in loans_row


def test_an_admin_edits_a_budget_on_the_page_and_it_is_audited(org, client):
    login(client, org.admin)
    response = client.post(
        f"/admin/budgets/{org.wealth.id}", data={"monthly_points": "2500", "csrf_token": csrf_token(client, "/admin/budgets")}
    )
    assert response.status_code == 302
    assert "Budget of Wealth Team set to 2,500 points a month." in client.get("/admin/budgets").get_data(as_text=True)
    assert db.session.get(TeamBudget, org.wealth.id).monthly_points == 2500
    [record] = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "budget.set")).all()
    assert (record.actor_id, record.subject_id, record.details["monthly_points"]) == (org.admin.id, org.wealth.id, 2500)


def test_bad_budgets_on_the_page_say_what_is_wrong_and_change_nothing(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/budgets")
    for bad in ("-5", "1.5", "lots", ""):
        response = client.post(f"/admin/budgets/{org.wealth.id}", data={"monthly_points": bad, "csrf_token": token})
        assert response.status_code == 422, bad
        assert "Enter a whole number of points from 0 to 1,000,000,000." in response.get_data(as_text=True)
    assert db.session.get(TeamBudget, org.wealth.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "budget.set")) == 0


def test_only_admins_open_the_budget_and_audit_pages(org, client):
    login(client, org.wealth_lead)
    for path in ("/admin/budgets", "/admin/audit", "/admin/audit.csv"):
        assert client.get(path).status_code == 403, path
    token = csrf_token(client, "/wallet")
    assert client.post(f"/admin/budgets/{org.wealth.id}", data={"monthly_points": "9", "csrf_token": token}).status_code == 403


def test_the_audit_page_filters_by_action_and_pages_newest_first(org, client, api_as):
    for points in range(1, 56):
        api_as(org.admin).post("/awards", {"user_id": org.alice.id, "points": points, "reason": f"Deal {points}"})
    api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 900})
    login(client, org.admin)
    html = client.get("/admin/audit?action=award.created").get_data(as_text=True)
    assert html.count('<code class="muted">award.created</code>') == 50
    assert "points: 55" in html and "points: 6;" in html and "points: 5;" not in html
    assert "budget.set</code>" not in html
    older = html.split('href="')[[i for i, part in enumerate(html.split('href="')) if part.startswith("/admin/audit?cursor=")][0]]
    next_page = client.get(older.split('"')[0].replace("&amp;", "&")).get_data(as_text=True)
    assert next_page.count("award.created</code>") == 5 and "points: 1;" in next_page and "Older records" not in next_page
    team = client.get(f"/admin/audit?subject_type=team&subject_id={org.wealth.id}").get_data(as_text=True)
    assert "Team budget set" in team and "award.created</code>" not in team
    assert "No audit records match these filters." in client.get("/admin/audit?actor_id=999999").get_data(as_text=True)
    assert client.get("/admin/audit?actor_id=abc&subject_id=-1").status_code == 200  # nonsense filters match nothing


def test_the_audit_page_reads_in_chinese(org, client):
    audit.record(org.admin, "budget.set", "team", org.wealth.id, {"monthly_points": 10})
    org.admin.locale = "zh"
    db.session.commit()
    html = login(client, org.admin).get("/admin/audit").get_data(as_text=True)
    assert "审计记录" in html and "设置团队预算" in html and "下载 CSV" in html
    assert "团队预算" in client.get("/admin/budgets").get_data(as_text=True)


def test_the_audit_page_shows_chinese_in_nested_details_as_chinese_and_still_escapes_markup(org, client):
    details = {"translations": {"zh": {"name": "贷款签约"}}, "names": ["理财", "<b>x</b>"]}
    audit.record(org.admin, "rule.published", "rule", 1, details)
    db.session.commit()
    html = login(client, org.admin).get("/admin/audit").get_data(as_text=True)
    assert "{&#34;zh&#34;: {&#34;name&#34;: &#34;贷款签约&#34;}}" in html
    assert "&#34;理财&#34;" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert "\\u" not in html and "<b>x</b>" not in html


def test_the_audit_csv_keeps_the_filters_and_neutralises_formulas(org, client, api_as):
    sneaky = factories.user("admin", name='=HYPERLINK("http://evil.example")')
    api_as(sneaky).post("/awards", {"user_id": org.alice.id, "points": 5, "reason": "=1+1"})
    api_as(org.admin).put(f"/teams/{org.wealth.id}/budget", {"monthly_points": 900})
    response = login(client, org.admin).get("/admin/audit.csv?action=award.created")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="audit.csv"' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["action"] for r in rows] == ["award.created"]
    assert rows[0]["actor"] == '\'=HYPERLINK("http://evil.example")' and rows[0]["actor_id"] == str(sneaky.id)
    assert '"reason": "=1+1"' in rows[0]["details"] and rows[0]["details"].startswith("{")


def test_the_launcher_shows_the_remaining_budget_and_marks_the_pool_for_the_check(org, client):
    budgets.draw(org.wealth.id, 1200)
    db.session.commit()
    html = login(client, org.wealth_lead).get("/challenges/new").get_data(as_text=True)
    assert "Team budget left this month:" in html and "Wealth Team 3,800 of 5,000 points" in html
    assert "data-budget-source" in html and 'data-remaining="3800"' in html and "data-budget-input" in html
    assert "Only 3,800 points are left in the Wealth Team budget this month; choose a smaller pool." in html
    assert "you are not paid from it" in html


def test_an_over_budget_pool_sent_anyway_is_refused_on_the_pool_field(org, client):
    login(client, org.wealth_lead)
    now = dt.datetime.now()
    form = {
        "team_id": org.wealth.id,
        "title": "Push",
        "event_type": "loan_signed",
        "target": "5",
        "pool": "6000",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
        "csrf_token": csrf_token(client, "/challenges/new"),
    }
    factories.recorded_event(org.alice, "loan_signed")  # a known event type
    response = client.post("/challenges/new", data=form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The budget of Wealth Team has 5,000 points left this month; 6,000 points are more than that." in html
    assert db.session.scalar(sa.select(sa.func.count(Challenge.id))) == 0


def test_the_award_form_shows_budgets_to_leads_and_not_to_admins(org, client):
    branch_lead = factories.user("lead", org.branch, password=factories.PASSWORD, name="Branch Lead Two")
    html = login(client, branch_lead).get("/admin/awards").get_data(as_text=True)
    assert "Wealth Team 5,000 of 5,000 points" in html and "Loans Team 5,000 of 5,000 points" in html
    assert "award fewer points or ask HR" in html
    admin_page = factories.user("admin", password=factories.PASSWORD, name="HR two")
    admin_client = client.application.test_client()
    admin_html = login(admin_client, admin_page).get("/admin/awards").get_data(as_text=True)
    assert "draw nothing from team budgets" in admin_html and "data-remaining" not in admin_html


def test_an_over_budget_award_on_the_form_is_refused_on_the_points_field(org, client):
    budgets.set_budget(org.admin, org.wealth.id, 100)
    db.session.commit()
    login(client, org.wealth_lead)
    token = csrf_token(client, "/admin/awards")
    response = client.post(
        "/admin/awards", data={"user_id": org.alice.id, "points": "150", "reason": "Help", "csrf_token": token}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The budget of Wealth Team has 100 points left this month; 150 points are more than that." in html
    assert db.session.scalar(sa.select(sa.func.count(LedgerEntry.id))) == 0


def test_export_audit_command_writes_the_csv(org, app, api_as):
    api_as(org.wealth_lead).post("/awards", {"user_id": org.alice.id, "points": 25, "reason": "Help"})
    db.session.remove()
    result = app.test_cli_runner().invoke(args=["export-audit", "--action", "award.created"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["action"], r["actor_id"], r["subject_type"]) for r in rows] == [
        ("award.created", str(org.wealth_lead.id), "award")
    ]
    bad = app.test_cli_runner().invoke(args=["export-audit", "--since", "yesterday"])
    assert bad.exit_code == 1 and "--since must be a date" in bad.output


def test_the_demo_sets_budgets_and_its_audit_trail_comes_from_its_own_actions(app):
    demo.seed()
    db.session.commit()
    records = db.session.scalars(sa.select(AuditRecord)).all()
    by_action: dict[str, list[AuditRecord]] = {}
    for r in records:
        by_action.setdefault(r.action, []).append(r)
    assert len(by_action["budget.set"]) == 3
    assert db.session.scalar(sa.select(sa.func.count(TeamBudget.team_id))) == 3
    # Each award record is a real manual award, each challenge record a real challenge, each user record a real user.
    awards = db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.kind == "manual_award")).all()
    assert sorted(r.subject_id for r in by_action["award.created"]) == sorted(e.id for e in awards) and awards
    assert {r.subject_id for r in by_action["challenge.created"]} == set(db.session.scalars(sa.select(Challenge.id)))
    assert len(by_action["user.created"]) == db.session.scalar(sa.select(sa.func.count(User.id)))
    assert {"rule.created", "event.reversed", "redemption.approved", "challenge.closed"} <= set(by_action)
    [closed] = by_action["challenge.closed"]
    assert closed.details["status"] == "failed" and closed.details["returned_to_budget"] == 300
    lead_pools = db.session.scalars(sa.select(BudgetReservation)).all()
    assert len(lead_pools) == 3 and sum(r.returned for r in lead_pools) == 300
