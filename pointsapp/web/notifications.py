"""Notifications pages: the in-app list (with mark-as-read) and the settings page."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from pointsapp import notify, wecom
from pointsapp.errors import ValidationFailed
from pointsapp.lifecycle import refuse

bp = Blueprint("notifications", __name__)

KIND_LABELS = {
    "awards": _l("Points awarded"),
    "redemptions": _l("Reward decisions"),
    "challenges": _l("Team challenges"),
    "badges": _l("Badges and honours"),
    "reminders": _l("Weekly-goal reminder (Friday afternoon)"),
    "rank_nudges": _l("Close to the top 3"),
}


def _safe_path(url: str | None) -> str:
    """Only this site's paths: a notification never sends anyone to another host."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return url_for("wallet.index")


@bp.get("/notifications")
@login_required
def index():
    """Show my notifications, newest first, unread highlighted."""
    rows, next_cursor = notify.notifications_page(current_user, request.args.get("cursor"))
    template = "notifications/_items.html" if request.args.get("cursor") else "notifications/index.html"
    return render_template(template, notifications=rows, next_cursor=next_cursor, render=notify.render)


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark a notification as read and open what it is about."""
    notification = notify.mark_read(current_user, notification_id)
    return redirect(_safe_path(notification.url))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    """Mark all my notifications as read."""
    count = notify.mark_all_read(current_user)
    flash(_("%(count)s notifications marked as read.", count=count) if count else _("Nothing unread."), "success")
    return redirect(url_for("notifications.index"))


def _time(value: str | None) -> dt.time | None:
    try:
        return dt.time.fromisoformat(value) if value else None
    except ValueError:
        raise ValidationFailed(_("Use a time like 22:00."), fields={"quiet": [_("Use a time like 22:00.")]}) from None


@bp.route("/notifications/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Show and save my notification settings: push on this phone, kinds, quiet hours."""
    errors = {}
    if request.method == "POST":
        kinds = {name: request.form.get(name) == "1" for name in notify.PREFERENCE_FIELDS}
        channels = {name: request.form.get(name) == "1" for name in notify.CHANNEL_FIELDS}
        try:
            start, end = _time(request.form.get("quiet_start")), _time(request.form.get("quiet_end"))
            notify.update_preferences(current_user, kinds, start, end, channels)
            flash(_("Notification settings saved."), "success")
            return redirect(url_for("notifications.settings"))
        except ValidationFailed as error:
            refuse()
            errors = error.fields or {"quiet": [error.message]}
    prefs = notify.preferences(current_user.id)
    return render_template(
        "notifications/settings.html",
        prefs=prefs,
        kinds=KIND_LABELS,
        errors=errors,
        subscriptions=len(notify.subscriptions_of(current_user)),
        wecom_ready=wecom.configured(),
    ), 422 if errors else 200
