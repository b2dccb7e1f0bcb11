"""Reasons the system writes for corrections read in the reader's language, in the wallet and in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from pointsapp import names, rules
from pointsapp.extensions import db
from tests import factories
from tests.conftest import login
from tests.i18n.test_zh_pages import ZH


def _event(external_id, type_, user, **extra) -> dict:
    when = dt.datetime.now(dt.timezone.utc).isoformat()
    return {"external_id": external_id, "type": type_, "user_id": user.id, "occurred_at": when} | extra


def test_a_clawback_reads_in_chinese_in_the_wallet_and_the_audit_log(app, org, api_as):
    rules.seed_default_rules()
    for user in (org.alice, org.admin):
        user.locale = "zh"
    db.session.commit()
    crm = api_as(factories.integration("Core CRM"))
    crm.post("/events", _event("L-9", "loan_signed", org.alice))
    assert crm.post("/events", _event("rv-cb2", "bad_loan", org.alice, related_external_id="L-9")).status_code in (200, 201)
    wallet = login(app.test_client(), org.alice).get("/wallet").get_data(as_text=True)
    assert "因 bad_loan rv-cb2 追回" in wallet and "Clawback" not in wallet
    audit_page = login(app.test_client(), org.admin).get("/admin/audit").get_data(as_text=True)
    assert "因 bad_loan rv-cb2 追回" in audit_page and "Clawback by" not in audit_page
    reader = factories.user("admin", password=factories.PASSWORD, name="Eve", locale="en")  # reads the stored text
    english = login(app.test_client(), reader).get("/admin/audit").get_data(as_text=True)
    assert "Clawback by bad_loan rv-cb2" in english and "追回" not in english


@pytest.mark.parametrize(
    "stored, chinese",
    [
        ("Reversed: Loan signed — Clawback by bad_loan rv-cb2", "冲正：贷款签约 — 因 bad_loan rv-cb2 追回"),
        (
            "Reversed: Loan signed ×2 — bad_loan BL-1 in the period",
            "冲正：贷款签约 ×2 — 期内发生 bad_loan BL-1",
        ),
        (
            "Reversed: Loan signed ×2 — compliance breach CB-1 in 2026-Q4",
            "冲正：贷款签约 ×2 — 2026-Q4 内发生合规违规 CB-1",
        ),
        (
            "Reversed: Loan signed ×2 — event L1 (loan_signed) reversed: Clawback by bad_loan BL1",
            "冲正：贷款签约 ×2 — 业务 L1（loan_signed）已冲正：因 bad_loan BL1 追回",
        ),
        (
            "Restated: team challenge Push — compliance breach CB-1 in 2026-Q4",
            "重新核定：团队挑战 Push — 2026-Q4 内发生合规违规 CB-1",
        ),
        ("Unspent points forfeited on leaving", "离职时未使用积分清零"),
        ("Reversed: Loan signed — Customer cancelled", "冲正：贷款签约 — Customer cancelled"),  # what a person typed
    ],
)
def test_system_reasons_are_rendered_through_the_catalog(app, stored, chinese):
    rules.seed_default_rules()
    with app.test_request_context(headers=ZH), force_locale("zh"):
        rule = next((r for r in names._translated_rules() if stored.removeprefix("Reversed: ").startswith(r.name)), None)
        assert names._entry_reason(stored, rule, None) == chinese


def test_a_forfeit_on_leaving_reads_in_chinese(app, org):
    factories.give_points(org.alice, 40, reason="Unspent points forfeited on leaving", kind="manual_award")
    org.alice.locale = "zh"
    db.session.commit()
    wallet = login(app.test_client(), org.alice).get("/wallet").get_data(as_text=True)
    assert "离职时未使用积分清零" in wallet and "Unspent points" not in wallet


def test_a_redemption_expired_or_withdrawn_by_the_system_says_why_in_chinese(app, org):
    from pointsapp import org as org_ops
    from pointsapp import redemptions, rewards
    from pointsapp.models import RedemptionStep, Reward

    reward = Reward(name="Coffee voucher", kind="training_seat", cost=50, description="", translations={"zh": {"name": "咖啡券"}})
    db.session.add(reward)
    db.session.commit()
    for user in (org.alice, org.bob):
        user.locale = "zh"
        factories.give_points(user, 200)
    expiring, withdrawn = rewards.redeem(org.alice, reward.id), rewards.redeem(org.bob, reward.id)
    db.session.commit()
    with app.test_request_context(headers=ZH), force_locale("zh"):  # whoever triggers it reads Chinese
        assert redemptions.expire(expiring.id, days=7)
        org_ops.deactivate(org.admin, org.bob)
        db.session.commit()
    notes = {s.redemption_id: s.note for s in db.session.scalars(sa.select(RedemptionStep)) if s.note}
    assert notes == {expiring.id: "Not decided within 7 days.", withdrawn.id: "Cancelled: the employee has left."}
    page = login(app.test_client(), org.alice).get("/rewards/mine").get_data(as_text=True)
    assert "7 天内未审批。" in page and "Not decided" not in page
    with app.test_request_context(headers=ZH), force_locale("zh"):
        assert names.system_reason(notes[withdrawn.id]) == "已取消：该员工已离职。"


def test_a_compliance_veto_says_why_in_chinese_on_the_wallet(app, org, api_as):
    rules.seed_default_rules()
    org.alice.locale = "zh"
    db.session.commit()
    crm = api_as(factories.integration("Core CRM"))
    assert crm.post("/events", _event("CB-7", "compliance_breach", org.alice)).status_code in (200, 201)
    wallet = login(app.test_client(), org.alice).get("/wallet").get_data(as_text=True)
    notice = wallet.split("原因：", 1)[1].split("</p>", 1)[0]
    assert notice.startswith("合规违规（业务编号 CB-7）"), notice
    assert "Compliance breach" not in wallet
