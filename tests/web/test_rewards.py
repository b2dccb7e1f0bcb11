"""Rewards pages on a phone: browse, confirm, redeem once, watch it decided; approvals; admin."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Redemption, Reward
from tests import factories
from tests.conftest import csrf_token, login


def make_reward(**fields) -> Reward:
    reward = Reward(**({"name": "Paid leave day", "kind": "leave_day", "cost": 800, "description": ""} | fields))
    db.session.add(reward)
    db.session.commit()
    return reward


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def form_token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_catalog_shows_cost_stock_and_how_many_points_are_missing(client, org):
    make_reward(name="Paid leave day", cost=800)
    make_reward(name="Certification course", kind="training_seat", cost=100, stock=3)
    factories.give_points(org.alice, 240)
    html = page(login(client, org.alice).get("/rewards"))
    assert "Paid leave day" in html and "You need 560 more points" in html
    assert "Certification course" in html and ">3<" in html
    assert html.count(">Redeem<") == 1


def test_empty_catalog_says_so(client, org):
    assert "No rewards are offered at the moment." in page(login(client, org.alice).get("/rewards"))


def test_confirm_shows_the_balance_after_and_redeeming_twice_with_one_form_redeems_once(client, org):
    reward = make_reward(cost=300, stock=2, kind="training_seat")
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    html = page(client.get(f"/rewards/{reward.id}/confirm"))
    assert "1,000" in html and "700" in html and "Redeem for 300 points" in html
    data = {"csrf_token": csrf_token(client, "/rewards"), "token": form_token(html), "quantity": "1", "quoted_points": "300"}
    first = client.post(f"/rewards/{reward.id}/redeem", data=data)
    second = client.post(f"/rewards/{reward.id}/redeem", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"].endswith("/rewards/mine")
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 1
    assert ledger.wallet_summary(org.alice.id).held == 300
    mine = page(client.get("/rewards/mine"))
    assert "Waiting for approval" in mine and "Requested" in mine and "300 points" in mine


def test_confirm_for_a_quantity_recalculates(client, org):
    reward = make_reward(cost=300, kind="other")
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    html = page(client.get(f"/rewards/{reward.id}/confirm?quantity=3", headers={"HX-Request": "true"}))
    assert "<html" not in html and "Redeem for 900 points" in html and ">100<" in html


def test_a_refused_redemption_re_renders_the_confirmation_with_the_reason(client, org):
    reward = make_reward(cost=100, stock=1, kind="training_seat")
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    html = page(client.get(f"/rewards/{reward.id}/confirm"))
    db.session.execute(sa.update(Reward).values(stock=0))
    db.session.commit()
    response = client.post(
        f"/rewards/{reward.id}/redeem",
        data={
            "csrf_token": csrf_token(client, "/rewards"),
            "token": form_token(html),
            "quantity": "1",
        },
    )
    assert response.status_code == 409
    assert "Paid leave day is out of stock." in response.get_data(as_text=True)
    assert ledger.wallet_summary(org.alice.id).held == 0


def test_the_lead_approves_in_one_tap_and_the_employee_sees_it(app, org):
    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    from pointsapp import rewards

    redemption = rewards.redeem(org.alice, reward.id)
    db.session.commit()
    lead = login(app.test_client(), org.wealth_lead)
    queue = page(lead.get("/rewards/approvals"))
    assert "Alice" in queue and "Paid leave day" in queue and "Approve" in queue
    response = lead.post(
        f"/rewards/redemptions/{redemption.id}/approve",
        data={"csrf_token": csrf_token(lead, "/rewards/approvals")},
        headers={"HX-Request": "true"},
    )
    fragment = page(response)
    assert "<html" not in fragment and "Approved" in fragment and "by Wealth Lead" in fragment
    assert "Nothing waits for your decision." in page(lead.get("/rewards/approvals"))
    mine = page(login(app.test_client(), org.alice).get("/rewards/mine"))
    assert "Approved" in mine and "by Wealth Lead" in mine


def test_rejecting_on_the_web_needs_a_reason(app, org):
    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    from pointsapp import rewards

    redemption = rewards.redeem(org.alice, reward.id)
    db.session.commit()
    lead = login(app.test_client(), org.wealth_lead)
    token = csrf_token(lead, "/rewards/approvals")
    url = f"/rewards/redemptions/{redemption.id}/reject"
    refused = lead.post(url, data={"csrf_token": token, "reason": " "}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "Give a reason" in refused.get_data(as_text=True)
    done = lead.post(url, data={"csrf_token": token, "reason": "Audit week"}, headers={"HX-Request": "true"})
    assert "Rejected" in page(done) and "Audit week" in done.get_data(as_text=True)
    assert ledger.wallet_summary(org.alice.id).held == 0


def test_the_owner_cancels_from_my_redemptions(client, org):
    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    from pointsapp import rewards

    redemption = rewards.redeem(org.alice, reward.id)
    db.session.commit()
    login(client, org.alice)
    response = client.post(f"/rewards/redemptions/{redemption.id}/cancel", data={"csrf_token": csrf_token(client, "/rewards")})
    assert response.status_code == 302
    assert "Cancelled: 100 points are available again." in page(client.get("/rewards/mine"))


def test_employees_cannot_open_approvals_or_admin_pages(client, org):
    login(client, org.alice)
    for path in ("/rewards/approvals", "/rewards/admin", "/rewards/exports", "/rewards/exports/payroll.csv?month=2026-11"):
        assert client.get(path).status_code == 403, path


def test_admin_adds_edits_and_switches_off_a_reward(client, org):
    login(client, org.admin)
    token = csrf_token(client, "/rewards/admin")
    bad = client.post("/rewards/admin", data={"csrf_token": token, "name": "Cash", "kind": "bonus_cash", "cost": "ten"})
    assert bad.status_code == 422 and "Enter a number" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Reward.id))) == 0
    response = client.post(
        "/rewards/admin",
        data={
            "csrf_token": token,
            "name": "Bonus cash ¥500",
            "kind": "bonus_cash",
            "cost": "1,000",
            "cash_amount": "500",
            "monthly_budget": "5000",
            "limit_per_year": "",
            "stock": "",
            "active": "1",
            "available_from": "2026-01-01",
            "available_until": "2026-12-31",
        },
    )
    assert response.status_code == 302
    db.session.remove()
    reward = db.session.scalar(sa.select(Reward))
    assert (reward.cost, reward.cash_amount, reward.monthly_budget, reward.stock) == (
        1000,
        Decimal("500.00"),
        Decimal("5000.00"),
        None,
    )
    assert reward.available_until.isoformat() == "2026-12-31T16:00:00+00:00"  # end of 31 Dec in Shanghai
    edit = page(client.get(f"/rewards/admin/{reward.id}"))
    assert 'value="2026-12-31"' in edit and 'value="2026-01-01"' in edit
    client.post(
        f"/rewards/admin/{reward.id}",
        data={
            "csrf_token": token,
            "name": "Bonus cash ¥500",
            "kind": "bonus_cash",
            "cost": "1200",
            "cash_amount": "500",
            "active": "1",
        },
    )
    client.post(f"/rewards/admin/{reward.id}/active", data={"csrf_token": token, "active": "0"})
    db.session.remove()
    reward = db.session.get(Reward, reward.id)
    assert (reward.cost, reward.active, reward.available_from) == (1200, False, None)
    assert "Switched off" in page(client.get("/rewards/admin"))


def test_exports_page_and_csv_download(client, org):
    login(client, org.admin)
    html = page(client.get("/rewards/exports?month=2026-11"))
    assert "Download HR CSV" in html and "November 2026" in html and "export-payroll" not in html
    csv_response = client.get("/rewards/exports/payroll.csv?month=2026-11")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    assert 'filename="payroll-2026-11.csv"' in csv_response.headers["Content-Disposition"]
    assert csv_response.get_data(as_text=True).lstrip("\ufeff").startswith("redemption_id,employee_email")
    assert client.get("/rewards/exports?month=2026-99").status_code == 422
    assert client.get("/rewards/exports/hr.csv?month=nope").status_code == 422


def test_menu_lists_the_rewards_pages_by_role(client, org):
    login(client, org.admin)
    more = page(client.get("/more"))
    for path in ("/rewards/mine", "/rewards/approvals", "/rewards/admin", "/rewards/exports"):
        assert f'href="{path}"' in more, path


def test_the_wallet_points_leads_to_waiting_requests(app, org):
    reward = make_reward(cost=100)
    factories.give_points(org.alice, 1000)
    from pointsapp import rewards

    rewards.redeem(org.alice, reward.id)
    db.session.commit()
    assert "1 of your redemptions is waiting for approval" in page(login(app.test_client(), org.alice).get("/wallet"))
    lead_wallet = page(login(app.test_client(), org.wealth_lead).get("/wallet"))
    assert "1 reward request waits for your decision" in lead_wallet and 'href="/rewards/approvals"' in lead_wallet
    assert "1 reward request waits for your decision" in page(login(app.test_client(), org.admin).get("/wallet"))
    carol = factories.user("employee", org.loans, password=factories.PASSWORD)
    assert "rewards-panel" not in page(login(app.test_client(), carol).get("/wallet"))


def test_admin_form_refuses_out_of_range_numbers_without_an_error_page(client, org):
    login(client, org.admin)
    token = csrf_token(client, "/rewards/admin")
    response = client.post(
        "/rewards/admin",
        data={
            "csrf_token": token,
            "name": "Huge",
            "kind": "bonus_cash",
            "cost": "99999999999999999999",
            "stock": "-1",
            "cash_amount": "NaN",
            "monthly_budget": "1e20",
            "limit_per_year": "0",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.count('class="field-error"') == 5
    assert db.session.scalar(sa.select(sa.func.count(Reward.id))) == 0


def test_exports_page_lists_the_months_payroll_rows(client, org):
    from pointsapp import redemptions, rewards
    from pointsapp.periods import current_key
    from pointsapp.web import period_label

    cash = make_reward(name="Bonus cash ¥500", kind="bonus_cash", cost=100, cash_amount=Decimal("500"))
    factories.give_points(org.alice, 1000)
    redemption = rewards.redeem(org.alice, cash.id, 2)
    redemptions.approve(org.admin, redemption.id)
    db.session.commit()
    login(client, org.admin)
    html = page(client.get("/rewards/exports"))
    assert (
        "Alice" in html
        and "CN¥1,000.00" in html
        and f"1 approved in {period_label(current_key('month'))}, CN¥1,000.00 in total." in html
    )


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://localhost/rewards"}


SWAP = {"HX-Request": "true", "HX-Target": "confirm"}


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:600])
    return response.get_data(as_text=True)


def test_boosted_click_on_redeem_gets_the_whole_confirm_page_and_a_swap_gets_the_fragment(client, org):
    reward = make_reward(cost=300)
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    full = text(client.get(f"/rewards/{reward.id}/confirm", headers=BOOSTED))
    assert "<nav" in full and "<h1>Confirm redemption</h1>" in full and 'id="confirm"' in full
    fragment = text(client.get(f"/rewards/{reward.id}/confirm?quantity=2", headers=SWAP))
    assert "<nav" not in fragment and fragment.lstrip().startswith('<section class="card confirm" id="confirm">')


HUGE = "99999999999999999999"


def test_bonus_cash_reward_needs_a_cash_amount_in_the_admin_form(client, org):
    login(client, org.admin)
    data = {
        "csrf_token": csrf_token(client, "/rewards/admin"),
        "name": "Bonus cash",
        "kind": "bonus_cash",
        "cost": "500",
        "cash_amount": "",
        "description": "",
    }
    html = text(client.post("/rewards/admin", data=data), 422)
    assert "Enter the cash amount paid with each redemption of a bonus." in html
    assert db.session.scalar(sa.select(sa.func.count(Reward.id))) == 0
    assert client.post("/rewards/admin", data=data | {"cash_amount": "200"}).status_code == 302
    db.session.remove()
    assert db.session.scalar(sa.select(Reward.cash_amount)) == 200


def test_exports_page_shows_no_shell_commands(client, org):
    login(client, org.admin)
    html = text(client.get("/rewards/exports?month=2026-11"))
    assert "Download payroll CSV" in html and "approved in November 2026" in html
    assert "flask --app" not in html and "export-payroll" not in html


def test_confirm_page_explains_an_out_of_range_quantity(client, org):
    reward = make_reward(cost=10, kind="other")
    factories.give_points(org.alice, 5000)
    login(client, org.alice)
    for typed, shown in (("500", 100), ("0", 1), ("-3", 1), ("--3", 1), ("abc", 1), (HUGE, 1)):
        html = text(client.get(f"/rewards/{reward.id}/confirm?quantity={typed}", headers=SWAP))
        assert f"You can redeem from 1 to 100 at a time; showing {shown}." in html, typed
        assert f'name="quantity" value="{shown}"' in html
    html = text(client.get(f"/rewards/{reward.id}/confirm?quantity=3", headers=SWAP))
    assert "You can redeem from" not in html and 'name="quantity" value="3"' in html


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1.5", "99999999999"])
def test_a_redeem_form_with_a_quantity_out_of_range_holds_nothing(client, org, quantity):
    reward = make_reward(cost=300, kind="training_seat")
    factories.give_points(org.alice, 1000)
    login(client, org.alice)
    html = page(client.get(f"/rewards/{reward.id}/confirm"))
    data = {"csrf_token": csrf_token(client, "/rewards"), "token": form_token(html), "quantity": quantity}
    response = client.post(f"/rewards/{reward.id}/redeem", data=data)
    assert response.status_code == 422
    assert "You can redeem from 1 to" in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 0
    assert ledger.wallet_summary(org.alice.id).held == 0
