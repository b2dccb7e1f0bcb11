"""Typed SQLAlchemy models, one module per area; importing this registers them all."""

from pointsapp.models.authority import AuditRecord, BudgetReservation, BudgetUsage, TeamBudget
from pointsapp.models.earning import Event, Mentorship, PeriodClose, Rule, Veto
from pointsapp.models.ledger import Hold, IdempotencyRecord, LedgerEntry, PeriodTotal, Wallet
from pointsapp.models.notify import Notification, NotificationPreference, PushSubscription, WecomDelivery
from pointsapp.models.org import ApiToken, Integration, Team, User
from pointsapp.models.rewards import Redemption, RedemptionStep, Reward
from pointsapp.models.teams import Badge, BadgeAward, BoardLink, Challenge, ChallengePayout, ChallengeRestatement, Goal, Honor

__all__ = [
    "ApiToken",
    "AuditRecord",
    "BudgetReservation",
    "BudgetUsage",
    "TeamBudget",
    "Badge",
    "BadgeAward",
    "BoardLink",
    "Challenge",
    "ChallengePayout",
    "ChallengeRestatement",
    "Event",
    "Goal",
    "Hold",
    "Honor",
    "IdempotencyRecord",
    "Integration",
    "LedgerEntry",
    "Mentorship",
    "Notification",
    "NotificationPreference",
    "PeriodClose",
    "PeriodTotal",
    "PushSubscription",
    "Redemption",
    "RedemptionStep",
    "Reward",
    "Rule",
    "Team",
    "User",
    "Veto",
    "Wallet",
    "WecomDelivery",
]
