"""Passwords (argon2id), API tokens (stored as SHA-256 hashes) and who is calling."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from pointsapp import bulk
from pointsapp.errors import ValidationFailed
from pointsapp.extensions import db
from pointsapp.models import ApiToken, Integration, User
from pointsapp.page_cache import TimedCache, app_cache
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
    """Who holds this token (every API call asks): its user (``signed_in_user``), or its integration.

    One statement reads the token's owner together with the user's row, which
    ``signed_in_user`` then takes as its own read.
    """
    found = _TOKEN_OWNER.first(_digest(token))
    if found is None:
        return None
    user_id, integration_id, *user_row = found
    if user_id is not None:
        user = signed_in_user(user_id, tuple(user_row))
        return Principal(user=user) if user is not None and user.is_active else None
    return Principal(integration=db.session.get(Integration, integration_id))


# Built once: read on every bearer-authenticated request. Whose the token is (not the token row), with the user's row.
_token = ApiToken.__table__
_TOKEN_OWNER = bulk.Lookup(
    sa.select(_token.c.user_id, _token.c.integration_id, *User.__table__.columns)
    .select_from(_token.outerjoin(User.__table__, User.__table__.c.id == _token.c.user_id))
    .where(_token.c.token_hash == sa.bindparam("token_hash"), _token.c.revoked_at.is_(None)),
    ("token_hash",),
)


def signed_in_user(user_id: int, row: tuple | None = None) -> User | None:
    """The user of a session or a token, as an object of this request's session; None when there is no such user.

    Every request asks, and loading the user through the ORM was the largest
    single cost of a wallet page served from its cache (more than the page's own
    reads). So the row is read as the driver gives it (``bulk.Lookup``), and when
    it is exactly the row this worker last kept for that user, every column alike,
    the object kept with it is copied into the session without another query
    (``Session.merge(load=False)``, as though just loaded). A changed row (a new
    role, name, session version, a deactivation) is loaded afresh. The copy kept is
    never attached to a session; the request changes its own copy, saved as any
    loaded object is.

    The object kept must be the row kept. SQLite's transaction reads both from one
    snapshot. On PostgreSQL each statement sees the latest commit, so a load is kept
    only when its values equal the row read just before (the driver's times are in
    the connection's zone, the object's in UTC: the same instants compare equal);
    otherwise it serves this request alone. The object depends on the row alone, so a
    row that changes and changes back is served the object of its current values.

    ``row`` is the user's row when the caller has read it already (with a token).
    """
    session = db.session()
    already = session.identity_map.get(User.__mapper__.identity_key_from_primary_key((user_id,)))
    if already is not None:
        return already
    if row is None:
        row = _USER_ROW.first(user_id)
    if row is None:
        return None
    known = _known_users()
    kept = known.get(user_id)
    if kept is not None and kept[0] == row:
        user = session.merge(kept[1], load=False)
        for key in _USER_COLUMNS:  # the request's own copy of anything that could be changed in place (JSON)
            value = getattr(kept[1], key)
            if type(value) not in _IMMUTABLE:
                set_committed_value(user, key, copy.deepcopy(value))
        return user
    user = session.execute(_USER_BY_ID, {"user_id": user_id}).scalar_one_or_none()
    if user is None:  # removed between the two statements (PostgreSQL)
        return None
    if session.get_bind().dialect.name == "sqlite" or tuple(getattr(user, key) for key in _ROW_KEYS) == row:
        copy_ = User(**{key: copy.deepcopy(getattr(user, key)) for key in _USER_COLUMNS})
        make_transient_to_detached(copy_)
        known.put(user_id, (row, copy_))
    return user


def _known_users() -> TimedCache:
    """This app's users as last loaded by this worker, each with the row they were loaded from (see ``signed_in_user``)."""
    return app_cache("signed_in_users", KNOWN_USERS, 3600)


# The users a worker keeps (some 2.7 kB each): the people using it at one time, each making a few requests in a row.
KNOWN_USERS = 1024
_USER_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id"))
_USER_ROW = bulk.Lookup(sa.select(User.__table__).where(User.__table__.c.id == sa.bindparam("user_id")), ("user_id",))
_USER_COLUMNS = tuple(column.key for column in User.__mapper__.column_attrs)
# The object's attribute for each column of ``_USER_ROW``, in the row's order.
_ROW_KEYS = tuple(User.__mapper__.get_property_by_column(column).key for column in User.__table__.columns)
_IMMUTABLE = frozenset({type(None), bool, int, float, str, bytes, dt.date, dt.datetime})
