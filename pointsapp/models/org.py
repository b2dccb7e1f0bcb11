"""Organisation: teams (a tree), users, integration clients, API tokens."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from pointsapp.extensions import db
from pointsapp.models.types import UTCDateTime, enum_check, translations_column, utcnow

ROLES = ("employee", "lead", "admin")
UNRANKED = "role = 'admin' OR NOT is_active_account"  # SQL: admins and deactivated people have no place on a board
# What an integration token may do: post business events, or provision people over SCIM.
INTEGRATION_SCOPES = ("events", "scim")


class Team(db.Model):
    __tablename__ = "team"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"), index=True)
    translations: so.Mapped[dict] = translations_column()
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Identity provisioning (SCIM): the HR system's own id, and when HR removed the team.
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    archived_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    parent: so.Mapped[Team | None] = so.relationship(remote_side=[id], back_populates="children")
    children: so.Mapped[list[Team]] = so.relationship(back_populates="parent")
    members: so.Mapped[list[User]] = so.relationship(back_populates="team")

    __table_args__ = (sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="ck_team_not_own_parent"),)


_SUBTREES = "team_subtrees"  # db.session.info key: team id → its subtree, for the current transaction


def team_subtree_ids(team_id: int) -> set[int]:
    """The team and every team under it: one recursive query per team and transaction (a request asks once)."""
    cache = db.session.info.setdefault(_SUBTREES, {})
    if team_id not in cache:
        tree = sa.select(Team.id).where(Team.id == team_id).cte("tree", recursive=True)
        tree = tree.union_all(sa.select(Team.id).where(Team.parent_id == tree.c.id))
        cache[team_id] = frozenset(db.session.scalars(sa.select(tree.c.id)))
    return set(cache[team_id])


@sa.event.listens_for(so.Session, "after_flush")
def _forget_subtrees_when_teams_change(session, _context) -> None:
    if any(isinstance(row, Team) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_SUBTREES, None)


@sa.event.listens_for(so.Session, "after_commit")
@sa.event.listens_for(so.Session, "after_rollback")
def _forget_subtrees_when_the_transaction_ends(session) -> None:
    session.info.pop(_SUBTREES, None)


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    role: so.Mapped[str] = so.mapped_column(sa.String(16), default="employee")
    team_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("team.id"), index=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(8))
    hired_on: so.Mapped[dt.date | None] = so.mapped_column(sa.Date)
    # The member's user id in WeCom (企业微信), for application messages; set by an admin or SCIM.
    wecom_userid: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    is_active_account: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    session_version: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deactivated_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # Identity provisioning (SCIM): the HR system's ids, and when HR deleted the person
    # (a deleted person is deactivated and no longer listed over SCIM; nothing is removed).
    employee_number: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    external_id: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    deprovisioned_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    # What HR sent about the name and emails, kept as sent, and which attributes it left unset.
    scim_profile: so.Mapped[dict | None] = so.mapped_column(sa.JSON)

    team: so.Mapped[Team | None] = so.relationship(back_populates="members")

    __table_args__ = (
        enum_check("role", ROLES, "ck_user_role"),
        sa.UniqueConstraint("wecom_userid", name="uq_user_wecom_userid"),
        # Leaderboards: the few people without a place, so that a rank is counted without joining everyone,
        sa.Index("ix_user_account_unranked", "id", sqlite_where=sa.text(UNRANKED), postgresql_where=sa.text(UNRANKED)),
        # and the people standing at 0 in name order (by code point, as Python sorts), read a few at a time.
        # (SQLite compares text by code point already; PostgreSQL is given the "C" collation on that column.)
        sa.Index("ix_user_account_board_name", "name", "id", postgresql_ops={"name": 'COLLATE "C"'}),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: deactivated users cannot log in
        return self.is_active_account

    def get_id(self) -> str:
        # The version lets "log out everywhere" / password changes end old sessions.
        return f"{self.id}:{self.session_version}"


class Integration(db.Model):
    """A CRM or risk system that posts events with its own token."""

    __tablename__ = "integration"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), unique=True)
    scope: so.Mapped[str] = so.mapped_column(sa.String(16), default="events", server_default="events")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (enum_check("scope", INTEGRATION_SCOPES, "ck_integration_scope"),)


class ApiToken(db.Model):
    """A bearer token, stored as a SHA-256 hash; belongs to a user or an integration."""

    __tablename__ = "api_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user_account.id"), index=True)
    integration_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("integration.id"), index=True)
    label: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    created_at: so.Mapped[dt.datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[dt.datetime | None] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User | None] = so.relationship()
    integration: so.Mapped[Integration | None] = so.relationship()

    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (integration_id IS NULL)", name="ck_api_token_one_owner"),)
