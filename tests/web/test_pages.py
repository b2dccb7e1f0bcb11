"""What every page does: huge numbers and ids refused kindly, names instead of codes, every field error at once, confirmations that name what happens."""

from __future__ import annotations

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


# --- 2. huge numbers re-render with a field message and write nothing ---------------------

HUGE = "99999999999999999999"
LARGE = "3000000000"  # beyond a 32-bit INTEGER, within a 64-bit one


def _counts():
    from pointsapp.models import Badge, Challenge, Goal, Honor, LedgerEntry, Mentorship, Rule, Team, User

    return {
        m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
        for m in (Badge, Challenge, Goal, Honor, LedgerEntry, Mentorship, Reward, Rule, Team, User)
    }


def _huge_forms(org):
    team = org.alice.team_id
    reward = {"name": "Cash", "kind": "bonus_cash", "cost": "100", "cash_amount": "50", "description": ""}
    challenge = {
        "team_id": str(team),
        "title": "Push",
        "event_type": "loan_signed",
        "target": "5",
        "pool": "100",
        "starts_at": "2026-11-01T09:00",
        "ends_at": "2026-11-20T09:00",
    }
    return [
        ("/admin/awards", {"user_id": str(org.alice.id), "points": "{n}", "reason": "Great work"}, "points"),
        ("/admin/awards", {"user_id": "{n}", "points": "10", "reason": "Great work"}, "user_id"),
        ("/challenges/new", challenge | {"pool": "{n}"}, "pool"),
        ("/challenges/new", challenge | {"target": "{n}"}, "target"),
        ("/challenges/new", challenge | {"team_id": "{n}"}, "team_id"),
        ("/rewards/admin", reward | {"cost": "{n}"}, "cost"),
        ("/rewards/admin", reward | {"kind": "training_seat", "stock": "{n}"}, "stock"),
        ("/rewards/admin", reward | {"limit_per_year": "{n}"}, "limit_per_year"),
        ("/rewards/admin", reward | {"monthly_budget": "{n}"}, "monthly_budget"),
        ("/rewards/admin", reward | {"cash_amount": "{n}"}, "cash_amount"),
        ("/admin/rules", {"event_type": "huge_deal", "name": "Huge deal", "points": "{n}"}, "points"),
        ("/admin/badges", {"name": "Many", "event_type": "loan_signed", "threshold": "{n}", "period": ""}, "threshold"),
        ("/admin/honors", {"user_id": "{n}", "title": "Star", "period_key": "2026-11"}, "user_id"),
        ("/goals", {"user_id": str(org.alice.id), "weekly_points": "{n}"}, None),
        ("/goals", {"user_id": "{n}", "weekly_points": "10"}, None),
        ("/mentorships", {"mentor_id": str(org.alice.id), "mentee_id": "{n}"}, "mentee_id"),
        ("/admin/teams", {"name": "New team", "parent_id": "{n}"}, "parent_id"),
        (
            "/admin/users",
            {"email": "x@example.com", "name": "X", "role": "employee", "team_id": "{n}", "password": ""},
            "team_id",
        ),
        ("/board-links", {"team_id": "{n}", "label": "Lobby"}, None),
    ]


def test_huge_numbers_in_every_numeric_form_field_re_render_with_a_message_and_write_nothing(client, org):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    before = _counts()
    failures = []
    for path, data, field in _huge_forms(org):
        for n in (HUGE, LARGE):
            form = {k: v.replace("{n}", n) for k, v in data.items()} | {"csrf_token": token}
            response = client.post(path, data=form)
            html = response.get_data(as_text=True)
            if response.status_code not in (400, 404, 422) or (field and 'class="field-error"' not in html):
                failures.append((path, field, n, response.status_code, re.findall(r"field-error[^>]*>([^<]*)", html)))
    assert failures == [], "\n".join(map(str, failures))
    db.session.remove()
    assert _counts() == before


def test_huge_ids_in_page_filters_are_not_server_errors(client, org):
    login(client, org.admin)
    for path in (
        "/admin/events?user_id=" + HUGE,
        "/leaderboard?team_id=" + HUGE,
        "/analytics?team_id=" + HUGE,
        f"/rewards/{HUGE}/confirm",
        f"/challenges/{HUGE}",
        f"/admin/events/{HUGE}",
    ):
        response = client.get(path)
        assert response.status_code in (200, 404, 422), (path, response.status_code)


# --- 3. the challenge launcher offers real event types -------------------------------------


def _challenge_form(org, event_type):
    return {
        "team_id": str(org.alice.team_id),
        "title": "Loans push",
        "event_type": event_type,
        "target": "5",
        "pool": "100",
        "starts_at": "2026-11-01T09:00",
        "ends_at": "2026-11-20T09:00",
    }


# --- 4. event CSV import by email ------------------------------------------------------------


# --- 5. bonus cash needs its amount in the admin form ---------------------------------------


# --- 6. badges page: earned badges look earned; my honours are listed ------------------------


