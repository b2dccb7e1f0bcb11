"""SCIM 2.0 provisioning: the conformance checker, and what HR's changes do to people (SQLite and PostgreSQL)."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
from typing import Union

import pytest
import sqlalchemy as sa
from pydantic import Field
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_models import ResourceType, ScimProvider
from scim2_tester import Status, check_server

from pointsapp import exports, ledger
from pointsapp.extensions import db
from pointsapp.models import Integration, Redemption, Reward, Team, User
from pointsapp.scim import models as scim_models
from tests import factories
from tests.conftest import ApiClient

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
EXT = "urn:pointsapp:params:scim:schemas:extension:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def scim_token() -> str:
    integration = factories.integration("Workday")
    integration.scope = "scim"
    db.session.commit()
    return factories.token_for(integration)


class Scim:
    """SCIM calls with the HR system's token: ``scim.post("/Users", {...})``."""

    def __init__(self, app, token):
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __getattr__(self, method):
        def call(path, json=None):
            return getattr(self.client, method)(
                f"/scim/v2{path}", json=json, headers=self.headers, content_type="application/scim+json"
            )

        return call


@pytest.fixture()
def scim(app):
    factories.user("admin", name="Local Admin")  # a bank always keeps an administrator of its own
    return Scim(app, scim_token())


def new_user(scim, user_name="chen.jing@bank.example", **fields):
    body = {
        "schemas": [CORE, ENTERPRISE, EXT],
        "userName": user_name,
        "displayName": "Chen Jing",
        ENTERPRISE: {"employeeNumber": "E1001"},
    } | fields
    response = scim.post("/Users", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def patch(scim, path, *operations):
    return scim.patch(path, {"schemas": [PATCH_OP], "Operations": list(operations)})


# --- the conformance checker -------------------------------------------------------


def test_scim2_tester_finds_no_error(app):
    """scim2-tester's every check, over WSGI, on the discovered server; nothing ERROR or CRITICAL.

    The checker fills attributes with random values; ``teamId`` must name a team that
    exists, so the checker is told the ids of three teams, the way an HR system's
    mapping is configured with them. Everything else it learns from the discovery endpoints.
    """
    teams = [factories.team(f"Sub-branch {i}") for i in range(3)]
    factories.user("admin", name="Local Admin")

    class KnownTeams(scim_models.PointsappUser):
        team_id: str | None = Field(None, examples=[str(team.id) for team in teams])

    user_type = ResourceType.from_resource(scim_models.ScimUser[Union[scim_models.EnterpriseUser, KnownTeams]])  # noqa: UP007
    user_type.name = user_type.id = "User"
    group_type = ResourceType.from_resource(scim_models.ScimGroup)
    group_type.name = group_type.id = "Group"
    described = ScimProvider(
        models=[scim_models.ScimUser, scim_models.EnterpriseUser, KnownTeams, scim_models.ScimGroup],
        resource_types=[user_type, group_type],
    )
    client = WSGISCIMClient(
        app, base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {scim_token()}"}, provider=described
    )
    results = check_server(client)
    statuses = collections.Counter(result.status for result in results)
    failures = [
        f"{r.status.name} {r.resource_type} {r.title}: {r.reason}" for r in results if r.status in (Status.ERROR, Status.CRITICAL)
    ]
    print(dict(statuses))
    assert failures == []
    assert statuses[Status.SUCCESS] >= 80  # discovery, CRUD, PATCH add/replace/remove on Users and Groups
    assert {r.resource_type for r in results if r.status == Status.SUCCESS} >= {"User", "Group"}


def test_discovery_publishes_the_extension_and_the_enterprise_employee_number(scim):
    schemas = {s["id"]: s for s in scim.get("/Schemas").json["Resources"]}
    assert {a["name"] for a in schemas[EXT]["attributes"]} == {"role", "teamId", "wecomUserId"}
    assert [a["name"] for a in schemas[ENTERPRISE]["attributes"]] == ["employeeNumber"]
    members = next(a for a in schemas[GROUP]["attributes"] if a["name"] == "members")
    ref = next(a for a in members["subAttributes"] if a["name"] == "$ref")
    assert sorted(ref["referenceTypes"]) == ["Group", "User"]
    types = {t["name"]: t for t in scim.get("/ResourceTypes").json["Resources"]}
    assert types["User"]["endpoint"] == "/Users" and types["Group"]["endpoint"] == "/Groups"
    assert {e["schema"] for e in types["User"]["schemaExtensions"]} == {ENTERPRISE, EXT}
    config = scim.get("/ServiceProviderConfig").json
    assert config["patch"]["supported"] is True and config["filter"]["supported"] is True
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


# --- tokens and scopes -------------------------------------------------------------


def test_only_a_scim_token_may_provision_and_it_may_do_nothing_else(app, scim):
    anonymous = Scim(app, None).get("/Users")
    assert anonymous.status_code == 401 and anonymous.json["schemas"] == [ERROR]
    events_token = factories.token_for(factories.integration("Core CRM"))
    refused = Scim(app, events_token).get("/Users")
    assert refused.status_code == 403 and refused.json["schemas"] == [ERROR]
    user_token = factories.token_for(factories.user("admin"))
    assert Scim(app, user_token).post("/Users", {"schemas": [CORE], "userName": "x@bank.example"}).status_code == 403
    api = ApiClient(app, scim.headers["Authorization"].split()[1])
    event = {"external_id": "e-1", "type": "loan_signed", "user_id": 1, "occurred_at": "2026-11-20T10:00:00+08:00"}
    assert api.post("/events", event).status_code == 403
    assert api.get("/me").status_code == 403
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.email == "x@bank.example")) == 0


