"""HTML pages (htmx), one blueprint module per area (create_app registers them); what every page shares."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from urllib.parse import urlsplit

from babel import dates
from babel.dates import format_skeleton, get_datetime_format
from flask import Flask, g, request
from flask_babel import format_currency, format_decimal, get_locale, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from pointsapp import names, notify, policy
from pointsapp.limits import INT_MAX
from pointsapp.periods import local
from pointsapp.web import nav

ENTRY_KIND_LABELS = {
    "event_award": _l("Business event"),
    "mentorship_bonus": _l("Mentorship bonus"),
    "period_bonus": _l("Period bonus"),
    "challenge_payout": _l("Team challenge share"),
    "manual_award": _l("Award"),
    "manual_deduction": _l("Deduction"),
    "compliance_deduction": _l("Compliance deduction"),
    "reversal": _l("Reversal"),
    "redemption": _l("Reward redeemed"),
    "forfeit": _l("Forfeited on leaving"),
}


def period_label(key) -> str:
    """A period key said the way people say it: 2026-W48 → "Week 48, 2026", 2026-11 → "November 2026", 2026-Q4 → "Q4 2026"."""
    key = str(key or "")
    if match := re.fullmatch(r"(\d{4})-W(\d{2})", key):
        return _("Week %(week)d, %(year)d", week=int(match[2]), year=int(match[1]))
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", key):
        return _("Q%(quarter)d %(year)d", quarter=int(match[2]), year=int(match[1]))
    if (match := re.fullmatch(r"(\d{4})-(\d{2})", key)) and 1 <= int(match[2]) <= 12:
        return format_skeleton("yMMMM", dt.date(int(match[1]), int(match[2]), 1), locale=get_locale())
    return key  # a year ("2026") or anything else reads fine as it is


def wants_fragment() -> bool:
    """True for an htmx request that swaps part of a page; boosted navigation and history restores get full pages."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def form_id(values, name: str) -> int:
    """An id from a form or query string; 0 (no such row) when missing, not a number, or beyond any INTEGER id."""
    value = values.get(name, type=int)
    return value if value is not None and 0 < value <= INT_MAX else 0


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this site, else ``fallback``: never another host.

    Browsers read ``//host``, ``/\\host`` and paths with tabs or newlines in them
    (which they strip) as another host, so those are refused as well as full URLs.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ch.isspace() or not ch.isprintable() for ch in target)
        and urlsplit(target).netloc == ""
    ):
        return target
    return fallback


CSV_UPLOAD_MAX_BYTES = 5 * 1024 * 1024  # an uploaded CSV file (events, users); the request adds form overhead
_MULTIPART_OVERHEAD = 64 * 1024


def upload_limit(view):
    """This view takes a CSV upload: its request body may exceed MAX_CONTENT_LENGTH up to the CSV limit."""
    view.upload_limit = CSV_UPLOAD_MAX_BYTES + _MULTIPART_OVERHEAD
    return view


def init_app(app: Flask) -> None:
    """Add the layout's context and the number, money, date and period filters."""

    @app.context_processor
    def _layout():
        user = current_user if current_user and current_user.is_authenticated else None
        return {
            "get_locale": get_locale,
            "nav_items": lambda u: nav.items(nav.TABS, u),
            "menu_items": lambda u: nav.items(nav.MENU, u),
            "entry_kind_label": lambda kind: ENTRY_KIND_LABELS.get(kind, kind),
            "me": user,
            "is_admin": policy.is_admin(user),
            "is_lead": policy.is_lead_or_admin(user),
            "unread_count": _unread_count(user) if user else 0,
        }

    def _unread_count(user) -> int:
        if "unread" not in g:
            g.unread = notify.unread_count(user)
        return g.unread

    _register_formats(app)
    app.add_template_filter(period_label, "period_label")
    app.add_template_filter(names.localized, "tr")  # a rule's, badge's, reward's or team's name in the reader's language
    app.add_template_filter(readable_json, "readable_json")
    app.add_template_filter(names.system_reason, "system_reason")  # a correction's reason in the reader's language
    app.add_template_filter(names.reason_text, "reason_text")  # a reason naming rules (a veto's), in the reader's language
    app.add_template_filter(lambda moment: local(moment).date(), "local_date")  # the organisation's calendar day


def readable_json(value) -> str:
    """JSON for people to read on a page: Chinese stays Chinese, not ``\\uXXXX`` (the page escapes it as any text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@functools.lru_cache(maxsize=32)
def _number_symbols(locale: str) -> tuple[str, str, str]:
    from babel import numbers

    return numbers.get_group_symbol(locale), numbers.get_plus_sign_symbol(locale), numbers.get_minus_sign_symbol(locale)


def _whole(n, *, signed: bool = False) -> str | None:
    """A whole number with the locale's grouping, without parsing a Babel pattern per call (a page shows dozens)."""
    if not isinstance(n, int) or isinstance(n, bool):
        return None
    group, plus, minus = _number_symbols(str(get_locale() or "en"))
    text = f"{abs(n):,}".replace(",", group)
    return (minus if n < 0 else plus if signed else "") + text


def _register_formats(app: Flask) -> None:
    """Add the locale-aware number, money and date filters every page uses.

    Flask-Babel already provides ``dateformat``/``datetimeformat``/``timeformat``; these add
    thousands separators for points and money and one date-and-time style for the whole app
    ("Nov 24, 2026, 4:33 PM" / "2026年11月24日 16:33"), so no page mixes short and medium dates.
    """
    app.add_template_filter(lambda n: _whole(n or 0) or format_decimal(n or 0), "number")
    app.add_template_filter(lambda n: _whole(n or 0, signed=True) or format_decimal(n or 0, format="+#,##0;-#,##0"), "signed")
    app.add_template_filter(lambda amount, currency="CNY": format_currency(amount or 0, currency), "money")

    def when(value):
        """A moment in the user's time zone; one at the calendar's edge (9999-12-31) as its UTC text, never an error."""
        if value is None:
            return ""
        locale = get_locale()
        try:
            return _when_pattern(str(locale)).apply(to_user_timezone(value), locale)
        except (OverflowError, ValueError):
            return value.isoformat(sep=" ", timespec="minutes")

    app.add_template_filter(when, "when")


@functools.lru_cache(maxsize=32)
def _when_pattern(locale: str) -> dates.DateTimePattern:
    """The locale's medium date and short time joined as its medium date-time format joins them, parsed once.

    What ``format_date(value, "medium")`` and ``format_time(value, "short")`` put
    into ``get_datetime_format("medium")``, as one pattern: the joining text is
    quoted so that it stays literal, as it was when the two were pasted in.
    """
    parts = {"{1}": dates.get_date_format("medium", locale).pattern, "{0}": dates.get_time_format("short", locale).pattern}
    pattern = "".join(
        parts.get(piece) or ("'" + piece.replace("'", "''") + "'" if piece else "")
        for piece in re.split(r"(\{[01]\})", get_datetime_format("medium", locale=locale))
    )
    return dates.parse_pattern(pattern)
