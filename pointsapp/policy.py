"""Every "may X do Y to Z" rule, in one place.

Roles: an ``employee`` acts for themselves; a ``lead`` with a ``team_id`` leads
that team and every team under it; an ``admin`` (HR, head office) may do
anything except decide their own redemption. Integration clients (CRM, risk
systems) may post events and nothing else.

Functions answer True/False; ``require`` turns a False into ``NotAllowed``.
"""

from __future__ import annotations

from flask import current_app

from pointsapp.auth import Principal
from pointsapp.errors import NotAllowed
from pointsapp.models import Redemption, User
from pointsapp.models.org import team_subtree_ids

LEAD_APPROVED_KINDS = ("leave_day", "remote_day")
ADMIN_APPROVED_KINDS = ("bonus_cash", "training_seat", "other")


def require(allowed: bool, message: str = "You are not allowed to do that.") -> None:
    if not allowed:
        raise NotAllowed(message)


def is_admin(user: User | None) -> bool:
    return user is not None and user.role == "admin"


def is_lead_or_admin(user: User | None) -> bool:
    """Leads and admins: who sees the lead menu and the award form (what they may do is checked per action)."""
    return user is not None and user.role in ("lead", "admin")


def managed_team_ids(user: User) -> set[int]:
    """The teams a lead manages: their own and every team under it."""
    if user.role != "lead" or user.team_id is None:
        return set()
    return team_subtree_ids(user.team_id)


def manages_team(user: User, team_id: int | None) -> bool:
    if is_admin(user):
        return True
    return team_id is not None and team_id in managed_team_ids(user)


def leads_user(actor: User, target: User) -> bool:
    """True when ``actor`` is a lead over ``target``'s team (and is not ``target``)."""
    return actor.role == "lead" and actor.id != target.id and manages_team(actor, target.team_id)


def can_manage_org(actor: User) -> bool:
    return is_admin(actor)


def can_view_user(actor: User, target: User) -> bool:
    return actor.id == target.id or is_admin(actor) or leads_user(actor, target)


def can_view_wallet(actor: User, target: User) -> bool:
    return can_view_user(actor, target)


def can_award(actor: User, target: User) -> bool:
    """Manual awards and deductions: admins, or a lead for their teams; never to oneself."""
    if actor.id == target.id:
        return False
    return is_admin(actor) or leads_user(actor, target)


def award_limit(actor: User) -> int | None:
    """The most points a manual award or deduction by ``actor`` may move at once (None: no cap)."""
    return None if is_admin(actor) else current_app.config["LEAD_AWARD_LIMIT"]


def can_post_events(principal: Principal) -> bool:
    return principal.integration is not None or is_admin(principal.user)


def can_reverse_events(actor: User) -> bool:
    return is_admin(actor)


def can_edit_rules(actor: User) -> bool:
    return is_admin(actor)


def can_pair_mentors(actor: User, mentor: User, mentee: User) -> bool:
    return is_admin(actor) or (leads_user(actor, mentor) and leads_user(actor, mentee))


def can_lift_veto(actor: User) -> bool:
    return is_admin(actor)


def can_manage_rewards(actor: User) -> bool:
    return is_admin(actor)


def can_decide_redemption(actor: User, redemption: Redemption, owner: User) -> bool:
    """The owner's lead decides leave and remote days; HR (admins) the rest; nobody their own."""
    if actor.id == redemption.user_id:
        return False
    if is_admin(actor):
        return True
    return redemption.reward.kind in LEAD_APPROVED_KINDS and leads_user(actor, owner)


def can_cancel_redemption(actor: User, redemption: Redemption) -> bool:
    return actor.id == redemption.user_id


def can_view_redemption(actor: User, redemption: Redemption, owner: User) -> bool:
    """The owner, an admin, or a lead over the owner may see a redemption and its timeline."""
    return actor.id == redemption.user_id or is_admin(actor) or leads_user(actor, owner)


def can_review_redemptions(actor: User) -> bool:
    """Leads and admins have an approvals queue."""
    return is_admin(actor) or actor.role == "lead"


def can_export(actor: User) -> bool:
    return is_admin(actor)


def can_manage_challenge(actor: User, team_id: int) -> bool:
    return is_admin(actor) or (actor.role == "lead" and manages_team(actor, team_id))


def can_view_challenge(actor: User, team_id: int) -> bool:
    if can_manage_challenge(actor, team_id):
        return True
    return actor.team_id is not None and actor.team_id in team_subtree_ids(team_id)


def can_set_goal(actor: User, target: User) -> bool:
    return is_admin(actor) or leads_user(actor, target)


def can_manage_badges(actor: User) -> bool:
    return is_admin(actor)


def can_award_honors(actor: User) -> bool:
    return is_admin(actor)


def can_view_analytics(actor: User, team_id: int | None = None) -> bool:
    if is_admin(actor):
        return True
    return actor.role == "lead" and (team_id is None or manages_team(actor, team_id))


def can_open_board(actor: User, team_id: int) -> bool:
    return can_manage_challenge(actor, team_id)


def can_import_events(actor: User) -> bool:
    """CSV imports of events (and the events log) are for admins."""
    return is_admin(actor)


def can_manage_mentorships(actor: User) -> bool:
    """Who may open the mentorships page: leads (for their teams) and admins."""
    return is_admin(actor) or (actor.role == "lead" and actor.team_id is not None)


def leads_any_team(actor: User) -> bool:
    """Admins, and leads with a team: who sees the launcher, goals and TV board screens."""
    return is_admin(actor) or (actor.role == "lead" and actor.team_id is not None)


def can_view_budget(actor: User, team_id: int) -> bool:
    """A team's budget: its leads (own team and the teams under it) and admins."""
    return is_admin(actor) or (actor.role == "lead" and manages_team(actor, team_id))


def can_set_budget(actor: User) -> bool:
    return is_admin(actor)


def draws_budget(actor: User | None) -> bool:
    """Lead awards and lead challenge pools come out of a team budget; admins and the system draw none."""
    return actor is not None and not is_admin(actor)


def can_read_audit(actor: User) -> bool:
    return is_admin(actor)
