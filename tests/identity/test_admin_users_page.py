"""The admin users page changes name, role, team and active, as PATCH /users/{id} does."""

from __future__ import annotations

from pointsapp.extensions import db
from pointsapp.models import User
from tests.conftest import csrf_token, login


def _edit(client, user, **fields):
    data = {"name": user.name, "role": user.role, "team_id": str(user.team_id or ""), "active": "1"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    data["csrf_token"] = csrf_token(client, "/admin/org")
    return client.post(f"/admin/users/{user.id}", data=data)


def test_an_admin_moves_and_renames_a_member_from_the_users_page(org, client):
    login(client, org.admin)
    page = client.get("/admin/org").get_data(as_text=True)
    assert f'action="/admin/users/{org.bob.id}"' in page and "Edit Bob" in page
    response = _edit(client, org.bob, name="Bob Zhang", role="lead", team_id=str(org.loans.id))
    assert response.status_code == 302
    db.session.remove()
    bob = db.session.get(User, org.bob.id)
    assert (bob.name, bob.role, bob.team_id, bob.is_active_account) == ("Bob Zhang", "lead", org.loans.id, True)
    assert "Bob Zhang saved." in client.get("/admin/org").get_data(as_text=True)


def test_unticking_active_deactivates_and_the_page_marks_the_leaver(org, client, app):
    login(client, org.admin)
    alice_phone = app.test_client()
    login(alice_phone, org.alice)
    assert _edit(client, org.alice, active=None).status_code == 302
    page = client.get("/admin/org").get_data(as_text=True)
    assert "Alice is deactivated." in page and "Deactivated" in page
    assert alice_phone.get("/wallet").status_code == 302  # her session ended
    assert _edit(client, org.alice).status_code == 302  # ticking it again restores sign-in
    assert db.session.get(User, org.alice.id).is_active_account is True
    login(alice_phone, org.alice)


def test_the_last_admin_cannot_untick_themselves(org, client):
    login(client, org.admin)
    response = _edit(client, org.admin, active=None)
    assert response.status_code == 422
    assert "last active administrator" in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.get(User, org.admin.id).is_active_account is True


def test_members_cannot_post_user_changes(org, client):
    login(client, org.alice)
    response = client.post(
        f"/admin/users/{org.bob.id}", data={"name": "X", "role": "admin", "csrf_token": csrf_token(client, "/wallet")}
    )
    assert response.status_code == 403
    db.session.remove()
    assert db.session.get(User, org.bob.id).role == "employee"
