"""Where SCIM reads and writes: users and teams, through the organisation's operations.

scim2-server applies PUT and PATCH to the stored resource and hands the whole
new state to ``update``; each write here maps it onto the rows and lets
``pointsapp.org`` do what a change means (a deactivation is the leaver
process, the last admin stays an admin). Operations flush; the request commits
once, or rolls back on any error.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import g
from scim2_models import (
    InvalidValueException,
    Resource,
    ResourceType,
    ScimFilter,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path import CompareOperator, Comparison
from scim2_server.storage import ScimStorage, SearchPage
from scim2_server.utils import parametrize

from pointsapp import audit, org
from pointsapp.errors import DomainError, Duplicate, NotFound
from pointsapp.extensions import db
from pointsapp.models import Team, User
from pointsapp.models.org import ROLES
from pointsapp.periods import utcnow
from pointsapp.scim.models import (
    PROVIDER,
    EnterpriseUser,
    PointsappUser,
    ScimGroup,
    group_resource,
    team_row,
    user_resource,
    user_row,
)

# Filters on these attributes, compared with eq, are answered by an index.
_INDEXED = {
    "User": {"username": User.email, "externalid": User.external_id, "id": User.id},
    "Group": {"displayname": Team.name, "externalid": Team.external_id, "id": Team.id},
}


def _invalid(detail: str) -> InvalidValueException:
    return InvalidValueException(detail=detail)


@contextmanager
def _domain_errors():
    """Domain refusals as SCIM errors: a taken value is 409 uniqueness, any other refusal 400 invalidValue."""
    try:
        yield
    except Duplicate as error:
        raise UniquenessException(detail=error.message) from None
    except (NotFound, DomainError) as error:
        raise _invalid(error.message) from None


class DatabaseStorage(ScimStorage):
    """Users and Groups (teams) in pointsapp's database."""

    def operation(self):
        """Each SCIM operation in a savepoint, so a refused one leaves nothing half-written."""
        return db.session.begin_nested()

    def get(self, resource_type: ResourceType, resource_id: str, *, response_parameters=None) -> Resource[Any]:
        if resource_type.name == "User":
            return user_resource(user_row(resource_id))
        return group_resource(team_row(resource_id))

    def search(self, resource_types: list[ResourceType], search_request: SearchRequest[Any], *, position=None) -> SearchPage:
        found: list[Resource[Any]] = []
        for resource_type in resource_types:
            model = PROVIDER.model_for(resource_type.name)
            scim_filter = search_request.filter
            if scim_filter is not None and len(resource_types) > 1:
                scim_filter = parametrize(ScimFilter, model)(str(scim_filter))
            rows = self._candidates(resource_type.name, scim_filter)
            resources = [user_resource(row) if resource_type.name == "User" else group_resource(row) for row in rows]
            found += [r for r in resources if scim_filter is None or scim_filter.match(r)]
        start = search_request.start_index_0 or 0
        stop = None if search_request.count is None else start + search_request.count
        return SearchPage(len(found), found[start:stop])

    def _candidates(self, name: str, scim_filter) -> list:
        model = User if name == "User" else Team
        if name == "User":
            stmt = sa.select(User).where(User.deprovisioned_at.is_(None)).options(so.joinedload(User.team))
        else:
            stmt = sa.select(Team).where(Team.archived_at.is_(None))
        node = scim_filter.ast if scim_filter is not None else None
        if isinstance(node, Comparison) and node.op == CompareOperator.eq and isinstance(node.value, str):
            column = _INDEXED[name].get(str(node.attr_path).rsplit(":", 1)[-1].lower())
            if column is not None and column.key == "id":
                stmt = stmt.where(column == (int(node.value) if node.value.isdigit() and len(node.value) < 10 else 0))
            elif column is not None:
                stmt = stmt.where(sa.func.lower(column) == node.value.lower())
        return list(db.session.scalars(stmt.order_by(model.id)))

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        if resource_type.name == "User":
            return user_resource(self._write_user(None, resource))
        return group_resource(self._write_team(None, resource))

    def update(self, resource_type: ResourceType, resource: Resource[Any], *, expected_version=None) -> Resource[Any]:
        if resource_type.name == "User":
            return user_resource(self._write_user(user_row(resource.id or ""), resource))
        return group_resource(self._write_team(team_row(resource.id or ""), resource))

    def delete(self, resource_type: ResourceType, resource_id: str, *, expected_version=None) -> None:
        if resource_type.name == "User":
            user = user_row(resource_id)
            with _domain_errors():
                org.update_user(_caller(), user.id, {"active": False})
            user.deprovisioned_at = utcnow()
        else:
            self._archive(team_row(resource_id))
        db.session.flush()

    # --- users -----------------------------------------------------------------

    def _write_user(self, user: User | None, resource: Resource[Any]) -> User:
        """Create (``user`` None) or replace a user from its whole SCIM state."""
        extension = resource[PointsappUser] or PointsappUser()
        email = (resource.user_name or "").strip().lower()
        if not email or len(email) > 254 or any(c.isspace() for c in email):
            raise _invalid("userName must be the person's email: 1 to 254 characters without spaces.")
        role = extension.role or "employee"
        if role not in ROLES:
            raise _invalid(f"role must be one of: {', '.join(ROLES)}.")
        changes = {"name": _display_name(resource, email), "role": role, "team_id": _team_id(extension.team_id)}
        if resource.active is not None:
            changes["active"] = resource.active
        holder = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
        if user is None and holder is not None and holder.deprovisioned_at is not None:
            user, changes["active"] = holder, resource.active is not False  # HR brings a removed person back
        elif holder is not None and holder is not user:
            raise UniquenessException(detail=f"The userName {email} is already taken.")
        creating = user is None or user.deprovisioned_at is not None
        with _domain_errors():
            if user is None:
                user = org.create_user(
                    _caller(), email=email, name=changes["name"], role=role, team_id=changes["team_id"], any_username=True
                )
            user.email = email
            user.deprovisioned_at = None
            org.update_user(_caller(), user.id, changes)
        self._write_user_details(user, resource, extension, creating=creating)
        db.session.flush()
        return user

    def _write_user_details(self, user: User, resource: Resource[Any], extension: PointsappUser, *, creating: bool) -> None:
        enterprise = resource[EnterpriseUser] or EnterpriseUser()
        wecom = (extension.wecom_user_id or "").strip() or None
        if wecom and db.session.scalar(sa.select(User.id).where(User.wecom_userid == wecom, User.id != user.id)):
            raise UniquenessException(detail=f"The wecomUserId {wecom} is already taken.")
        for value, limit, label in (
            (wecom, 64, "wecomUserId"),
            (enterprise.employee_number, 64, "employeeNumber"),
            (resource.external_id, 255, "externalId"),
        ):
            if value is not None and len(value) > limit:
                raise _invalid(f"{label} may have at most {limit} characters.")
        user.wecom_userid = wecom
        user.employee_number = enterprise.employee_number
        user.external_id = resource.external_id
        # Left out of a creation, they take the defaults and read back as such; removed later, they read back absent.
        unset = (
            []
            if creating
            else [
                name
                for name, value in (("displayName", resource.display_name), ("active", resource.active), ("role", extension.role))
                if value is None
            ]
        )
        profile: dict[str, Any] = {"unset": unset}
        if resource.name is not None:
            profile["name"] = resource.name.model_dump(mode="json", by_alias=True, exclude_none=True)
        if resource.emails:
            profile["emails"] = [e.model_dump(mode="json", by_alias=True, exclude_none=True) for e in resource.emails]
        user.scim_profile = profile

    # --- teams -----------------------------------------------------------------

    def _write_team(self, team: Team | None, group: ScimGroup) -> Team:
        """Create (``team`` None) or replace a team, its name and its members, from its whole SCIM state."""
        name = (group.display_name or "").strip()
        if not name or len(name) > 120:
            raise _invalid("displayName must be 1 to 120 characters.")
        if group.external_id is not None and len(group.external_id) > 255:
            raise _invalid("externalId may have at most 255 characters.")
        with _domain_errors():
            team = team or org.create_team(_caller(), name=name)
        team.name, team.external_id = name, group.external_id
        users, teams = set(), set()
        for member in group.members or []:
            value = member.value or str(member.ref or "").rstrip("/").rsplit("/", 1)[-1]
            is_group = member.type == "Group" or "/Groups/" in f"/{member.ref or ''}"
            (teams if is_group else users).add(team_row(value).id if is_group else _member_user(value).id)
        _move_people(team.id, users)
        if team.id in teams or teams & _ancestors(team):
            raise _invalid("A team cannot be a member of itself or of a team under it.")
        db.session.execute(sa.update(Team).where(Team.parent_id == team.id, Team.id.not_in(teams)).values(parent_id=None))
        if teams:
            db.session.execute(sa.update(Team).where(Team.id.in_(teams)).values(parent_id=team.id))
        team.updated_at = utcnow()
        db.session.flush()
        db.session.expire_all()
        return db.session.get(Team, team.id)

    def _archive(self, team: Team) -> None:
        """HR removed the team: its people and sub-teams are detached from it, and it is archived (history stays)."""
        _move_people(team.id, set())
        db.session.execute(sa.update(Team).where(Team.parent_id == team.id).values(parent_id=None))
        team.archived_at = utcnow()


