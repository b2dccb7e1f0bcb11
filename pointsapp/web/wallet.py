"""The wallet: balance, held, this period's points, every entry with its reason."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, g, render_template, request, session
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup

from pointsapp import bulk, ledger, names, notify, pagination, redemptions
from pointsapp.extensions import db
from pointsapp.models import Goal, LedgerEntry, Notification, Redemption, User, Veto, Wallet
from pointsapp.page_cache import TimedCache, app_cache
from pointsapp.periods import local, utcnow

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
    """Show my wallet, from the page cache while nothing it shows has changed (see ``page_key``)."""
    user = current_user._get_current_object()
    key = page_key(user)
    if key is None:
        return render_template("wallet/page.html", content=Markup(render_template("wallet/_content.html", **page_parts(user))))
    pages = _page_cache()
    around = layout_key()
    if around is not None and (page := pages.get((key, around))) is not None:
        return page
    content = pages.get(key)
    if content is None:
        content = Markup(render_template("wallet/_content.html", **page_parts(user)))
        pages.put(key, content)
    page = render_template("wallet/page.html", content=content)
    if around is not None:
        pages.put((key, around), page)
    return page


def layout_key() -> tuple | None:
    """What the layout around the content shows besides the content's key; None when it must be rendered.

    The layout carries a CSRF token signed for this session's secret token (kept
    in the session): a page is kept per secret, so its token stays valid for this
    session only (signed tokens do not expire: ``WTF_CSRF_TIME_LIMIT``). A session
    without its secret yet, or with a message waiting to be shown, is rendered.
    """
    secret = session.get("csrf_token")
    if secret is None or "_flashes" in session:
        return None
    return request.path, secret, g.unread


def page_parts(user) -> dict:
    """Everything the wallet page's content shows: balance, panels, periods and the newest entries."""
    entries, next_cursor = entries_page(user.id, None)
    summary = ledger.wallet_summary(user.id)
    return {
        "summary": summary,
        "entries": entries,
        "next_cursor": next_cursor,
        "actors": actor_names(entries),
        "reasons": names.entry_reasons(entries),
        "panels": {name: provider(user) for name, provider in WALLET_PANELS.items()},
        # What live_state would read: the newest entry is the first of the page (same order), held is in the summary.
        "live": {"after": entries[0].id if entries else 0, "held": summary.held},
    }


def page_key(user) -> tuple | None:
    """What the wallet page's content is made of, read in one query; None when it must be rendered afresh.

    The wallet's version changes with every entry and hold (balance, held, periods,
    entries, level, my redemptions); the date brings a new week's goal and periods;
    the goal, my pending redemptions and the ones waiting for my decision can change
    without the ledger, so they are read each time. A page with a compliance veto
    is not cached (rare, and a veto is lifted without a ledger change). The wallet's
    ``updated_at`` rides along so that a database restored or rebuilt under a running
    worker never meets its old versions. The layout's unread count comes with the
    same query.
    """
    row = _PAGE_STATE.first(user.id)
    if row is None:
        return None  # no wallet: the full path answers as it always did
    version, updated_at, goal, mine, vetoed, g.unread = row
    if vetoed:
        return None
    waiting = redemptions.waiting_count(user) if user.role in ("lead", "admin") else 0
    today = local(utcnow()).date()
    return (user.id, version, updated_at, str(get_locale()), today, user.role, user.hired_on, goal, mine, waiting)


def _page_cache() -> TimedCache:
    """This app's cache of rendered wallet contents (per worker; correct across workers through the key)."""
    config = current_app.config
    return app_cache("wallet_pages", config["WALLET_PAGE_CACHE_SIZE"], config["WALLET_PAGE_SECONDS"])


def _count(stmt):
    return stmt.with_only_columns(sa.func.count()).scalar_subquery()


_wallet = Wallet.__table__
# Built once and read at the driver's pace (``bulk.Lookup``): on every view of the most read page.
_PAGE_STATE = bulk.Lookup(
    sa.select(
        _wallet.c.version,
        _wallet.c.updated_at,
        sa.select(Goal.weekly_points).where(Goal.user_id == _wallet.c.user_id).scalar_subquery().label("goal"),
        _count(sa.select(Redemption.id).where(Redemption.user_id == _wallet.c.user_id, Redemption.status == "pending")).label(
            "mine"
        ),
        sa.exists().where(Veto.user_id == _wallet.c.user_id, Veto.lifted_at.is_(None)).label("vetoed"),
        _count(sa.select(Notification.id).where(notify.unread_of(_wallet.c.user_id))).label("unread"),
    ).where(_wallet.c.user_id == sa.bindparam("user_id")),
    ("user_id",),
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
# The page is kept until the wallet's version or another part of ``page_key``
# changes: a panel showing something the ledger does not change must add it
# there (read in ``_PAGE_STATE``), or show it up to WALLET_PAGE_SECONDS late.
WALLET_PANELS: dict = {}
