"""The OpenAPI document in the reader's language: operation summaries, descriptions and tag names.

Summaries are the views' docstrings and descriptions come from the schemas and
flask-smorest, so pybabel cannot find them where they are written:
``catalog_entries`` names each one for extraction (a test checks that every
text of the English document is named here). They carry the context
``API documentation`` (written out in each call: pybabel reads only literals),
so "Created" or "Wallet" there may read differently from the same word in the app. English stays the default: an English reader
gets the document exactly as generated.
"""

from __future__ import annotations

import copy

from flask_babel import pgettext

CONTEXT = "API documentation"
TEXT_KEYS = ("summary", "description")


def translated(spec: dict, language: str) -> dict:
    """``spec`` with summaries, descriptions and tag names in the current locale (``language``); same structure."""
    if language == "en":
        return spec
    spec = copy.deepcopy(spec)
    _translate_texts(spec)
    for tag in spec.get("tags", []):
        tag["name"] = pgettext(CONTEXT, tag["name"])
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [pgettext(CONTEXT, tag) for tag in operation["tags"]]
    return spec


def _translate_texts(node) -> None:
    """Translate every ``summary`` and ``description`` text, wherever it sits in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                node[key] = pgettext(CONTEXT, value)
            else:
                _translate_texts(value)
    elif isinstance(node, list):
        for value in node:
            _translate_texts(value)


def catalog_entries() -> tuple[str, ...]:
    """Every text of the document, named for pybabel; called only by the test that checks none is missing."""
    return (
        pgettext("API documentation", "Organisation"),
        pgettext("API documentation", "Wallet"),
        pgettext("API documentation", "Awards"),
        pgettext("API documentation", "Earning"),
        pgettext("API documentation", "Rewards"),
        pgettext("API documentation", "Challenges"),
        pgettext("API documentation", "Recognition"),
        pgettext("API documentation", "Push"),
        pgettext("API documentation", "Analytics"),
        pgettext("API documentation", "Authority"),
        pgettext("API documentation", "Field name → messages (validation errors only)."),
        pgettext("API documentation", "Total number of items."),
        pgettext("API documentation", "Total number of pages."),
        pgettext("API documentation", "First available page number."),
        pgettext("API documentation", "Last available page number."),
        pgettext("API documentation", "Current page number."),
        pgettext("API documentation", "Previous page number."),
        pgettext("API documentation", "Next page number."),
        pgettext("API documentation", "The user's id in WeCom, for WeCom messages"),
        pgettext("API documentation", 'Names in other languages, e.g. {"zh": {"name": "贷款签约", "description": "…"}}'),
        pgettext(
            "API documentation", 'Money, two decimal places; answered as a string ("500.00"), sent as that string or a number.'
        ),
        pgettext("API documentation", "Leave and remote days: the first day asked for"),
        pgettext("API documentation", "The last day (defaults to the first); the days are the quantity"),
        pgettext("API documentation", 'The title in other languages, e.g. {"zh": {"title": "优质贷款冲刺"}}'),
        pgettext("API documentation", "When a correction after the close last restated it"),
        pgettext("API documentation", "https:// URL of a public push service (or one the allowlist names)."),
        pgettext("API documentation", "drop, silent or goal"),
        pgettext("API documentation", "points per week of the range, oldest first"),
        pgettext("API documentation", "Unprocessable Entity"),
        pgettext("API documentation", "Default error response"),
        pgettext("API documentation", "OK"),
        pgettext("API documentation", "Exchange an email and password for a bearer token."),
        pgettext("API documentation", "No Content"),
        pgettext("API documentation", "Revoke the bearer token of this request (log the phone out)."),
        pgettext("API documentation", "The calling user."),
        pgettext("API documentation", "Created"),
        pgettext("API documentation", "Create a team (admin)."),
        pgettext("API documentation", "Create a user (admin); a lead with a team leads it and every team under it."),
        pgettext("API documentation", "A user: themselves, their lead or an admin may look."),
        pgettext(
            "API documentation",
            "Change a user's name, role, team or active flag (admin); deactivating ends their sessions and tokens.",
        ),
        pgettext("API documentation", "My balance, available and held points, and this period's points."),
        pgettext("API documentation", "The next_cursor of the previous page (opaque)."),
        pgettext("API documentation", "My ledger entries, newest first."),
        pgettext("API documentation", "A member's wallet, for their lead or an admin."),
        pgettext(
            "API documentation", "Same key and body again → the first answer again, nothing done twice; another body → 409."
        ),
        pgettext("API documentation", "Award (or, with negative points, deduct) points to a member, with a reason."),
        pgettext("API documentation", "List the published points rules (every version with ?all=1)."),
        pgettext("API documentation", "Publish a points rule; it replaces the type's current rule from now on."),
        pgettext("API documentation", "Every event was already known"),
        pgettext(
            "API documentation",
            "One event, or {events: [...]} with up to 1,000; each item of a batch is checked alone and reported.",
        ),
        pgettext("API documentation", "Your id for the event, unique per integration (a number is read as its digits)"),
        pgettext("API documentation", "Event type, e.g. loan_signed"),
        pgettext("API documentation", "ISO 8601 with a UTC offset; not before 2000-01-01 nor more than 24 hours ahead"),
        pgettext("API documentation", "With a UTC offset; within 366 days before or after now"),
        pgettext("API documentation", "With a UTC offset; after starts_at and at most 366 days after it"),
        pgettext("API documentation", "User ids sharing the points"),
        pgettext("API documentation", "Multiplies the points"),
        pgettext(
            "API documentation",
            "The external_id of an earlier event from the same source (a clawback reverses it); blank means none",
        ),
        pgettext("API documentation", "Post one business event, or a batch of up to 1,000; each is applied once."),
        pgettext("API documentation", "Reverse every award an event produced (admins), with a reason."),
        pgettext("API documentation", "Pair a mentor with a mentee (a lead for their teams, or an admin)."),
        pgettext("API documentation", "The rewards catalog (stock null means unlimited)."),
        pgettext("API documentation", "Add a reward to the catalog (admins)."),
        pgettext("API documentation", "One reward."),
        pgettext("API documentation", "Change a reward, e.g. its stock, or switch it off with active: false (admins)."),
        pgettext("API documentation", "The pending redemptions I may decide, oldest first (leads and admins)."),
        pgettext("API documentation", "Redeem a reward: the points are held at once and the redemption is pending."),
        pgettext("API documentation", "My redemptions, newest first."),
        pgettext("API documentation", "One redemption with its timeline (owner, their lead, admins)."),
        pgettext("API documentation", "Approve a pending redemption; the held points are spent."),
        pgettext("API documentation", "Reject a pending redemption, with a reason; points and stock go back."),
        pgettext("API documentation", "Cancel my pending redemption; points and stock go back."),
        pgettext("API documentation", "Challenges of my teams and the teams I lead: running first, then recent ones."),
        pgettext("API documentation", "Launch a team challenge (the team's lead or an admin)."),
        pgettext("API documentation", "A challenge's progress, each member's contribution and, once closed, the payouts."),
        pgettext(
            "API documentation", "Close a challenge and pay the pool out on success; closing again returns the same result."
        ),
        pgettext("API documentation", "A key of the period: 2026-W48, 2026-11, 2026-Q4 or 2026 (default: the current one)."),
        pgettext("API documentation", "A leaderboard for a period, company-wide or within a team, with my place and gaps."),
        pgettext("API documentation", "Every badge that can be earned."),
        pgettext("API documentation", "Define a threshold badge (admin)."),
        pgettext("API documentation", "Award an honour title for a period (admin)."),
        pgettext("API documentation", "A user's badges and honour titles, newest first."),
        pgettext("API documentation", "Set a member's weekly points goal (their lead or an admin)."),
        pgettext("API documentation", "This week's goal (after new-hire staging), points earned this week and what remains."),
        pgettext("API documentation", "Get the VAPID public key to subscribe with (URL-safe base64 P-256 point)."),
        pgettext("API documentation", "This endpoint was already subscribed"),
        pgettext("API documentation", "Save this browser's push subscription (201 new, 200 already known)."),
        pgettext("API documentation", "Forget this browser's push subscription."),
        pgettext("API documentation", "The teams I may analyse (leads: theirs and every team under them; admins: all)."),
        pgettext("API documentation", "4, 12 or 26"),
        pgettext("API documentation", "The whole company's dashboard for admins; a lead's own team for leads."),
        pgettext("API documentation", "A team's weekly trend, activity mix, top performers, attrition risk and members."),
        pgettext("API documentation", "The member table, one row per member"),
        pgettext("API documentation", "A team's member table as CSV."),
        pgettext("API documentation", "A team's monthly budget, used and remaining this month (its leads, admins)."),
        pgettext("API documentation", "Set a team's monthly points budget (admins); what is used this month stays used."),
        pgettext("API documentation", "Audit records of privileged actions, newest first, with filters (admins)."),
        pgettext("API documentation", "Tokens, the caller, teams and users"),
        pgettext("API documentation", "Balances and ledger entries"),
        pgettext("API documentation", "Manual awards and deductions by leads and admins"),
        pgettext("API documentation", "Points rules, business events, reversals and mentorships"),
        pgettext("API documentation", "The rewards catalog, redeeming and approvals"),
        pgettext("API documentation", "Team challenges with a point pool shared by contribution"),
        pgettext("API documentation", "Leaderboards, badges, honours and weekly goals"),
        pgettext("API documentation", "Web Push: VAPID key and subscriptions"),
        pgettext("API documentation", "Manager analytics: trends, activity mix, top performers, attrition risk"),
        pgettext("API documentation", "Team budgets for lead awards and challenge pools; the audit trail"),
    )