def _caller():
    """The HR system's integration behind this SCIM request (the actor of its audit records)."""
    return g.get("scim_integration")


def _move_people(team_id: int, members: set[int]) -> None:
    """Make ``members`` exactly the people of the team: the others leave it, and every move is audited."""
    leaving = set(db.session.scalars(sa.select(User.id).where(User.team_id == team_id, User.id.not_in(members))))
    joining = dict(
        db.session.execute(
            sa.select(User.id, User.team_id).where(User.id.in_(members), User.team_id.is_distinct_from(team_id))
        ).all()
    )
    for user_id in sorted(leaving):
        audit.record(_caller(), "user.updated", "user", user_id, {"changes": {"team_id": [team_id, None]}})
    for user_id, before in sorted(joining.items()):
        audit.record(_caller(), "user.updated", "user", user_id, {"changes": {"team_id": [before, team_id]}})
    if leaving:
        db.session.execute(sa.update(User).where(User.id.in_(leaving)).values(team_id=None))
    if joining:
        db.session.execute(sa.update(User).where(User.id.in_(joining)).values(team_id=team_id))


def _display_name(resource: Resource[Any], email: str) -> str:
    """The name people see: displayName, else the formatted name, else given and family names, else the email."""
    name = resource.name
    parts = [name.given_name, name.family_name] if name else []
    composed = " ".join(p.strip() for p in parts if p and p.strip())
    chosen = (resource.display_name or "").strip() or (name.formatted if name and name.formatted else "").strip() or composed
    return (chosen or email.split("@")[0])[:120]


def _team_id(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return team_row(value.strip()).id
    except Exception:
        raise _invalid(f"teamId {value} is not a team (use a Group id).") from None


def _member_user(value: str) -> User:
    try:
        return user_row(value)
    except Exception:
        raise _invalid(f"members: there is no user or group {value}.") from None


def _ancestors(team: Team) -> set[int]:
    seen: set[int] = set()
    parent = team.parent_id
    while parent is not None and parent not in seen:
        seen.add(parent)
        parent = db.session.scalar(sa.select(Team.parent_id).where(Team.id == parent))
    return seen
