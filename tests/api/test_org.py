"""Bootstrap and Organisation sections of the API contract."""

from __future__ import annotations

import sqlalchemy as sa

from pointsapp.extensions import db
from pointsapp.models import ApiToken, User, Wallet
from tests import factories


def test_token_from_email_and_password_identifies_the_user(org, api_as):
    response = api_as().post("/auth/token", {"email": org.alice.email, "password": factories.PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["user"]["id"] == org.alice.id and body["user"]["email"] == org.alice.email
    me = api_as().get("/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json["id"] == org.alice.id
    # Only a hash of the token is stored.
    stored = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert body["token"] not in stored


def test_bad_credentials_answer_401_with_the_error_body(org, api_as):
    response = api_as().post("/auth/token", {"email": org.alice.email, "password": "wrong password!"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"
    unknown = api_as().post("/auth/token", {"email": "nobody@example.com", "password": "whatever at all"})
    assert unknown.status_code == 401


def test_requests_without_or_with_a_bad_token_get_401(api_as):
    assert api_as().get("/me").json["error"]["code"] == "unauthorized"
    bad = api_as().get("/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.json["error"]["code"] == "unauthorized"


def test_a_revoked_token_no_longer_works(org, api_as):
    client = api_as(org.alice)
    assert client.get("/me").status_code == 200
    db.session.execute(sa.update(ApiToken).values(revoked_at=sa.func.now()))
    db.session.commit()
    assert client.get("/me").status_code == 401


def test_admin_creates_a_team_tree(org, api_as):
    admin = api_as(org.admin)
    company = admin.post("/teams", {"name": "Head office"})
    assert company.status_code == 201
    branch = admin.post("/teams", {"name": "Jing'an Branch", "parent_id": company.json["id"]})
    assert branch.status_code == 201
    assert branch.json == {"id": branch.json["id"], "name": "Jing'an Branch", "parent_id": company.json["id"], "translations": {}}


def test_a_team_under_an_unknown_parent_is_404(org, api_as):
    response = api_as(org.admin).post("/teams", {"name": "Orphan", "parent_id": 9999})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_only_admins_create_teams_and_users(org, api_as):
    for user in (org.alice, org.wealth_lead):
        client = api_as(user)
        assert client.post("/teams", {"name": "X"}).status_code == 403
        response = client.post("/users", {"email": "x@example.com", "name": "X", "role": "employee"})
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert db.session.scalar(sa.select(User).where(User.email == "x@example.com")) is None


def test_admin_creates_a_user_with_a_wallet_and_hire_date(org, api_as):
    response = api_as(org.admin).post(
        "/users",
        {
            "email": "New.Hire@Example.com",
            "name": "New Hire",
            "role": "employee",
            "team_id": org.loans.id,
            "password": "a long enough password",
            "hired_on": "2026-10-01",
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["email"] == "new.hire@example.com" and body["team_id"] == org.loans.id
    assert body["hired_on"] == "2026-10-01" and "password" not in body
    assert db.session.get(Wallet, body["id"]).balance == 0
    login = api_as().post("/auth/token", {"email": "new.hire@example.com", "password": "a long enough password"})
    assert login.status_code == 200


def test_duplicate_email_is_409_and_writes_nothing(org, api_as):
    response = api_as(org.admin).post("/users", {"email": org.alice.email.upper(), "name": "Again", "role": "employee"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "duplicate"
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.name == "Again")) == 0


def test_user_validation_errors_name_the_fields(org, api_as):
    response = api_as(org.admin).post("/users", {"email": "not-an-email", "name": "", "role": "boss", "password": "short"})
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) >= {"email", "name", "role"}


def test_a_short_password_is_refused(org, api_as):
    response = api_as(org.admin).post(
        "/users", {"email": "p@example.com", "name": "P", "role": "employee", "password": "elevenchars"}
    )
    assert response.status_code == 422
    assert "password" in response.json["error"]["fields"]


def test_passwords_are_hashed_with_argon2id(org):
    assert org.alice.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_who_may_see_a_user(org, api_as):
    assert api_as(org.alice).get(f"/users/{org.alice.id}").json["name"] == "Alice"
    assert api_as(org.wealth_lead).get(f"/users/{org.alice.id}").status_code == 200
    # The branch lead leads every team under the branch.
    assert api_as(org.branch_lead).get(f"/users/{org.carol.id}").status_code == 200
    assert api_as(org.admin).get(f"/users/{org.carol.id}").status_code == 200
    assert api_as(org.alice).get("/users/99999").status_code == 404
    # Someone the caller may not see looks exactly like an unknown id: no probing for who exists.
    for outsider in (org.loans_lead, org.bob):
        hidden = api_as(outsider).get(f"/users/{org.alice.id}")
        assert hidden.status_code == 404
        assert hidden.json == {"error": {"code": "not_found", "message": f"There is no user {org.alice.id}."}}
        assert "Alice" not in hidden.get_data(as_text=True)


def test_integration_tokens_may_not_read_users(org, api_as):
    crm = factories.integration()
    response = api_as(crm).get("/me")
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_a_phone_logs_out_by_revoking_its_own_token(org, api_as):
    phone, laptop = api_as(org.alice), api_as(org.alice)
    response = phone.delete("/auth/token")
    assert response.status_code == 204
    assert phone.get("/me").status_code == 401
    assert laptop.get("/me").status_code == 200
    assert api_as().delete("/auth/token").status_code == 401


def test_me_returns_the_caller(org, api_as):
    response = api_as(org.alice).get("/me")
    assert response.status_code == 200
    assert response.json == {
        "id": org.alice.id,
        "email": org.alice.email,
        "name": "Alice",
        "role": "employee",
        "team_id": org.wealth.id,
        "locale": None,
        "hired_on": None,
        "wecom_userid": None,
        "active": True,
        "employee_number": None,
    }
