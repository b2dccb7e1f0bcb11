"""Common and easily guessed passwords are refused wherever a password is set."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pointsapp.demo import DEMO_PASSWORD
from pointsapp.extensions import db
from pointsapp.models import User
from tests import factories
from tests.conftest import csrf_token, login

# Long enough for the 12-character minimum, yet among the first guesses of any attacker.
WEAK = ["password1234", "qwertyuiop12", "123456789012", "iloveyou1234", "aaaaaaaaaaaa", "Password123!"]
MESSAGE = "This password is too common or too easy to guess; choose a longer, less predictable one."


def test_the_documented_passwords_are_strong_enough(app):
    from pointsapp import auth

    with app.test_request_context():
        for password in (factories.PASSWORD, DEMO_PASSWORD, "a strong password"):
            auth.check_password_strength(password)  # raises when refused


@pytest.mark.parametrize("password", WEAK)
def test_the_api_refuses_a_weak_password_for_a_new_user(org, api_as, password):
    response = api_as(org.admin).post("/users", {"email": "p@example.com", "name": "P", "role": "employee", "password": password})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_error"
    assert response.json["error"]["fields"] == {"password": ["Too common or too easy to guess."]}
    assert db.session.scalar(sa.select(User).where(User.email == "p@example.com")) is None


def test_the_admin_cannot_set_a_weak_password(org, client, app):
    login(client, org.admin)
    token = csrf_token(client, "/admin/org")
    before = org.bob.password_hash
    weak = client.post(f"/admin/users/{org.bob.id}/password", data={"password": "password1234", "csrf_token": token})
    assert weak.status_code == 422 and MESSAGE in weak.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, org.bob.id).password_hash == before


def test_changing_my_password_to_a_weak_one_is_refused_and_in_chinese_too(org, client):
    login(client, org.alice)
    token = csrf_token(client, "/account")
    weak = client.post("/account", data={"current": factories.PASSWORD, "new": "qwertyuiop12", "csrf_token": token})
    assert weak.status_code == 422 and "Too common or too easy to guess." in weak.get_data(as_text=True)
    zh = client.post(
        "/account",
        data={"current": factories.PASSWORD, "new": "qwertyuiop12", "csrf_token": token},
        headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert zh.status_code == 422 and "过于常见或容易被猜出。" in zh.get_data(as_text=True)
    # Nothing changed: the old password still signs in.
    login(client.application.test_client(), org.alice)


def test_create_admin_refuses_a_weak_password(cli):
    result = cli.invoke(args=["create-admin", "hr@example.com", "--password", "password1234"])
    assert result.exit_code == 1
    assert "Too common or too easy to guess." in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
    # Resetting an existing admin's password goes through the same check.
    assert cli.invoke(args=["create-admin", "hr@example.com", "--password", "a strong password"]).exit_code == 0
    before = db.session.scalar(sa.select(User.password_hash))
    again = cli.invoke(args=["create-admin", "hr@example.com", "--password", "iloveyou1234"])
    assert again.exit_code == 1 and MESSAGE in again.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash)) == before


def test_a_very_long_password_is_judged_not_refused_with_an_error(org, api_as):
    long = "a strong password " * 20  # 360 characters, past zxcvbn's own 72-character limit
    response = api_as(org.admin).post("/users", {"email": "long@example.com", "name": "L", "role": "employee", "password": long})
    assert response.status_code == 201 and response.json["email"] == "long@example.com"
    weak = api_as(org.admin).post("/users", {"email": "weak@example.com", "name": "W", "role": "employee", "password": "a" * 300})
    assert weak.status_code == 422 and weak.json["error"]["fields"] == {"password": ["Too common or too easy to guess."]}
