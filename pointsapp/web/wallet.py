"""The wallet: balance, held, this period's points, every entry with its reason."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from pointsapp import ledger, names, pagination
from pointsapp.extensions import db
from pointsapp.models import LedgerEntry, User, Wallet

bp = Blueprint("wallet", __name__)
PAGE_SIZE = 20
LIVE_TOASTS = 5  # the most new entries one poll adds to the page


def entries_page(user_id: int, cursor: str | None):
    stmt = sa.select(LedgerEntry).where(LedgerEntry.user_id == user_id)
    return pagination.keyset_page(stmt, LedgerEntry, limit=PAGE_SIZE, cursor=cursor)


def actor_names(entries) -> dict[int, str]:
    ids = {e.actor_id for e in entries if e.actor_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def live_state(user_id: int) -> dict:
    """What an open wallet page compares to notice a change: the newest entry's id and the held points (two indexed reads)."""
    newest = db.session.scalar(
        sa.select(LedgerEntry.id)
        .where(LedgerEntry.user_id == user_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    )
    held = db.session.scalar(sa.select(Wallet.held).where(Wallet.user_id == user_id))
    return {"after": newest or 0, "held": held or 0}


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
        live=live_state(current_user.id),
    )


@bp.get("/wallet/entries")
@login_required
def entries():
    """The next page of my entries (htmx "load more")."""
    rows, next_cursor = entries_page(current_user.id, request.args.get("cursor"))
    return render_template(
        "wallet/_entries.html", entries=rows, next_cursor=next_cursor, actors=actor_names(rows), reasons=names.entry_reasons(rows)
    )


@bp.get("/wallet/live")
@login_required
def live():
    """What changed since the open wallet last looked: 204 when nothing did, else the new parts and a toast per new entry."""
    state = live_state(current_user.id)
    if state == {"after": request.args.get("after", 0, type=int), "held": request.args.get("held", 0, type=int)}:
        return "", 204
    stmt = sa.select(LedgerEntry).where(
        LedgerEntry.user_id == current_user.id, LedgerEntry.id > request.args.get("after", 0, type=int)
    )
    new_entries = list(db.session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(LIVE_TOASTS)))
    return render_template(
        "wallet/_live_update.html",
        live=state,
        summary=ledger.wallet_summary(current_user.id),
        new_entries=new_entries,
        actors=actor_names(new_entries),
        reasons=names.entry_reasons(new_entries),
    )


@bp.get("/more")
@login_required
def more():
    """Everything else, by role."""
    return render_template("wallet/more.html")


# Other areas add panels to the wallet page (goal ring, level, rank, veto):
# name -> function(user) returning a dict for the template, or None.
WALLET_PANELS: dict = {}
