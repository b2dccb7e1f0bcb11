"""Manager analytics pages: the team dashboard and its CSV export."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from pointsapp import analytics
from pointsapp.web import ENTRY_KIND_LABELS

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _filters() -> tuple[int | None, int]:
    """The team and range asked for; a range that is not a number falls back to the default."""
    team_id = request.args.get("team_id", type=int)
    return team_id, request.args.get("weeks", analytics.DEFAULT_RANGE, type=int)


def _fragment_only() -> bool:
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


@bp.get("")
@login_required
def dashboard():
    """Show a team's trends, activity mix, top performers and attrition risk."""
    team_id, weeks = _filters()
    board = analytics.dashboard(current_user, team_id, weeks)
    template = "analytics/_dashboard.html" if _fragment_only() else "analytics/page.html"
    return render_template(template, board=board, charts=chart_data(board), ranges=analytics.RANGES, rules=analytics_rules())


@bp.get("/export.csv")
@login_required
def export():
    """Download the dashboard's member table as CSV."""
    team_id, weeks = _filters()
    filename, text = analytics.export_csv(current_user, team_id, weeks)
    return Response(
        "\ufeff" + text,  # the BOM lets Excel open Chinese names correctly
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def analytics_rules() -> dict:
    """The attrition-risk thresholds, for the page's explanation."""
    return {
        "recent": analytics.RECENT_WEEKS,
        "earlier": analytics.EARLIER_WEEKS,
        "silent": analytics.SILENT_WEEKS,
        "goal": analytics.GOAL_WEEKS,
        "ratio": int(analytics.DROP_RATIO * 100),
    }


def chart_data(board: analytics.Dashboard) -> dict:
    """What static/js/charts.js draws: labels and one series per chart (never executed as script)."""

    def series(labels, values) -> dict:
        return {"labels": [str(label) for label in labels], "datasets": [{"label": _("Points"), "data": list(values)}]}

    return {
        "trend": series((w.key.split("-")[-1] for w in board.trend), (w.points for w in board.trend)),  # "W48": fits 360 px
        "kinds": series((ENTRY_KIND_LABELS.get(r.key, r.key) for r in board.mix_by_kind), (r.points for r in board.mix_by_kind)),
        "types": series((r.label for r in board.mix_by_type), (r.points for r in board.mix_by_type)),
    }
