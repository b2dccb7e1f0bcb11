"""The wallet: balance, held, this period's points, every entry with its reason."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from pointsapp import ledger, names, pagination
from pointsapp.extensions import db
from pointsapp.models import LedgerEntry, User

bp = Blueprint("wallet", __name__)
PAGE_SIZE = 20


def entries_page(user_id: int, cursor: str | None):
    stmt = sa.select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    return pagination.keyset_page(stmt, LedgerEntry, limit=PAGE_SIZE, cursor=cursor)


def actor_names(entries) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


@bp.get("/")
@bp.get("/wallet")
@login_required
def index():
    """Show my wallet."""
    entries, next_cursor = entries_page(current_user.id, None)
    summary = ledger.wallet_summary(current_user.id)
    extras = {name: provider(current_user) for name, provider in WALLET_PANELS.items()}
    return render_template(
        "wallet/page.html",
        summary=summary,
        entries=entries,
        next_cursor=next_cursor,
        actors=actor_names(entries),
        reasons=names.entry_reasons(entries),
        panels=extras,
    )


@bp.get("/wallet/entries")
@login_required
def entries():
    """The next page of my entries (htmx "load more")."""
    rows, next_cursor = entries_page(current_user.id, request.args.get("cursor"))
    return render_template(
        "wallet/_entries.html", entries=rows, next_cursor=next_cursor, actors=actor_names(rows), reasons=names.entry_reasons(rows)
    )


@bp.get("/more")
@login_required
def more():
    """Everything else, by role."""
    return render_template("wallet/more.html")


# Other areas add panels to the wallet page (goal ring, level, rank, veto):
# name -> function(user) returning a dict for the template, or None.
WALLET_PANELS: dict = {}