def test_create_integration_with_scope_scim_prints_a_token_that_provisions(app):
    result = app.test_cli_runner().invoke(args=["create-integration", "Workday", "--scope", "scim"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert "/scim/v2" in result.output
    assert Scim(app, token).get("/Users").status_code == 200
    assert db.session.scalar(sa.select(Integration.scope).where(Integration.name == "Workday")) == "scim"


# --- users ---------------------------------------------------------------------------


def test_hr_creates_a_user_with_role_team_and_employee_number(scim):
    team = factories.team("Wealth Team")
    body = new_user(scim, **{EXT: {"role": "lead", "teamId": str(team.id), "wecomUserId": "ChenJing"}})
    assert body["userName"] == "chen.jing@bank.example" and body["active"] is True
    assert body[ENTERPRISE] == {"employeeNumber": "E1001"}
    assert body[EXT] == {"role": "lead", "teamId": str(team.id), "wecomUserId": "ChenJing"}
    assert body["groups"][0]["value"] == str(team.id)
    db.session.remove()
    user = db.session.get(User, int(body["id"]))
    assert (user.email, user.name, user.role, user.team_id, user.employee_number, user.wecom_userid) == (
        "chen.jing@bank.example",
        "Chen Jing",
        "lead",
        team.id,
        "E1001",
        "ChenJing",
    )
    assert ledger.wallet_summary(user.id).balance == 0  # a wallet like any user's


def test_users_are_found_by_filter_and_paged(scim):
    for i in range(5):
        new_user(scim, f"advisor{i}@bank.example", displayName=f"Advisor {i}")
    found = scim.get('/Users?filter=userName eq "ADVISOR3@bank.example"').json
    assert found["totalResults"] == 1 and found["Resources"][0]["displayName"] == "Advisor 3"
    page = scim.get("/Users?startIndex=2&count=2").json
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (6, 2, 2)  # and the local admin
    contains = scim.get('/Users?filter=displayName co "Advisor" and active eq true').json
    assert contains["totalResults"] == 5


def test_bad_scim_input_gets_scim_errors_and_writes_nothing(scim):
    new_user(scim)
    cases = [
        (scim.post("/Users", {"schemas": [CORE], "userName": "chen.jing@bank.example"}), 409, "uniqueness"),
        (scim.get("/Users?filter=userName eq"), 400, "invalidFilter"),
        (scim.get('/Users?filter=nickName eq "x"'), 400, "invalidFilter"),
        (scim.post("/Users", {"schemas": [CORE], "userName": "z@bank.example", "bogus": 1}), 400, "invalidSyntax"),
        (scim.post("/Users", {"schemas": [CORE], "userName": 5}), 400, "invalidValue"),
        (scim.post("/Users", {"schemas": [CORE, EXT], "userName": "y@bank.example", EXT: {"role": "boss"}}), 400, "invalidValue"),
        (
            scim.post("/Users", {"schemas": [CORE, EXT], "userName": "y@bank.example", EXT: {"teamId": "999"}}),
            400,
            "invalidValue",
        ),
    ]
    for response, status, scim_type in cases:
        assert response.status_code == status, response.json
        assert response.json["schemas"] == [ERROR] and response.json["scimType"] == scim_type
    db.session.remove()
    emails = set(db.session.scalars(sa.select(User.email)))
    assert not emails & {"z@bank.example", "y@bank.example"}


def test_patch_changes_team_and_role_and_keeps_history(scim):
    wealth, loans = factories.team("Wealth"), factories.team("Loans")
    body = new_user(scim, **{EXT: {"teamId": str(wealth.id)}})
    user_id = int(body["id"])
    factories.give_points(db.session.get(User, user_id), 40)
    response = patch(
        scim,
        f"/Users/{user_id}",
        {"op": "replace", "path": f"{EXT}:teamId", "value": str(loans.id)},
        {"op": "replace", "path": f"{EXT}:role", "value": "lead"},
    )
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    again = scim.get(f"/Users/{user_id}").json
    assert again[EXT]["teamId"] == str(loans.id) and again[EXT]["role"] == "lead"
    db.session.remove()
    user = db.session.get(User, user_id)
    assert (user.team_id, user.role) == (loans.id, "lead")
    assert ledger.wallet_summary(user_id).balance == 40


def test_scim_deactivation_is_the_leaver_process(app, scim):
    body = new_user(scim)
    user = db.session.get(User, int(body["id"]))
    factories.give_points(user, 300)
    reward = Reward(name="Paid leave day", kind="leave_day", cost=100, stock=4, description="")
    db.session.add(reward)
    db.session.commit()
    phone = ApiClient(app, factories.token_for(user))
    assert phone.post("/redemptions", {"reward_id": reward.id, "quantity": 2}).status_code == 201

    response = patch(scim, f"/Users/{user.id}", {"op": "replace", "value": {"active": False}})
    assert response.status_code in (200, 204)
    assert scim.get(f"/Users/{user.id}").json["active"] is False
    assert phone.get("/me").status_code == 401
    db.session.remove()
    assert db.session.scalar(sa.select(Redemption.status).where(Redemption.user_id == user.id)) == "cancelled"
    assert db.session.get(Reward, reward.id).stock == 4
    assert ledger.wallet_summary(user.id).held == 0 and ledger.wallet_summary(user.id).balance == 300


def test_delete_deactivates_hides_from_scim_and_a_new_post_brings_the_person_back(app, scim, monkeypatch):
    monkeypatch.setitem(app.config, "LEAVER_POLICY", "forfeit")
    body = new_user(scim)
    user_id = int(body["id"])
    factories.give_points(db.session.get(User, user_id), 120)
    assert scim.delete(f"/Users/{user_id}").status_code == 204
    assert scim.get(f"/Users/{user_id}").status_code == 404
    assert scim.get('/Users?filter=userName eq "chen.jing@bank.example"').json["totalResults"] == 0
    db.session.remove()
    user = db.session.get(User, user_id)
    assert user is not None and user.is_active_account is False  # nothing is deleted
    assert ledger.wallet_summary(user_id).balance == 0  # LEAVER_POLICY=forfeit applied
    again = new_user(scim)
    assert again["id"] == str(user_id) and again["active"] is True
    assert db.session.get(User, user_id).is_active_account is True


def test_scim_cannot_remove_the_last_active_admin(scim):
    db.session.execute(sa.update(User).values(is_active_account=False))
    db.session.commit()
    body = new_user(scim, **{EXT: {"role": "admin"}})
    response = patch(scim, f"/Users/{body['id']}", {"op": "replace", "path": "active", "value": False})
    assert response.status_code == 400 and "last active administrator" in response.json["detail"]
    assert scim.get(f"/Users/{body['id']}").json["active"] is True


# --- groups ---------------------------------------------------------------------------


def test_groups_are_teams_and_membership_moves_people(scim):
    alice = new_user(scim, "alice@bank.example", displayName="Alice")
    bob = new_user(scim, "bob@bank.example", displayName="Bob")
    response = scim.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": "Pudong Wealth",
            "externalId": "ORG-77",
            "members": [{"value": alice["id"], "type": "User"}],
        },
    )
    assert response.status_code == 201, response.json
    group = response.json
    assert [m["value"] for m in group["members"]] == [alice["id"]]
    db.session.remove()
    team = db.session.get(Team, int(group["id"]))
    assert (team.name, team.external_id) == ("Pudong Wealth", "ORG-77")
    assert db.session.get(User, int(alice["id"])).team_id == team.id

    added = patch(scim, f"/Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": bob["id"]}]})
    assert added.status_code in (200, 204)
    removed = patch(scim, f"/Groups/{group['id']}", {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'})
    assert removed.status_code in (200, 204)
    members = [m["value"] for m in scim.get(f"/Groups/{group['id']}").json["members"]]
    assert members == [bob["id"]]
    assert scim.get(f"/Users/{bob['id']}").json[EXT]["teamId"] == group["id"]
    assert "teamId" not in scim.get(f"/Users/{alice['id']}").json.get(EXT, {})

    assert scim.delete(f"/Groups/{group['id']}").status_code == 204
    assert scim.get(f"/Groups/{group['id']}").status_code == 404
    db.session.remove()
    assert db.session.get(Team, int(group["id"])).archived_at is not None
    assert db.session.get(User, int(bob["id"])).team_id is None


def test_a_group_member_of_type_group_is_a_sub_team(scim):
    branch = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Pudong Branch"}).json
    team = scim.post("/Groups", {"schemas": [GROUP], "displayName": "Loans"}).json
    response = patch(
        scim, f"/Groups/{branch['id']}", {"op": "add", "path": "members", "value": [{"value": team["id"], "type": "Group"}]}
    )
    assert response.status_code in (200, 204)
    db.session.remove()
    assert db.session.get(Team, int(team["id"])).parent_id == int(branch["id"])
    cycle = patch(
        scim, f"/Groups/{team['id']}", {"op": "add", "path": "members", "value": [{"value": branch["id"], "type": "Group"}]}
    )
    assert cycle.status_code == 400 and cycle.json["scimType"] == "invalidValue"


def test_the_hr_export_carries_the_employee_number(scim, org):
    body = new_user(scim)
    user = db.session.get(User, int(body["id"]))
    user.team_id = org.wealth.id
    db.session.commit()
    factories.give_points(user, 500)
    reward = Reward(name="Paid leave day", kind="leave_day", cost=100, description="")
    db.session.add(reward)
    db.session.commit()
    phone = ApiClient(scim.client.application, factories.token_for(user))
    redemption_id = phone.post("/redemptions", {"reward_id": reward.id}).json["id"]
    admin = ApiClient(scim.client.application, factories.token_for(org.admin))
    assert admin.post(f"/redemptions/{redemption_id}/approve").status_code == 200
    month = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    rows = list(csv.DictReader(io.StringIO(exports.hr_csv(org.admin, month))))
    assert [(r["employee_email"], r["employee_number"]) for r in rows] == [("chen.jing@bank.example", "E1001")]


def test_scim_changes_are_audited_with_the_hr_integration_as_actor(scim):
    from pointsapp.models import AuditRecord

    team = factories.team("Wealth")
    body = new_user(scim)
    patch(scim, f"/Users/{body['id']}", {"op": "replace", "path": f"{EXT}:teamId", "value": str(team.id)})
    assert scim.delete(f"/Users/{body['id']}").status_code == 204
    db.session.remove()
    integration_id = db.session.scalar(sa.select(Integration.id).where(Integration.name == "Workday"))
    rows = db.session.scalars(
        sa.select(AuditRecord)
        .where(AuditRecord.subject_id == int(body["id"]), AuditRecord.subject_type == "user")
        .order_by(AuditRecord.id)
    ).all()
    assert [(r.action, r.integration_id, r.actor_id) for r in rows] == [
        ("user.created", integration_id, None),
        ("user.updated", integration_id, None),
        ("user.deactivated", integration_id, None),
    ]
    assert rows[1].details["changes"] == {"team_id": [None, team.id]}
