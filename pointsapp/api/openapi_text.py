"""The OpenAPI document in the reader's language: operation summaries, descriptions and tag names.

Summaries are the views' docstrings and descriptions come from the schemas and
flask-smorest, so pybabel cannot find them where they are written:
``catalog_entries`` names each one for extraction (a test checks that every
text of the English document is named here). They carry the context
``API documentation``, so "Created" or "Wallet" there may read differently
from the same word in the app. English stays the default: an English reader
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
        pgettext(CONTEXT, "Organisation"),
        pgettext(CONTEXT, "Wallet"),
        pgettext(CONTEXT, "Awards"),
        pgettext(CONTEXT, "Earning"),
        pgettext(CONTEXT, "Rewards"),
        pgettext(CONTEXT, "Challenges"),
        pgettext(CONTEXT, "Recognition"),
        pgettext(CONTEXT, "Push"),
        pgettext(CONTEXT, "Analytics"),
        pgettext(CONTEXT, "Authority"),
        pgettext(CONTEXT, "Field name → messages (validation errors only)."),
        pgettext(CONTEXT, "Total number of items."),
        pgettext(CONTEXT, "Total number of pages."),
        pgettext(CONTEXT, "First available page number."),
        pgettext(CONTEXT, "Last available page number."),
        pgettext(CONTEXT, "Current page number."),
        pgettext(CONTEXT, "Previous page number."),
        pgettext(CONTEXT, "Next page number."),
        pgettext(CONTEXT, "The user's id in WeCom, for WeCom messages"),
        pgettext(CONTEXT, 'Names in other languages, e.g. {"zh": {"name": "贷款签约", "description": "…"}}'),
        pgettext(CONTEXT, 'Money, two decimal places; answered as a string ("500.00"), sent as that string or a number.'),
        pgettext(CONTEXT, "Leave and remote days: the first day asked for"),
        pgettext(CONTEXT, "The last day (defaults to the first); the days are the quantity"),
        pgettext(CONTEXT, 'The title in other languages, e.g. {"zh": {"title": "优质贷款冲刺"}}'),
        pgettext(CONTEXT, "When a correction after the close last restated it"),
        pgettext(CONTEXT, "https:// URL of a public push service (or one the allowlist names)."),
        pgettext(CONTEXT, "drop, silent or goal"),
        pgettext(CONTEXT, "points per week of the range, oldest first"),
        pgettext(CONTEXT, "Unprocessable Entity"),
        pgettext(CONTEXT, "Default error response"),
        pgettext(CONTEXT, "OK"),
        pgettext(CONTEXT, "Exchange an email and password for a bearer token."),
        pgettext(CONTEXT, "No Content"),
        pgettext(CONTEXT, "Revoke the bearer token of this request (log the phone out)."),
        pgettext(CONTEXT, "The calling user."),
        pgettext(CONTEXT, "Created"),
        pgettext(CONTEXT, "Create a team (admin)."),
        pgettext(CONTEXT, "Create a user (admin); a lead with a team leads it and every team under it."),
        pgettext(CONTEXT, "A user: themselves, their lead or an admin may look."),
        pgettext(
            CONTEXT, "Change a user's name, role, team or active flag (admin); deactivating ends their sessions and tokens."
        ),
        pgettext(CONTEXT, "My balance, available and held points, and this period's points."),
        pgettext(CONTEXT, "The next_cursor of the previous page (opaque)."),
        pgettext(CONTEXT, "My ledger entries, newest first."),
        pgettext(CONTEXT, "A member's wallet, for their lead or an admin."),
        pgettext(CONTEXT, "Same key and body again → the first answer again, nothing done twice; another body → 409."),
        pgettext(CONTEXT, "Award (or, with negative points, deduct) points to a member, with a reason."),
        pgettext(CONTEXT, "List the published points rules (every version with ?all=1)."),
        pgettext(CONTEXT, "Publish a points rule; it replaces the type's current rule from now on."),
        pgettext(CONTEXT, "Every event was already known"),
        pgettext(CONTEXT, "One event, or {events: [...]} with up to 1,000; each item of a batch is checked alone and reported."),
        pgettext(CONTEXT, "Your id for the event, unique per integration (a number is read as its digits)"),
        pgettext(CONTEXT, "Event type, e.g. loan_signed"),
        pgettext(CONTEXT, "ISO 8601; without an offset it is UTC"),
        pgettext(CONTEXT, "User ids sharing the points"),
        pgettext(CONTEXT, "Multiplies the points"),
        pgettext(CONTEXT, "The external_id of an earlier event from the same source (a clawback reverses it); blank means none"),
        pgettext(CONTEXT, "Post one business event, or a batch of up to 1,000; each is applied once."),
        pgettext(CONTEXT, "Reverse every award an event produced (admins), with a reason."),
        pgettext(CONTEXT, "Pair a mentor with a mentee (a lead for their teams, or an admin)."),
        pgettext(CONTEXT, "The rewards catalog (stock null means unlimited)."),
        pgettext(CONTEXT, "Add a reward to the catalog (admins)."),
        pgettext(CONTEXT, "One reward."),
        pgettext(CONTEXT, "Change a reward, e.g. its stock, or switch it off with active: false (admins)."),
        pgettext(CONTEXT, "The pending redemptions I may decide, oldest first (leads and admins)."),
        pgettext(CONTEXT, "Redeem a reward: the points are held at once and the redemption is pending."),
        pgettext(CONTEXT, "My redemptions, newest first."),
        pgettext(CONTEXT, "One redemption with its timeline (owner, their lead, admins)."),
        pgettext(CONTEXT, "Approve a pending redemption; the held points are spent."),
        pgettext(CONTEXT, "Reject a pending redemption, with a reason; points and stock go back."),
        pgettext(CONTEXT, "Cancel my pending redemption; points and stock go back."),
        pgettext(CONTEXT, "Challenges of my teams and the teams I lead: running first, then recent ones."),
        pgettext(CONTEXT, "Launch a team challenge (the team's lead or an admin)."),
        pgettext(CONTEXT, "A challenge's progress, each member's contribution and, once closed, the payouts."),
        pgettext(CONTEXT, "Close a challenge and pay the pool out on success; closing again returns the same result."),
        pgettext(CONTEXT, "A key of the period: 2026-W48, 2026-11, 2026-Q4 or 2026 (default: the current one)."),
        pgettext(CONTEXT, "A leaderboard for a period, company-wide or within a team, with my place and gaps."),
        pgettext(CONTEXT, "Every badge that can be earned."),
        pgettext(CONTEXT, "Define a threshold badge (admin)."),
        pgettext(CONTEXT, "Award an honour title for a period (admin)."),
        pgettext(CONTEXT, "A user's badges and honour titles, newest first."),
        pgettext(CONTEXT, "Set a member's weekly points goal (their lead or an admin)."),
        pgettext(CONTEXT, "This week's goal (after new-hire staging), points earned this week and what remains."),
        pgettext(CONTEXT, "Get the VAPID public key to subscribe with (URL-safe base64 P-256 point)."),
        pgettext(CONTEXT, "This endpoint was already subscribed"),
        pgettext(CONTEXT, "Save this browser's push subscription (201 new, 200 already known)."),
        pgettext(CONTEXT, "Forget this browser's push subscription."),
        pgettext(CONTEXT, "The teams I may analyse (leads: theirs and every team under them; admins: all)."),
        pgettext(CONTEXT, "4, 12 or 26"),
        pgettext(CONTEXT, "The whole company's dashboard for admins; a lead's own team for leads."),
        pgettext(CONTEXT, "A team's weekly trend, activity mix, top performers, attrition risk and members."),
        pgettext(CONTEXT, "The member table, one row per member"),
        pgettext(CONTEXT, "A team's member table as CSV."),
        pgettext(CONTEXT, "A team's monthly budget, used and remaining this month (its leads, admins)."),
        pgettext(CONTEXT, "Set a team's monthly points budget (admins); what is used this month stays used."),
        pgettext(CONTEXT, "Audit records of privileged actions, newest first, with filters (admins)."),
        pgettext(CONTEXT, "Tokens, the caller, teams and users"),
        pgettext(CONTEXT, "Balances and ledger entries"),
        pgettext(CONTEXT, "Manual awards and deductions by leads and admins"),
        pgettext(CONTEXT, "Points rules, business events, reversals and mentorships"),
        pgettext(CONTEXT, "The rewards catalog, redeeming and approvals"),
        pgettext(CONTEXT, "Team challenges with a point pool shared by contribution"),
        pgettext(CONTEXT, "Leaderboards, badges, honours and weekly goals"),
        pgettext(CONTEXT, "Web Push: VAPID key and subscriptions"),
        pgettext(CONTEXT, "Manager analytics: trends, activity mix, top performers, attrition risk"),
        pgettext(CONTEXT, "Team budgets for lead awards and challenge pools; the audit trail"),
    )
