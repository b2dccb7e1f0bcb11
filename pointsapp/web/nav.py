"""Navigation: the phone's tab bar and the "More" menu, filtered by role.

Each entry is (endpoint, label, icon, who) where ``who`` is "all", "lead"
(leads and admins) or "admin"; who sees what is decided in policy.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pointsapp import policy

TABS = [
    ("wallet.index", _l("Wallet"), "💰", "all"),
    ("rewards.catalog", _l("Rewards"), "🎁", "all"),
    ("recognition.leaderboard", _l("Ranking"), "🏆", "all"),
    ("challenges.index", _l("Challenges"), "🎯", "all"),
    ("wallet.more", _l("More"), "☰", "all"),
]

MENU = [
    ("earning.how_to_earn", _l("How to earn"), "📋", "all"),
    ("rewards.my_redemptions", _l("My redemptions"), "🧾", "all"),
    ("recognition.badges", _l("Badges and honours"), "🏅", "all"),
    ("notifications.index", _l("Notifications"), "🔔", "all"),
    ("notifications.settings", _l("Notification settings"), "⚙️", "all"),
    ("account.index", _l("My account"), "👤", "all"),
    ("rewards.approvals", _l("Approvals"), "✅", "lead"),
    ("admin.award", _l("Award points"), "➕", "lead"),
    ("challenges.new", _l("Launch a challenge"), "🚀", "lead"),
    ("earning.mentorships", _l("Mentorships"), "🤝", "lead"),
    ("recognition.goals", _l("Weekly goals"), "🎯", "lead"),
    ("analytics.dashboard", _l("Team dashboard"), "📈", "lead"),
    ("recognition.board_links", _l("TV board"), "📺", "lead"),
    ("admin.org_page", _l("Teams and users"), "👥", "admin"),
    ("earning.admin_rules", _l("Points rules"), "⚖️", "admin"),
    ("earning.events_log", _l("Events log"), "🗂️", "admin"),
    ("earning.import_page", _l("Import events"), "⬆️", "admin"),
    ("rewards.admin_catalog", _l("Rewards catalog"), "🛍️", "admin"),
    ("rewards.exports", _l("Payroll and HR exports"), "📤", "admin"),
    ("authority.budgets_page", _l("Team budgets"), "💼", "admin"),
    ("authority.audit_page", _l("Audit trail"), "🔎", "admin"),
    ("recognition.admin_badges", _l("Badges and honours admin"), "🎖️", "admin"),
]


def _allowed(user, who: str) -> bool:
    if who == "all":
        return True
    if who == "lead":
        return policy.is_lead_or_admin(user)
    return policy.is_admin(user)


def items(entries, user):
    """The entries ``user`` may see, as (endpoint, label, icon)."""
    return [(e, label, icon) for e, label, icon, who in entries if _allowed(user, who)]
