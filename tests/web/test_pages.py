"""Login, the wallet page and the admin screens, as a browser uses them."""

from __future__ import annotations

import io

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Team, User
from tests import factories
from tests.conftest import csrf_token, login


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_login_renews_the_session_and_logout_ends_it(org, client):
    token = csrf_token(client)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    response = client.post("/login", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
    assert client.get("/wallet").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/wallet")})
    assert client.get("/wallet").status_code == 302


def test_wrong_password_rerenders_the_form_with_a_message(org, client):
    token = csrf_token(client)
    response = client.post("/login", data={"email": org.alice.email, "password": "wrong wrong wrong", "csrf_token": token})
    assert response.status_code == 401
    assert "The email or password is wrong." in response.get_data(as_text=True)


def test_login_never_redirects_to_another_host(org, client):
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/x", data={"email": org.alice.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/wallet"


def test_a_new_advisor_sees_the_empty_state(org, client):
    html = login(client, org.alice).get("/wallet").get_data(as_text=True)
    assert "No points yet." in html


def test_the_wallet_shows_balance_held_and_entries_with_reasons(org, client):
    factories.give_points(org.alice, 130, reason="Quality loan signed", actor_id=org.wealth_lead.id)
    ledger.place_hold(org.alice.id, 30, reason="Remote day")
    db.session.commit()
    html = login(client, org.alice).get("/wallet").get_data(as_text=True)
    assert '<p class="big ">100</p>' in html  # available
    assert "<dt>Held</dt><dd>30</dd>" in html
    assert "Quality loan signed" in html and "+130" in html and "by Wealth Lead" in html


def test_load_more_returns_the_next_entries_as_a_fragment(org, client):
    for n in range(25):
        factories.give_points(org.alice, n + 1, reason=f"Revisit {n + 1}")
    login(client, org.alice)
    page = client.get("/wallet").get_data(as_text=True)
    assert "Revisit 25" in page and "Revisit 5" not in page and "Load more" in page
    import re

    cursor = re.search(r'/wallet/entries\?cursor=([^"&]+)"', page).group(1)
    fragment = client.get(f"/wallet/entries?cursor={cursor}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment
    assert "Revisit 5" in fragment and "Revisit 1<" in fragment and "Load more" not in fragment


def test_the_wallet_is_in_chinese_for_a_chinese_browser(org, client):
    login(client, org.alice)
    html = client.get("/wallet", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_data(as_text=True)
    assert "可用积分" in html and 'lang="zh-Hans"' in html


def test_the_users_own_language_setting_wins_over_the_browser(org, client):
    login(client, org.alice)
    client.post("/language", data={"locale": "zh", "csrf_token": csrf_token(client, "/wallet")})
    assert db.session.get(User, org.alice.id).locale == "zh"
    html = client.get("/wallet", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "可用积分" in html


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
    response = client.post("/admin/users", data={"email": "dai.yu@example.com", "name": "Dai Yu", "role": "employee",
                                                 "team_id": team.id, "csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "dai.yu@example.com")).team_id == team.id


def test_a_bad_user_form_shows_the_errors_next_to_the_fields(org, client):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    response = client.post("/admin/users", data={"email": org.alice.email, "name": "Copy", "role": "employee", "csrf_token": token})
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
    response = client.post("/admin/awards", data={"user_id": org.alice.id, "points": "25", "reason": "Great client feedback", "csrf_token": token})
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


def test_changing_my_password_signs_out_other_devices(org, client, app):
    other_device = app.test_client()
    login(other_device, org.alice)
    login(client, org.alice)
    token = csrf_token(client, "/account")
    wrong = client.post("/account", data={"current": "not it at all", "new": "a brand new password", "csrf_token": token})
    assert wrong.status_code == 422 and "The current password is wrong." in wrong.get_data(as_text=True)
    short = client.post("/account", data={"current": factories.PASSWORD, "new": "short", "csrf_token": token})
    assert short.status_code == 422 and "12 characters" in short.get_data(as_text=True)
    ok = client.post("/account", data={"current": factories.PASSWORD, "new": "a brand new password", "csrf_token": token})
    assert ok.status_code == 302
    assert client.get("/wallet").status_code == 200
    assert other_device.get("/wallet").status_code == 302
    assert api_login(app, org.alice.email, "a brand new password") == 200


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