# --- 7. no internal codes on pages -----------------------------------------------------------


def test_pages_show_names_not_codes(app, client, org):
    from pointsapp import earning, rules
    from pointsapp.web import period_label

    rules.seed_default_rules()
    integration = factories.integration("Core CRM")
    earning.ingest_events(
        [{"external_id": "c1", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2026-11-20T10:30:00+08:00"}],
        source=f"integration:{integration.id}",
        actor_id=None,
    )
    earning.ingest_events(
        [{"external_id": "a1", "type": "loan_signed", "user_id": org.bob.id, "occurred_at": "2026-11-21T10:30:00+08:00"}],
        source="admin",
        actor_id=org.admin.id,
    )
    db.session.commit()
    login(client, org.admin)
    how = text(client.get("/earn"))
    name = db.session.scalar(sa.select(rules.Rule.name).where(rules.Rule.event_type == "loan_signed"))
    assert f'<td>{name}<br><small class="muted">loan_signed</small></td>' in how
    log = text(client.get("/admin/events"))
    assert "Core CRM" in log and "Admin" in log and "integration:" not in log
    event_id = db.session.scalar(sa.select(earning.Event.id).where(earning.Event.external_id == "c1"))
    assert "<dd>Core CRM</dd>" in text(client.get(f"/admin/events/{event_id}"))
    users = text(client.get("/admin/org"))
    assert ">Team lead</td>" in users and ">Employee</td>" in users and ">lead</td>" not in users
    assert f'<td data-label="User id">{org.alice.id}</td>' in users
    assert [period_label(k) for k in ("2026-W48", "2026-11", "2026-Q4", "2026", "")] == [
        "Week 48, 2026",
        "November 2026",
        "Q4 2026",
        "2026",
        "",
    ]
    board = text(login(app.test_client(), org.alice).get("/leaderboard?period=month"))
    assert "Your place" in board and re.search(r"\(\w+ 20\d\d\)", board)
    assert not re.search(r"\b20\d\d-(W\d\d|\d\d|Q\d)\b", board)


# --- 8. the exports page is for HR, not for the shell ------------------------------------------


# --- 10. an out-of-range quantity is explained ---------------------------------------------------


# --- 11. every field's problem at once ----------------------------------------------------------


def test_rules_and_user_forms_report_every_field_error_together(client, org):
    from pointsapp.models import Rule, User

    login(client, org.admin)
    token = csrf_token(client, "/admin/rules")
    html = text(client.post("/admin/rules", data={"csrf_token": token, "event_type": "", "name": "", "points": ""}), 422)
    errors = re.findall(r'class="field-error">([^<]*)<', html)
    assert len(errors) == 3 and "Enter a whole number, negative for a deduction." in errors
    assert any("lower-case letters" in e for e in errors) and any("Give the rule a name" in e for e in errors)
    html = text(
        client.post(
            "/admin/users",
            data={
                "csrf_token": token,
                "email": org.alice.email,
                "name": "Alice Two",
                "role": "employee",
                "team_id": "",
                "password": "short",
            },
        ),
        422,
    )
    errors = re.findall(r'class="field-error">([^<]*)<', html)
    assert "Already in use." in errors and any("At least" in e for e in errors)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Rule.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.name == "Alice Two")) == 0


# --- 12. confirmations -----------------------------------------------------------------------------


def test_confirmations_name_what_happens_and_to_whom(app, client, org):
    from decimal import Decimal

    from pointsapp import rewards

    cash = make_reward(name="Bonus cash", kind="bonus_cash", cost=100, cash_amount=Decimal("500"))
    make_reward(name="Remote day", kind="remote_day", cost=50, active=False)
    factories.give_points(org.alice, 1000)
    rewards.redeem(org.alice, cash.id, 1)
    db.session.commit()
    login(client, org.admin)
    catalog = text(client.get("/rewards/admin"))
    assert 'data-confirm="Switch off Bonus cash? Nobody can redeem it until you offer it again' in catalog
    assert "Switch off Remote day?" not in catalog  # offering again needs no confirmation
    approvals = text(client.get("/rewards/approvals"))
    assert f'data-confirm="Approve CN¥500.00 bonus cash for {org.alice.name}? It goes to payroll."' in approvals
    token = csrf_token(client, "/admin/awards")
    response = client.post(
        "/admin/awards",
        data={"csrf_token": token, "user_id": org.alice.id, "points": "150", "reason": "Great month"},
        follow_redirects=True,
    )
    assert f"+150 points recorded for {org.alice.name}." in text(response)
    lead = login(app.test_client(), org.wealth_lead)
    html = text(lead.post("/board-links", data={"csrf_token": csrf_token(lead, "/board-links"), "team_id": org.wealth.id}))
    assert 'id="board-url"' in html and 'data-copy="#board-url"' in html and ">Copy link</button>" in html
    script = text(client.get("/static/js/app.js"))
    assert "[data-copy]" in script and "clipboard.writeText" in script
