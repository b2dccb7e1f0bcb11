"""SCIM models: what pointsapp keeps, as published schemas, and users and teams read as resources."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Union

import sqlalchemy as sa
from pydantic import Field
from scim2_models import (
    URN,
    AnyExtension,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Meta,
    Mutability,
    NotFoundException,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)

from pointsapp.extensions import db
from pointsapp.models import Team, User
from pointsapp.models.org import ROLES

EXTENSION_URN = "urn:pointsapp:params:scim:schemas:extension:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_RESULTS = 200


# --- what pointsapp keeps, as SCIM models -----------------------------------------


class Name(ComplexAttribute):
    formatted: str | None = None
    family_name: str | None = None
    given_name: str | None = None


class Email(ComplexAttribute):
    value: str | None = None
    type: str | None = Field(None, examples=["work", "home", "other"])
    primary: bool | None = None


# References name resource types ("User", "Group"), the names SCIM clients see, not Python classes.
class GroupMembership(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only] = None
    ref: Annotated[Reference["Group"] | None, Mutability.read_only] = Field(  # type: ignore[type-arg]  # noqa: F821, UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    display: Annotated[str | None, Mutability.read_only] = None


class EnterpriseUser(Extension):
    """The enterprise extension, reduced to what pointsapp keeps."""

    __schema__ = URN(ENTERPRISE_URN)

    employee_number: str | None = None


class PointsappUser(Extension):
    """Role, team and WeCom id of a pointsapp user."""

    __schema__ = URN(EXTENSION_URN)

    role: str | None = Field(None, examples=list(ROLES))
    team_id: Annotated[str | None, CaseExact.true] = None
    wecom_user_id: Annotated[str | None, Uniqueness.server, CaseExact.true] = None


class ScimUser(Resource[AnyExtension]):
    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:User")

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    active: bool | None = None
    emails: list[Email] | None = None
    groups: Annotated[list[GroupMembership] | None, Mutability.read_only] = None


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference[Union["User", "Group"]] | None, Mutability.immutable] = Field(  # type: ignore[type-arg]  # noqa: F821, UP007, UP037
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User", "Group"])


class ScimGroup(Resource[Any]):
    __schema__ = URN("urn:ietf:params:scim:schemas:core:2.0:Group")

    display_name: Annotated[str | None, Required.true] = None
    members: list[GroupMember] | None = None


def _user_type() -> ResourceType:
    resource_type = ResourceType.from_resource(ScimUser[Union[EnterpriseUser, PointsappUser]])  # noqa: UP007
    resource_type.name = resource_type.id = "User"
    resource_type.description = "People: userName is the sign-in email"
    return resource_type


def _group_type() -> ResourceType:
    resource_type = ResourceType.from_resource(ScimGroup)
    resource_type.name = resource_type.id = "Group"
    resource_type.description = "Teams, with their members"
    return resource_type


CONFIG = ServiceProviderConfig(
    documentation_uri=None,
    patch=Patch(supported=True),
    bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
    filter=Filter(supported=True, max_results=MAX_RESULTS),
    change_password=ChangePassword(supported=False),
    sort=Sort(supported=False),
    etag=ETag(supported=False),
    authentication_schemes=[
        AuthenticationScheme(
            type=AuthenticationScheme.Type.oauthbearertoken,
            name="Bearer token",
            description="An integration token made with: flask --app pointsapp create-integration NAME --scope scim",
            primary=True,
        )
    ],
)
PROVIDER = ScimProvider(
    models=[ScimUser, EnterpriseUser, PointsappUser, ScimGroup],
    resource_types=[_user_type(), _group_type()],
    config=CONFIG,
)
UserModel = PROVIDER.model_for("User")


# --- reading rows as resources -----------------------------------------------------


def _version(payload: dict) -> str:
    return 'W/"' + hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16] + '"'


def _finish(resource: Resource[Any], resource_type: str, created, modified) -> Resource[Any]:
    payload = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    resource.meta = Meta(resource_type=resource_type, created=created, last_modified=modified, version=_version(payload))
    return resource


def user_resource(user: User) -> Resource[Any]:
    """The SCIM representation of a user."""
    profile = user.scim_profile or {}
    unset = set(profile.get("unset", ()))
    resource = UserModel(
        id=str(user.id),
        external_id=user.external_id,
        user_name=user.email,
        display_name=None if "displayName" in unset else user.name,
        name=Name.model_validate(profile["name"]) if profile.get("name") else None,
        active=None if "active" in unset else user.is_active_account,
        emails=[Email.model_validate(e) for e in profile["emails"]] if profile.get("emails") else None,
        groups=[GroupMembership(value=str(user.team_id), ref=f"Groups/{user.team_id}", display=user.team.name)]
        if user.team_id and user.team and user.team.archived_at is None
        else None,
    )
    resource[EnterpriseUser] = EnterpriseUser(employee_number=user.employee_number)
    resource[PointsappUser] = PointsappUser(
        role=None if "role" in unset else user.role,
        team_id=str(user.team_id) if user.team_id else None,
        wecom_user_id=user.wecom_userid,
    )
    return _finish(resource, "User", user.created_at, user.updated_at)


def group_resource(team: Team) -> ScimGroup:
    """The SCIM representation of a team: its members and the teams under it."""
    members = [
        GroupMember(value=str(uid), ref=f"Users/{uid}", type="User")
        for uid in db.session.scalars(
            sa.select(User.id).where(User.team_id == team.id, User.deprovisioned_at.is_(None)).order_by(User.id)
        )
    ]
    members += [
        GroupMember(value=str(tid), ref=f"Groups/{tid}", type="Group")
        for tid in db.session.scalars(
            sa.select(Team.id).where(Team.parent_id == team.id, Team.archived_at.is_(None)).order_by(Team.id)
        )
    ]
    group = ScimGroup(id=str(team.id), external_id=team.external_id, display_name=team.name, members=members or None)
    return _finish(group, "Group", team.created_at, team.updated_at)


def user_row(resource_id: str) -> User:
    """The user a SCIM id names; NotFoundException for unknown and removed (deprovisioned) people."""
    user = db.session.get(User, int(resource_id)) if resource_id.isdigit() and len(resource_id) < 10 else None
    if user is None or user.deprovisioned_at is not None:
        raise NotFoundException(detail=f"There is no user {resource_id}.")
    return user


def team_row(resource_id: str) -> Team:
    """The team a SCIM id names; NotFoundException for unknown and archived teams."""
    team = db.session.get(Team, int(resource_id)) if resource_id.isdigit() and len(resource_id) < 10 else None
    if team is None or team.archived_at is not None:
        raise NotFoundException(detail=f"There is no group {resource_id}.")
    return team
