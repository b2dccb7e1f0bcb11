"""SCIM 2.0 provisioning (RFC 7643/7644) at ``/scim/v2``: the HR system creates, moves and removes people.

Design overview
---------------
* The protocol — discovery endpoints, filters, paging, PUT and PATCH
  semantics, SCIM error bodies — is scim2-server's (through scim2-flask);
  the resources are scim2-models. This module describes what pointsapp keeps
  (the models below are the published schemas, nothing more) and stores them
  through the organisation's own operations (``pointsapp.org``), so a SCIM
  deactivation is the same leaver process as one from the admin page.
* ``Users`` are users: ``userName`` is the sign-in email, ``displayName`` (or
  ``name.formatted``, or given and family name) the name people see; the
  enterprise ``employeeNumber`` and the pointsapp extension's ``role``,
  ``teamId`` and ``wecomUserId`` map to columns. The rest of what HR sends
  about a name and its emails is kept as sent (``scim_profile``), so it reads
  back unchanged. An attribute that HR removed reads back absent, while the
  account falls back to the default (``employee``, no team, still active).
* ``DELETE /Users/{id}`` deactivates the person (the leaver process) and takes
  them out of SCIM: nothing is deleted, and POSTing the same ``userName``
  again brings the account back.
* ``Groups`` are teams; ``members`` are the users whose team it is (a user
  belongs to one team, so adding someone to a group moves them) and the
  sub-teams under it. ``DELETE`` archives an empty team.
* Authentication is an integration token of scope ``scim``; it may do nothing
  else, and an events token cannot use SCIM.
* Searches narrow ``eq`` filters on ``userName``, ``externalId`` and ``id`` in
  SQL and evaluate the rest with scim2-models over the remaining rows, which
  suits a bank's headcount.
"""

from __future__ import annotations

from flask import Blueprint, Flask, g, request
from scim2_flask import ScimServer
from scim2_models import ForbiddenException, UnauthorizedException

from pointsapp import policy
from pointsapp.scim.models import PROVIDER
from pointsapp.scim.storage import DatabaseStorage

URL_PREFIX = "/scim/v2"


class Server(ScimServer):
    """scim2-flask's server, behind pointsapp's integration tokens of scope ``scim``."""

    def create_blueprint(self) -> Blueprint:
        blueprint = super().create_blueprint()
        blueprint.before_request(_authenticate)
        blueprint.after_request(_commit)
        return blueprint


def _commit(response):
    """A SCIM error answers the request: the request's transaction is refused (rolled back), as for any refusal."""
    from pointsapp.lifecycle import refuse

    if response.status_code >= 400:
        refuse()
    return response


def _authenticate() -> None:
    """Only an integration token of scope ``scim`` may provision people."""
    from pointsapp.auth import principal_for_token

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    caller = principal_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    if caller is None:
        raise UnauthorizedException(detail="Send an integration token of scope scim as 'Authorization: Bearer <token>'.")
    if not policy.can_provision(caller):
        raise ForbiddenException(detail="This token may not provision people; make one with --scope scim.")
    g.scim_integration = caller.integration


def init_app(app: Flask) -> None:
    """Serve SCIM at /scim/v2 (bearer tokens only, so no CSRF token is asked for)."""
    from pointsapp.extensions import csrf

    server = Server(DatabaseStorage(), PROVIDER, url_prefix=URL_PREFIX)
    server.init_app(app)
    csrf.exempt(app.blueprints[server.name])
