"""Factories with defaults and overrides; each commits so requests see the rows."""

from __future__ import annotations

import functools
import itertools
import types

from pointsapp import auth, ledger, org
from pointsapp.extensions import db
from pointsapp.models import Integration, Team, User

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def team(name: str | None = None, parent: Team | None = None) -> Team:
    row = Team(name=name or f"Team {next(_seq)}", parent_id=parent.id if parent else None)
    db.session.add(row)
    db.session.commit()
    return row


@functools.cache
def _hash_of(password: str) -> str:
    # argon2id is deliberately slow; hash each test password once per run.
    return auth.hash_password(password)


def user(role: str = "employee", team: Team | None = None, *, password: str | None = None, **fields) -> User:
    n = next(_seq)
    row = org.create_user(
        None,
        email=fields.pop("email", f"user{n}@example.com"),
        name=fields.pop("name", f"User {n}"),
        role=role,
        team_id=team.id if team else None,
        **fields,
    )
    if password is not None:
        row.password_hash = _hash_of(password)
    db.session.commit()
    return row


def integration(name: str | None = None) -> Integration:
    row = org.create_integration(name or f"CRM {next(_seq)}")
    db.session.commit()
    return row


def token_for(principal) -> str:
    if isinstance(principal, Integration):
        token = auth.issue_token(integration=principal)
    else:
        token = auth.issue_token(user=principal)
    db.session.commit()
    return token


def give_points(target: User, points: int, reason: str = "Opening balance", **kwargs) -> None:
    kind = kwargs.pop("kind", "manual_award" if points > 0 else "manual_deduction")
    ledger.post(target.id, points, kind=kind, reason=reason, **kwargs)
    db.session.commit()


def small_org() -> types.SimpleNamespace:
    """company → branch → (wealth, loans); a lead per team and for the branch; members; an admin."""
    company = team("Huaxia Bank")
    branch = team("Pudong Branch", company)
    wealth = team("Wealth Team", branch)
    loans = team("Loans Team", branch)
    return types.SimpleNamespace(
        company=company,
        branch=branch,
        wealth=wealth,
        loans=loans,
        admin=user("admin", password=PASSWORD, name="Admin"),
        branch_lead=user("lead", branch, name="Branch Lead"),
        wealth_lead=user("lead", wealth, password=PASSWORD, name="Wealth Lead"),
        loans_lead=user("lead", loans, name="Loans Lead"),
        alice=user("employee", wealth, password=PASSWORD, name="Alice"),
        bob=user("employee", wealth, name="Bob"),
        carol=user("employee", loans, name="Carol"),
    )


def recorded_event(target: User, type: str, occurred_at=None, quantity: int = 1, *, check_badges: bool = False):
    """Store an Event row directly (no rule, no points); optionally check badges as earning does."""
    import datetime as dt

    from pointsapp import badges
    from pointsapp.models import Event

    row = Event(
        source="test",
        external_id=f"test-{next(_seq)}",
        type=type,
        user_id=target.id,
        occurred_at=occurred_at or dt.datetime.now(dt.timezone.utc),
        quantity=quantity,
        payload_hash="x",
    )
    db.session.add(row)
    db.session.flush()
    if check_badges:
        badges.check_event(row)
    db.session.commit()
    return row


def challenge_form(team: Team, **changes) -> dict:
    """The web launcher's fields for a two-week challenge begun yesterday (no CSRF token)."""
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return {
        "team_id": str(team.id),
        "title": "Sprint",
        "event_type": "fund.sold",
        "target": "5",
        "pool": "100",
        "starts_at": (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(days=13)).strftime("%Y-%m-%dT%H:%M"),
    } | changes
