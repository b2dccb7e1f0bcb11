"""Single sign-on with OpenID Connect, through Authlib.

The bank's identity provider (Entra ID, ADFS, Keycloak, an OIDC gateway) is
found by discovery from ``OIDC_ISSUER``. Signing in is the authorization code
flow with PKCE (S256); Authlib keeps ``state``, ``nonce`` and the code
verifier in the signed session, checks ``state`` on the way back, and checks
the ID token's signature (the provider's published keys), issuer, audience
(our ``OIDC_CLIENT_ID``), expiry and ``nonce``. The ``email`` claim (from the
ID token, else from the UserInfo endpoint about the same subject) must be
verified (``email_verified`` true) and match an active user: nobody is
created by signing in — people come from an admin or from HR (SCIM).
"""

from __future__ import annotations

import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import gettext as _

from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.models import User

EXTENSION = "pointsapp_oidc"


class SignInRefused(DomainError):
    """The identity provider's answer does not sign anyone in."""

    code = "sign_in_refused"
    status = 401


def init_app(app: Flask) -> None:
    """Register the identity provider when ``OIDC_ISSUER`` is set (one OAuth registry per app)."""
    if not enabled(app):
        return
    oauth = OAuth(app)
    issuer = app.config["OIDC_ISSUER"].rstrip("/")
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions[EXTENSION] = oauth


def enabled(app: Flask | None = None) -> bool:
    """True when an identity provider is configured."""
    config = (app or current_app).config
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID"))


def _client():
    return current_app.extensions[EXTENSION].oidc


def start(redirect_uri: str):
    """The redirect to the identity provider (state, nonce and PKCE verifier are kept in the session)."""
    return _client().authorize_redirect(redirect_uri)


def finish() -> User:
    """Complete the sign-in from the provider's answer on the callback; SignInRefused when it signs nobody in."""
    client = _client()
    metadata = client.load_server_metadata()
    claims_options = {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "values": [client.client_id]},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
    except AuthlibBaseError as error:  # bad state, a code refused (replayed, another client's), a bad ID token
        current_app.logger.warning("single sign-on refused: %r", error)
        raise SignInRefused(_("Single sign-on did not complete. Please try again.")) from None
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise SignInRefused(_("Single sign-on did not complete. Please try again."))
    if "email" not in claims:  # many providers put profile claims only in the UserInfo response
        try:
            info = client.userinfo(token=token)
        except (AuthlibBaseError, OSError, ValueError) as error:
            current_app.logger.warning("single sign-on userinfo failed: %r", error)
            raise SignInRefused(_("Single sign-on did not complete. Please try again.")) from None
        if info.get("sub") != claims.get("sub"):  # OIDC Core 5.3.2: UserInfo must be about the ID token's subject
            raise SignInRefused(_("Single sign-on did not complete. Please try again."))
        claims.update({key: info[key] for key in ("email", "email_verified") if key in info})
    return user_for_claims(claims)


def user_for_claims(claims) -> User:
    """The active user whose email the provider verified."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise SignInRefused(_("Your identity provider has not verified your email address, so you cannot sign in with it."))
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    if user is None or not user.is_active:
        raise SignInRefused(
            _("There is no active account for %(email)s here. Ask HR or an administrator to add you.", email=email)
        )
    return user
