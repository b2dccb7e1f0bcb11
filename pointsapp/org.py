"""Organisation operations: teams (a tree), users, integrations, CSV import of users."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

import sqlalchemy as sa
from flask_babel import gettext as _

from pointsapp import audit, auth, ledger, names, policy
from pointsapp.errors import Duplicate, NotFound, ValidationFailed
from pointsapp.extensions import db
from pointsapp.limits import get_by_id
from pointsapp.models import Integration, Team, User
from pointsapp.models.org import ROLES
from pointsapp.periods import utcnow

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def create_team(
    actor: User | Integration | None, *, name: str, parent_id: int | None = None, translations: dict | None = None
) -> Team:
    """Create a team, optionally under a parent team (``actor``: an admin, the HR system's integration, or None for the CLI)."""
    if isinstance(actor, User):
        policy.require(policy.can_manage_org(actor), _("Only administrators can create teams."))
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("A team needs a name."), fields={"name": [_("Required.")]})
    if parent_id is not None and get_by_id(Team, parent_id) is None:
        raise NotFound(
            _("There is no team %(parent_id)s.", parent_id=parent_id),
            fields={"parent_id": [_("No team %(parent_id)s.", parent_id=parent_id)]},
        )
    team = Team(name=name, parent_id=parent_id, translations=names.clean_translations(translations))
    db.session.add(team)
    db.session.flush()
    audit.record(actor, "team.created", "team", team.id, {"name": team.name, "parent_id": parent_id})
    return team


def create_user(
    actor: User | Integration | None,
    *,
    email: str,
    name: str,
    role: str = "employee",
    team_id: int | None = None,
    password: str | None = None,
    hired_on: dt.date | None = None,
    locale: str | None = None,
    any_username: bool = False,
) -> User:
    """Create a user with an empty wallet. ``actor``: an admin, the HR system's integration, or None (CLI, seed).

    ``any_username``: SCIM's userName is taken as the sign-in email even when HR's identifier is not an address.
    """
    if isinstance(actor, User):
        policy.require(policy.can_manage_org(actor), _("Only administrators can create users."))
    email = (email or "").strip().lower()
    fields: dict[str, list[str]] = {}
    if not (EMAIL_RE.match(email) or any_username and email and not any(c.isspace() for c in email)):
        fields["email"] = [_("Not a valid email address.")]
    if not (name or "").strip():
        fields["name"] = [_("Required.")]
    if role not in ROLES:
        fields["role"] = [_("Must be one of: %(value)s.", value=", ".join(ROLES))]
    if password:
        try:
            auth.check_password_strength(password)
        except ValidationFailed as error:
            fields.update(error.fields or {"password": [error.message]})
    # Every problem at once (a duplicate email and a short password are reported together).
    duplicate = (
        "email" not in fields and db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email)) is not None
    )
    if fields:
        if duplicate:
            fields["email"] = [_("Already in use.")]
        details = "; ".join(f"{name}: {messages[0]}" for name, messages in fields.items())
        raise ValidationFailed(_("Some fields are not valid (%(details)s).", details=details), fields=fields)
    if team_id is not None and get_by_id(Team, team_id) is None:
        raise NotFound(
            _("There is no team %(team_id)s.", team_id=team_id), fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]}
        )
    if duplicate:
        raise Duplicate(
            _("A user with the email %(email)s already exists.", email=email), fields={"email": [_("Already in use.")]}
        )
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        team_id=team_id,
        hired_on=hired_on,
        locale=locale,
        password_hash=auth.hash_password(password) if password else None,
    )
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except sa.exc.IntegrityError:
        raise Duplicate(
            _("A user with the email %(email)s already exists.", email=email), fields={"email": [_("Already in use.")]}
        ) from None
    ledger.open_wallet(user.id)
    audit.record(actor, "user.created", "user", user.id, {"email": email, "role": role, "team_id": team_id})
    return user


def get_user(actor: User, user_id: int) -> User:
    """A user the actor may see: themselves, their team members if a lead, anyone if admin."""
    user = get_by_id(User, user_id)
    # Someone the actor may not see gets the same answer as an unknown id (no probing for accounts).
    policy.require_visible(
        user is not None and policy.can_view_user(actor, user), _("There is no user %(user_id)s.", user_id=user_id)
    )
    return user


