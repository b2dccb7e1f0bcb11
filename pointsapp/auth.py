"""Passwords (argon2id), API tokens (stored as SHA-256 hashes) and who is calling."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import ApiToken, Integration, User
from pointsapp.periods import utcnow

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so timing does not reveal accounts.
_DUMMY_HASH = _hasher.hash("not-a-real-password-at-all")


def check_password_strength(password: str) -> None:
    """Refuse short passwords and, by zxcvbn's estimate, common or easily guessed ones (password1234, qwertyuiop12)."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        raise ValidationFailed(
            _("Passwords need at least %(minimum)s characters.", minimum=minimum),
            fields={"password": [_("At least %(minimum)s characters.", minimum=minimum)]},
        )
    # Imported here: its word lists take about 13 MB, which a web worker that never sets a
    # password should not carry. zxcvbn refuses input past 72 characters: judge the first 72.
    from zxcvbn import zxcvbn

    if zxcvbn(password[:72])["score"] < current_app.config["PASSWORD_MIN_SCORE"]:
        raise ValidationFailed(
            _("This password is too common or too easy to guess; choose a longer, less predictable one."),
            fields={"password": [_("Too common or too easy to guess.")]},
        )


def hash_password(password: str) -> str:
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password matches; rehashes old-cost hashes as a side effect."""
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, else None."""
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email.strip().lower()))
    if not verify_password(user, password) or not user.is_active:
        return None
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; other sessions and tokens end."""
    if user.password_hash and not verify_password(user, current):
        raise ValidationFailed(_("The current password is wrong."), fields={"current": [_("The current password is wrong.")]})
    user.password_hash = hash_password(new)
    revoke_all(user)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, user: User | None = None, integration: Integration | None = None, label: str = "") -> str:
    """Create a bearer token; only its hash is stored, the plain token is returned once."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            token_hash=_digest(token),
            user_id=user.id if user else None,
            integration_id=integration.id if integration else None,
            label=label,
        )
    )
    db.session.flush()
    return token


def revoke(token: str) -> None:
    """Revoke a bearer token; it stops working at once."""
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all(user: User) -> int:
    """Revoke every token of a user and end their browser sessions; return how many tokens."""
    user.session_version += 1
    return db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    ).rowcount


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or an integration client (CRM / risk system)."""

    user: User | None = None
    integration: Integration | None = None

    @property
    def key(self) -> str:
        """A stable identity, e.g. for idempotency records."""
        return f"user:{self.user.id}" if self.user else f"integration:{self.integration.id}"


def principal_for_token(token: str) -> Principal | None:
    """Who holds this token: its user read in the same query (every API call asks), or its integration."""
    found = db.session.execute(_TOKEN_AND_USER, {"token_hash": _digest(token)}).first()
    if found is None:
        return None
    integration_id, user = found
    if user is not None:
        return Principal(user=user) if user.is_active else None
    return Principal(integration=db.session.get(Integration, integration_id))


# Built once: read on every bearer-authenticated request. The token itself is not loaded: only whose it is.
_TOKEN_AND_USER = (
    sa.select(ApiToken.integration_id, User)
    .outerjoin(User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)
