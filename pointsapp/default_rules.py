"""The points scheme a fresh install starts with (one place for the migration and the demo).

Plain data, no imports from the app: the ``0002_default_rules`` data migration
reads it, and so does ``rules.seed_default_rules()`` (tests, demo).
"""

from __future__ import annotations

# (event_type, name, points): per-event rules, first versions (in force since the beginning).
DEFAULT_EVENT_RULES: tuple[tuple[str, str, int], ...] = (
    ("loan_signed", "Loan signed", 30),
    ("hnw_client_signed", "New high-net-worth client", 50),
    ("wealth_product_sold", "Wealth product sold", 30),
    ("client_revisit_positive", "Client revisit with good feedback", 10),
    ("product_renewal", "Product renewal", 20),
    ("quarter_no_bad_loans", "Quarter without bad loans (risk system)", 50),
    ("cross_dept_referral", "Cross-department referral (shared)", 50),
    ("mentorship.first_deal", "Mentorship: mentee's first deal", 30),
    ("compliance_breach", "Compliance breach", -100),
)

# Period rules are computed by us when a period closes. The clean-quarter bonus
# is off by default: a bank whose risk system posts ``quarter_no_bad_loans``
# events must not pay twice; an admin switches one or the other on.
DEFAULT_PERIOD_RULES: tuple[dict, ...] = (
    {
        "event_type": "period.clean_quarter",
        "name": "Clean quarter: a loan signed and no bad loan",
        "points": 50,
        "period": "quarter",
        "requires_event_type": "loan_signed",
        "forbids_event_type": "bad_loan",
        "active": False,
    },
)

# The rules' names in Chinese, keyed by (kind, event_type): the 0004 data migration and
# ``rules.seed_default_rules()`` store them as the rules' ``translations``.
DEFAULT_RULE_NAMES_ZH: dict[tuple[str, str], str] = {
    ("event", "loan_signed"): "贷款签约",
    ("event", "hnw_client_signed"): "新签高净值客户",
    ("event", "wealth_product_sold"): "理财产品销售",
    ("event", "client_revisit_positive"): "客户回访获好评",
    ("event", "product_renewal"): "客户续购产品",
    ("event", "quarter_no_bad_loans"): "季度无不良贷款（风控系统）",
    ("event", "cross_dept_referral"): "跨部门转介绍（共享积分）",
    ("event", "mentorship.first_deal"): "师徒带教：徒弟首单",
    ("event", "compliance_breach"): "合规违规",
    ("period", "period.clean_quarter"): "优质季度：有贷款签约且无不良贷款",
}