# --- org changes and leavers ----------------------------------------------------
#
# Moving a person between teams changes ``team_id`` only: entries, events and
# period rollups belong to the person, so their history moves with them and a
# team board counts each member's points under their *current* team (see
# ``pointsapp.leaderboard``). Deactivating never deletes anything.

LEAVER_POLICIES = ("keep", "forfeit")
# What a leaver's pending redemptions and forfeit say, stored in the base language (readers see names.system_reason).
LEAVER_NOTE = "Cancelled: the employee has left."


class LastAdmin(ValidationFailed):
    """The change would leave nobody able to administer the bank."""

    code = "last_admin"


def update_user(actor: User | Integration | None, user_id: int, changes: dict) -> User:
    """Change a user's name, role, team or ``active`` (an admin, the HR system's integration, or None for the CLI)."""
    if isinstance(actor, User):
        policy.require(policy.can_manage_org(actor), _("Only administrators can change users."))
    user = get_by_id(User, user_id)
    if user is None:
        raise NotFound(_("There is no user %(user_id)s.", user_id=user_id))
    before = {"name": user.name, "role": user.role, "team_id": user.team_id, "active": user.is_active_account}
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise ValidationFailed(_("A user needs a name."), fields={"name": [_("Required.")]})
        user.name = name[:120]
    if "team_id" in changes and changes["team_id"] != user.team_id:
        team_id = changes["team_id"]
        team = get_by_id(Team, team_id) if team_id is not None else None
        if team_id is not None and (team is None or team.archived_at is not None):
            raise NotFound(
                _("There is no team %(team_id)s.", team_id=team_id),
                fields={"team_id": [_("No team %(team_id)s.", team_id=team_id)]},
            )
        user.team_id = team_id
    if "role" in changes and changes["role"] != user.role:
        if changes["role"] not in ROLES:
            raise ValidationFailed(_("Unknown role."), fields={"role": [_("Must be one of: %(value)s.", value=", ".join(ROLES))]})
        if user.role == "admin":
            _require_another_admin(user)
        user.role = changes["role"]
    if "active" in changes and bool(changes["active"]) and not user.is_active_account:
        reactivate(user)
    after = {"name": user.name, "role": user.role, "team_id": user.team_id, "active": user.is_active_account}
    changed = {key: [before[key], after[key]] for key in before if before[key] != after[key]}
    if changed:
        audit.record(actor, "user.updated", "user", user.id, {"changes": changed})
    if "active" in changes and not changes["active"] and user.is_active_account:
        deactivate(actor, user)
    db.session.flush()
    return user


def _require_another_admin(user: User) -> None:
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(User.role == "admin", User.is_active_account.is_(True), User.id != user.id)
    )
    if not others:
        raise LastAdmin(
            _("This is the last active administrator; make someone else an administrator first."),
            fields={"active": [_("The last active administrator cannot be deactivated or demoted.")]},
        )


def deactivate(actor: User | Integration | None, user: User) -> None:
    """A leaver: sign-in, sessions and tokens end; pending redemptions are cancelled; LEAVER_POLICY applies.

    The wallet row is locked first. A redemption racing with this either
    committed before the lock (and is cancelled here) or waits for it and then
    finds its owner inactive (``rewards.redeem`` checks after its hold).
    """
    from flask import current_app

    from pointsapp import redemptions

    if user.role == "admin":
        _require_another_admin(user)
    ledger.lock_wallet(user.id)
    user.is_active_account = False
    user.deactivated_at = utcnow()
    tokens = auth.revoke_all(user)
    db.session.flush()
    actor_id = actor.id if isinstance(actor, User) else None
    cancelled = [
        redemption_id
        for redemption_id in redemptions.pending_ids_of(user.id)
        if redemptions.withdraw_for_leaver(redemption_id, actor_id=actor_id, note=LEAVER_NOTE)
    ]
    policy_name = current_app.config["LEAVER_POLICY"]
    forfeited = None
    if policy_name == "forfeit":
        forfeited = ledger.forfeit(user.id, actor_id=actor_id, reason="Unspent points forfeited on leaving")
    audit.record(
        actor,
        "user.deactivated",
        "user",
        user.id,
        {
            "leaver_policy": policy_name,
            "tokens_revoked": tokens,
            "cancelled_redemptions": cancelled,
            "forfeited_points": -forfeited.points if forfeited is not None else 0,
        },
    )


