"""The admin screens, as a browser uses them: teams, users, CSV import, awards, passwords."""

from __future__ import annotations

import io

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Team, User
from tests.conftest import csrf_token, login


def test_admin_pages_are_for_admins_only(org, client):
    login(client, org.alice)
    assert client.get("/admin/org").status_code == 403


def test_admin_creates_a_team_and_a_user_from_the_pages(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    response = client.post("/admin/teams", data={"name": "Card Sales Team", "parent_id": org.branch.id, "csrf_token": token})
    assert response.status_code == 302
    team = db.session.scalar(sa.select(Team).where(Team.name == "Card Sales Team"))
    assert team.parent_id == org.branch.id
    response = client.post(
        "/admin/users",
        data={"email": "dai.yu@example.com", "name": "Dai Yu", "role": "employee", "team_id": team.id, "csrf_token": token},
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "dai.yu@example.com")).team_id == team.id


def test_a_bad_user_form_shows_the_errors_next_to_the_fields(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    response = client.post(
        "/admin/users", data={"email": org.alice.email, "name": "Copy", "role": "employee", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "Already in use." in response.get_data(as_text=True)


def test_csv_import_creates_every_row(org, client):
    login(client, org.admin)
    data = "email,name,role,team\nli.na@example.com,Li Na,employee,Wealth Team\nfang.yu@example.com,Fang Yu,lead,Loans Team\n"
    response = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data.encode()), "users.csv"), "csrf_token": csrf_token(client, "/admin/org")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    fang = db.session.scalar(sa.select(User).where(User.email == "fang.yu@example.com"))
    assert (fang.role, fang.team_id) == ("lead", org.loans.id)


def test_csv_import_with_a_bad_row_reports_every_problem_and_writes_nothing(org, client):
    login(client, org.admin)
    data = (
        "email,name,role,team\n"
        "ok.one@example.com,Ok One,employee,Wealth Team\n"
        "broken,No Email,employee,Wealth Team\n"
        "ok.two@example.com,Ok Two,chief,Wealth Team\n"
        "ok.three@example.com,Ok Three,employee,Atlantis\n"
    )
    response = client.post(
        "/admin/users/import",
        data={"file": (io.BytesIO(data.encode()), "users.csv"), "csrf_token": csrf_token(client, "/admin/org")},
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 3" in html and "Not a valid email address." in html
    assert "Line 4" in html and "Must be one of" in html
    assert "Line 5" in html and "Unknown team" in html
    assert db.session.scalar(sa.select(User).where(User.email == "ok.one@example.com")) is None


def test_lead_awards_points_from_the_form(org, client):
    login(client, org.wealth_lead)
    token = csrf_token(client, "/admin/awards")
    response = client.post(
        "/admin/awards", data={"user_id": org.alice.id, "points": "25", "reason": "Great client feedback", "csrf_token": token}
    )
    assert response.status_code == 302
    assert ledger.wallet_summary(org.alice.id).balance == 25


def test_award_form_requires_a_reason_and_writes_nothing_without_it(org, client):
    login(client, org.wealth_lead)
    token = csrf_token(client, "/admin/awards")
    response = client.post("/admin/awards", data={"user_id": org.alice.id, "points": "25", "reason": " ", "csrf_token": token})
    assert response.status_code == 422
    assert "A reason is required" in response.get_data(as_text=True)
    assert ledger.wallet_summary(org.alice.id).balance == 0


def test_award_form_offers_only_members_the_lead_may_award(org, client):
    login(client, org.wealth_lead)
    html = client.get("/admin/awards").get_data(as_text=True)
    assert "Alice" in html and "Bob" in html and "Carol" not in html


def api_login(app, email, password):
    return app.test_client().post("/api/v1/auth/token", json={"email": email, "password": password}).status_code


def test_admin_sets_a_first_password_for_a_member(org, client, app):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    short = client.post(f"/admin/users/{org.bob.id}/password", data={"password": "tiny", "csrf_token": token})
    assert short.status_code == 422 and "12 characters" in short.get_data(as_text=True)
    ok = client.post(f"/admin/users/{org.bob.id}/password", data={"password": "bob's first password", "csrf_token": token})
    assert ok.status_code == 302
    assert api_login(app, org.bob.email, "bob's first password") == 200
