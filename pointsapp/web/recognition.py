"""Recognition pages: leaderboard, badges and honours, weekly goals, TV board and its links."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pointsapp import badges, goals, honours, leaderboard, ledger, levels, names, policy
from pointsapp.errors import DomainError
from pointsapp.extensions import db
from pointsapp.lifecycle import refuse
from pointsapp.models import Team, User
from pointsapp.periods import PERIODS, utcnow
from pointsapp.web import period_label
from pointsapp.web.wallet import WALLET_PANELS

bp = Blueprint("recognition", __name__)


def wants_fragment() -> bool:
    """An htmx swap of one region (not a boosted navigation or a history restore)."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def _fragment_or_page(fragment: str, page: str, status: int = 200, **context):
    return render_template(fragment if wants_fragment() else page, **context), status


# --- leaderboard -------------------------------------------------------------------


@bp.get("/leaderboard", endpoint="leaderboard")
@login_required
def leaderboard_page():
    """Show the leaderboard with my row highlighted and my gaps."""
    args = request.args
    team_id = args.get("team_id", type=int)
    board = leaderboard.board(
        current_user,
        args.get("period", "week"),
        kind=args.get("kind", "individual"),
        team_id=team_id,
        limit=leaderboard.PAGE_ITEMS,
    )
    context = {"board": board, "periods": PERIODS, "my_team_id": current_user.team_id}
    return _fragment_or_page("recognition/_board.html", "recognition/leaderboard.html", **context)


# --- badges and honours ------------------------------------------------------------


@bp.get("/badges", endpoint="badges")
@login_required
def badges_page():
    """Show my badges (earned and not yet, with progress) and my honour titles."""
    earned = badges.user_badges(current_user, current_user.id)
    periods: dict[int, list[str]] = {}
    for row in reversed(earned):  # oldest first
        if row["kind"] == "badge":
            periods.setdefault(row["badge_id"], []).append(row["period_key"])
    return render_template(
        "recognition/badges.html",
        progress=badges.progress_for(current_user),
        earned_periods=periods,
        honors=[row for row in earned if row["kind"] == "honor"],
    )


@bp.route("/admin/badges", methods=["GET", "POST"])
@login_required
def admin_badges():
    """Define badges (admin)."""
    if not policy.can_manage_badges(current_user):
        abort(403)
    errors, form = {}, request.form
    if request.method == "POST":
        try:
            threshold = int(form.get("threshold", ""))
        except ValueError:
            threshold = 0
        try:
            badge = badges.create_badge(
                current_user,
                name=form.get("name", ""),
                description=form.get("description", ""),
                event_type=form.get("event_type", ""),
                threshold=threshold,
                period=form.get("period") or None,
                translations=names.form_translations(form),
            )
        except DomainError as error:
            refuse()
            errors = error.fields or {"name": [error.message]}
        else:
            flash(_("Badge %(name)s created.", name=names.localized(badge)), "success")
            return redirect(url_for("recognition.admin_badges"))
    return _admin_page(422 if errors else 200, badge_errors=errors, badge_form=form)


@bp.post("/admin/honors")
@login_required
def award_honor():
    """Award an honour title (admin)."""
    form = request.form
    try:
        honor = honours.award_honor(
            current_user,
            user_id=form.get("user_id", type=int) or 0,
            title=form.get("title", ""),
            period_key=form.get("period_key", ""),
        )
    except DomainError as error:
        refuse()
        if error.status == 403:
            abort(403)
        return _admin_page(error.status, honor_errors=error.fields or {"title": [error.message]}, honor_form=form)
    flash(_("Honour '%(title)s' awarded for %(period)s.", title=honor.title, period=period_label(honor.period_key)), "success")
    return redirect(url_for("recognition.admin_badges"))


def _admin_page(status: int = 200, **context):
    users = list(db.session.scalars(sa.select(User).where(User.role != "admin").order_by(User.name)))
    context.setdefault("badge_form", {})
    context.setdefault("honor_form", {})
    return render_template(
        "recognition/admin_badges.html", badges=badges.list_badges(), users=users, periods=PERIODS, **context
    ), status


# --- weekly goals (leads) ------------------------------------------------------------


@bp.route("/goals", methods=["GET", "POST"], endpoint="goals")
@login_required
def goals_page():
    """Show and set my members' weekly goals."""
    if not policy.leads_any_team(current_user):
        abort(403)
    errors: dict[int, str] = {}
    if request.method == "POST":
        user_id = request.form.get("user_id", type=int) or 0
        try:
            goals.set_goal(current_user, user_id, request.form.get("weekly_points", type=int, default=-1))
        except DomainError as error:
            refuse()
            errors[user_id] = error.message
        else:
            flash(_("Weekly goal saved."), "success")
            return redirect(url_for("recognition.goals"))
    return render_template("recognition/goals.html", rows=goals.team_goals(current_user), errors=errors), 422 if errors else 200


# --- TV board ------------------------------------------------------------------------


@bp.route("/board-links", methods=["GET", "POST"])
@login_required
def board_links():
    """List, create and revoke the TV board links of the teams I lead."""
    if not policy.leads_any_team(current_user):
        abort(403)
    new_url, error = None, None
    if request.method == "POST":
        try:
            _link, token = leaderboard.create_link(
                current_user, request.form.get("team_id", type=int) or 0, request.form.get("label", "")
            )
        except DomainError as exc:
            refuse()
            error = exc.message
        else:
            new_url = url_for("recognition.board", token=token, _external=True)
    teams = [t for t in db.session.scalars(sa.select(Team).order_by(Team.name)) if policy.can_open_board(current_user, t.id)]
    return render_template(
        "recognition/board_links.html",
        links=leaderboard.links_for(current_user),
        teams=teams,
        team_names={t.id: names.localized(t) for t in teams},
        new_url=new_url,
        error=error,
    ), 422 if error else 200


@bp.post("/board-links/<int:link_id>/revoke")
@login_required
def revoke_board_link(link_id: int):
    """Revoke a TV board link; the screen shows a notice at its next refresh."""
    leaderboard.revoke_link(current_user, link_id)
    flash(_("The board link was revoked."), "success")
    return redirect(url_for("recognition.board_links"))


@bp.get("/board/<token>")
def board(token: str):
    """Show a branch's TV board (no login: the link is the key)."""
    data = leaderboard.tv_board(token)
    if data is None:
        return render_template("recognition/board_gone.html"), 404
    return render_template("recognition/board.html", data=data, token=token, updated_at=utcnow())


@bp.get("/board/<token>/live")
def board_live(token: str):
    """The board's refreshing part (htmx polling)."""
    data = leaderboard.tv_board(token)
    if data is None:
        return render_template("recognition/_board_gone.html"), 286  # htmx: swap, then stop polling
    return render_template("recognition/_tv.html", data=data, token=token, updated_at=utcnow())


# --- wallet panels ---------------------------------------------------------------------


def goal_panel(user):
    """The weekly goal ring: earned against target, with the points remaining."""
    status = goals.goal_status(user)
    return {"goal": status} if status.weekly_points > 0 else None  # no goal, no ring


def level_panel(user):
    """My level from lifetime points, with progress to the next."""
    return {"level": levels.level_for(ledger.wallet_of(user.id).lifetime_earned)}


def rank_panel(user):
    """My place on this week's company board, with the gap to the top 3."""
    near = leaderboard.neighbours(user, "week")
    if near is None:
        return None
    return {"standing": near.me, "around": near.places, "me_id": near.me_id}


WALLET_PANELS.update({"goal": goal_panel, "level": level_panel, "rank": rank_panel})