def reactivate(user: User) -> None:
    """Let a returning person sign in again; forfeited points stay forfeited."""
    user.is_active_account = True
    user.deactivated_at = None
    user.deprovisioned_at = None


def set_password(actor: User, user: User, new: str) -> None:
    """An administrator sets a member's password (first login, or a forgotten one); their sessions end."""
    policy.require(policy.can_manage_org(actor), _("Only administrators can set passwords."))
    user.password_hash = auth.hash_password(new)
    auth.revoke_all(user)


def set_locale(user: User, locale: str | None) -> None:
    user.locale = locale or None


def create_integration(name: str, *, scope: str = "events") -> Integration:
    """Create an integration client; ``scope`` is what its tokens may do (``events`` or ``scim``)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("An integration needs a name."))
    if db.session.scalar(sa.select(Integration).where(Integration.name == name)) is not None:
        raise Duplicate(_("An integration named %(name)s already exists.", name=name))
    integration = Integration(name=name, scope=scope)
    db.session.add(integration)
    db.session.flush()
    return integration


# --- CSV import of users -------------------------------------------------------


@dataclasses.dataclass
class ImportReport:
    created: list[User] = dataclasses.field(default_factory=list)
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (line, message)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_users(actor: User, data: str) -> ImportReport:
    """Create users from CSV (email, name, role, team): all rows or none.

    ``team`` is a team name or id. Every bad row is reported with its line
    number; if any row is bad nothing is written.
    """
    policy.require(policy.can_manage_org(actor), _("Only administrators can import users."))
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [col for col in ("email", "name", "role") if col not in header]
    if missing:
        report.errors.append((1, f"Missing column(s): {', '.join(missing)}. Expected: email, name, role, team."))
        return report
    teams = {t.name.strip().lower(): t.id for t in db.session.scalars(sa.select(Team))}
    team_ids = set(teams.values())
    seen: set[str] = set()
    rows = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        team_ref = row.get("team", "")
        team_id = None
        if team_ref:
            team_id = int(team_ref) if team_ref.isdigit() and int(team_ref) in team_ids else teams.get(team_ref.lower())
            if team_id is None:
                report.errors.append((line, f"Unknown team '{team_ref}'."))
                continue
        email = row.get("email", "").lower()
        if email in seen:
            report.errors.append((line, f"{email} appears twice in this file."))
            continue
        seen.add(email)
        rows.append((line, dict(email=email, name=row.get("name", ""), role=row.get("role", "") or "employee", team_id=team_id)))
    if not rows and not report.errors:
        report.errors.append((1, "The file has no rows."))
    for line, fields in rows:
        try:
            with db.session.begin_nested():
                report.created.append(create_user(actor, **fields))
        except (ValidationFailed, Duplicate, NotFound) as error:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.fields or {}).items()) or error.message
            report.errors.append((line, detail))
    if report.errors:
        db.session.rollback()
        report.created = []
    return report


WECOM_USERID_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")  # WeCom's user ids: letters, digits, _ - . @


def set_wecom_userid(actor: User, user_id: int, wecom_userid: str | None) -> User:
    """Link a user's WeCom account for WeCom messages (admins); empty unlinks it."""
    policy.require(policy.can_manage_org(actor), _("Only administrators can link WeCom accounts."))
    user = get_by_id(User, user_id)
    if user is None:
        raise NotFound(_("There is no such user."))
    value = (wecom_userid or "").strip() or None
    if value is not None and not WECOM_USERID_RE.match(value):
        raise ValidationFailed(
            _("Some fields are not valid."),
            fields={"wecom_userid": [_("Use the user id from the WeCom admin console (letters, digits, _ - . @; at most 64).")]},
        )
    taken = value is not None and db.session.scalar(sa.select(User.id).where(User.wecom_userid == value, User.id != user.id))
    if taken:
        raise Duplicate(_("This WeCom user id is linked to someone else."), fields={"wecom_userid": [_("Already in use.")]})
    user.wecom_userid = value
    db.session.flush()
    return user
