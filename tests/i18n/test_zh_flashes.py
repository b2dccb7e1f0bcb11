"""In Chinese, what a page says after an action names rewards, rules and teams by their Chinese names."""

from __future__ import annotations

import re

from pointsapp.extensions import db
from pointsapp.models import Reward
from tests import factories
from tests.conftest import csrf_token, login

ZH_NAMES = {"zh": {"name": "咖啡券"}}


def _reward(**fields) -> Reward:
    reward = Reward(
        **({"name": "Coffee voucher", "kind": "training_seat", "cost": 50, "description": "", "translations": ZH_NAMES} | fields)
    )
    db.session.add(reward)
    db.session.commit()
    return reward


def _member():
    team = factories.team("浦东支行")
    return factories.user("employee", team, password=factories.PASSWORD, name="陈静", locale="zh")


def _redeem_one(app, member, reward) -> str:
    """Sign in, confirm and redeem one; the page the redirect lands on."""
    client = login(app.test_client(), member)
    confirm = client.get(f"/rewards/{reward.id}/confirm").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', confirm).group(1)
    data = {"csrf_token": csrf_token(client, "/rewards"), "token": token, "quantity": "1", "quoted_points": "50"}
    return client.post(f"/rewards/{reward.id}/redeem", data=data, follow_redirects=True).get_data(as_text=True)


def test_the_redeem_confirmation_names_the_reward_in_chinese(app):
    member, reward = _member(), _reward()
    factories.give_points(member, 500)
    page = _redeem_one(app, member, reward)
    assert "已申请兑换 咖啡券" in page
    assert "Coffee voucher" not in page


def test_a_refused_redemption_names_the_reward_in_chinese(app):
    member, reward = _member(), _reward(stock=0)
    factories.give_points(member, 500)
    page = _redeem_one(app, member, reward)
    assert "咖啡券" in page and "Coffee voucher" not in page


def test_switching_a_reward_off_names_it_in_chinese(app):
    team = factories.team("总行")
    admin = factories.user("admin", team, password=factories.PASSWORD, name="马琳", locale="zh")
    reward = _reward()
    client = login(app.test_client(), admin)
    page = client.post(
        f"/rewards/admin/{reward.id}/active",
        data={"csrf_token": csrf_token(client, "/rewards/admin"), "active": "0"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "咖啡券" in page and "Coffee voucher" not in page


def test_the_board_links_list_names_teams_in_chinese(app):
    from pointsapp import leaderboard

    team = factories.team("Wealth Team")
    team.translations = {"zh": {"name": "财富团队"}}
    lead = factories.user("lead", team, password=factories.PASSWORD, name="黄强", locale="zh")
    db.session.commit()
    leaderboard.create_link(lead, team.id, "大堂电视")
    db.session.commit()
    page = login(app.test_client(), lead).get("/board-links").get_data(as_text=True)
    listed = page.split("大堂电视", 1)[0].rsplit('class="reason">', 1)[-1]
    assert listed.startswith("财富团队") and "Wealth Team" not in page
