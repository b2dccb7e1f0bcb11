"""Names in two languages: rules, badges, rewards and teams answer in the caller's language."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from pointsapp import rules
from pointsapp.extensions import db
from pointsapp.models import Rule
from tests import factories
from tests.conftest import make_test_app
from tests.test_migrations import empty_database_url  # noqa: F401 - a fresh database on either backend

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def test_a_migrated_install_answers_the_default_rules_in_chinese_to_a_chinese_caller(empty_database_url):  # noqa: F811
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        admin = factories.user("admin", name="HR")
        token = factories.token_for(admin)
        client = app.test_client()
        zh = client.get("/api/v1/rules", headers={"Authorization": f"Bearer {token}", **ZH}).get_json()["items"]
        en = client.get("/api/v1/rules", headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"}).get_json()[
            "items"
        ]
        db.session.remove()
        db.engine.dispose()
    zh_names = {item["event_type"]: item["name"] for item in zh}
    assert zh_names["loan_signed"] == "贷款签约"
    assert zh_names["hnw_client_signed"] == "新签高净值客户"
    assert zh_names["compliance_breach"] == "合规违规"
    assert all(not any("a" <= ch.lower() <= "z" for ch in name.replace("（", "").replace("）", "")) for name in zh_names.values())
    assert {item["event_type"]: item["name"] for item in en}["loan_signed"] == "Loan signed"


def test_the_seeded_rules_and_a_users_own_language_setting_choose_the_name(api_as):
    rules.seed_default_rules()
    member = factories.user("employee", locale="zh")
    db.session.commit()
    body = api_as(member).get("/rules", headers={"Accept-Language": "en"}).get_json()
    assert {i["event_type"]: i["name"] for i in body["items"]}["wealth_product_sold"] == "理财产品销售"


def test_a_rule_published_with_a_translation_falls_back_to_its_base_name_in_other_languages(api_as):
    admin = factories.user("admin")
    db.session.commit()
    api = api_as(admin)
    created = api.post(
        "/rules",
        {"event_type": "card_issued", "name": "Credit card issued", "points": 5, "translations": {"zh": {"name": "信用卡发卡"}}},
        headers=ZH,
    )
    assert created.status_code == 201
    assert created.get_json()["name"] == "信用卡发卡"
    assert created.get_json()["translations"] == {"zh": {"name": "信用卡发卡"}}
    assert api.get("/rules", headers={"Accept-Language": "en"}).get_json()["items"][0]["name"] == "Credit card issued"
    # A new version that only changes the points keeps the Chinese name.
    api.post("/rules", {"event_type": "card_issued", "name": "Credit card issued", "points": 8})
    assert db.session.scalar(sa.select(Rule).where(Rule.active.is_(True))).translations == {"zh": {"name": "信用卡发卡"}}
    untranslated = api.post("/rules", {"event_type": "fx_deal", "name": "FX deal", "points": 5}, headers=ZH).get_json()
    assert untranslated["name"] == "FX deal"


def test_an_unknown_language_or_field_in_translations_is_a_422_naming_the_field_and_nothing_is_written(api_as):
    admin = factories.user("admin")
    db.session.commit()
    api = api_as(admin)
    bad = api.post("/rules", {"event_type": "x_deal", "name": "X", "points": 5, "translations": {"fr": {"name": "X"}}})
    assert bad.status_code == 422
    assert "translations" in bad.get_json()["error"]["fields"]
    worse = api.post(
        "/badges", {"name": "B", "event_type": "loan_signed", "threshold": 2, "translations": {"zh": {"title": "x"}}}
    )
    assert worse.status_code == 422 and "translations" in worse.get_json()["error"]["fields"]
    assert api.post("/teams", {"name": "T", "translations": {"zh": "团队"}}).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rule)) == 0


def test_badges_rewards_and_teams_carry_both_languages(api_as):
    admin = factories.user("admin")
    db.session.commit()
    api = api_as(admin)
    badge = api.post(
        "/badges",
        {
            "name": "Loan star",
            "description": "Five loans in a week",
            "event_type": "loan_signed",
            "threshold": 5,
            "period": "week",
            "translations": {"zh": {"name": "贷款之星", "description": "一周内签约五笔贷款"}},
        },
    ).get_json()
    reward = api.post(
        "/rewards",
        {
            "name": "Paid leave day",
            "kind": "leave_day",
            "cost": 300,
            "description": "One day off",
            "translations": {"zh": {"name": "带薪假一天"}},
        },
    ).get_json()
    team = api.post("/teams", {"name": "Wealth Team", "translations": {"zh": {"name": "财富管理团队"}}}).get_json()
    zh_badges = api.get("/badges", headers=ZH).get_json()["items"]
    assert zh_badges == [
        {
            "id": badge["id"],
            "name": "贷款之星",
            "description": "一周内签约五笔贷款",
            "event_type": "loan_signed",
            "threshold": 5,
            "period": "week",
            "translations": {"zh": {"name": "贷款之星", "description": "一周内签约五笔贷款"}},
        }
    ]
    zh_reward = api.get("/rewards", headers=ZH).get_json()["items"][0]
    assert (zh_reward["name"], zh_reward["description"]) == ("带薪假一天", "One day off")  # no Chinese description: the base text
    assert api.get("/rewards", headers={"Accept-Language": "en"}).get_json()["items"][0]["name"] == "Paid leave day"
    assert team["translations"] == {"zh": {"name": "财富管理团队"}}
    member = factories.user("employee", locale="zh")
    factories.give_points(member, 500)
    redemption = api_as(member).post("/redemptions", {"reward_id": reward["id"]}).get_json()
    assert redemption["reward_name"] == "带薪假一天"


def test_wallet_entries_read_in_the_readers_language_on_the_page_and_in_the_api(api_as, client):
    from tests.conftest import login

    rules.seed_default_rules()
    member = factories.user("employee", password=factories.PASSWORD, locale="zh")
    other = factories.user("employee")
    integration = factories.integration()
    db.session.commit()
    events = api_as(integration).post(
        "/events",
        {
            "events": [
                {
                    "external_id": "L-1",
                    "type": "loan_signed",
                    "user_id": member.id,
                    "occurred_at": "2026-11-20T09:00:00+08:00",
                    "quantity": 2,
                },
                {
                    "external_id": "R-1",
                    "type": "cross_dept_referral",
                    "user_id": member.id,
                    "participants": [other.id],
                    "occurred_at": "2026-11-20T10:00:00+08:00",
                },
            ]
        },
    )
    assert events.status_code == 201, events.get_json()
    reasons = [item["reason"] for item in api_as(member).get("/me/ledger").get_json()["items"]]
    assert reasons == ["跨部门转介绍（共享积分）（共享 1/2，共 50 分）", "贷款签约 ×2"]
    english = [item["reason"] for item in api_as(other).get("/me/ledger", headers={"Accept-Language": "en"}).get_json()["items"]]
    assert english == ["Cross-department referral (shared) (share 2 of 2 of 50)"]
    page = login(client, member).get("/wallet").get_data(as_text=True)
    assert "贷款签约 ×2" in page and "Loan signed" not in page


def test_admin_forms_take_both_languages_side_by_side(app, client):
    from tests.conftest import csrf_token, login

    admin = factories.user("admin", password=factories.PASSWORD)
    member = factories.user("employee", password=factories.PASSWORD, locale="zh")
    db.session.commit()
    login(client, admin)
    form = client.get("/rewards/admin").get_data(as_text=True)
    assert 'name="name_zh"' in form and 'name="description_zh"' in form
    token = csrf_token(client, "/rewards/admin")
    created = client.post(
        "/rewards/admin",
        data={
            "csrf_token": token,
            "name": "Training seat: wealth certificate",
            "name_zh": "培训名额：财富管理师认证",
            "kind": "training_seat",
            "cost": "900",
            "description": "Two days",
            "description_zh": "两天课程",
            "active": "1",
        },
    )
    assert created.status_code in (200, 302), created.get_data(as_text=True)[:300]
    from pointsapp.models import Reward

    reward = db.session.scalar(sa.select(Reward))
    assert reward.translations == {"zh": {"name": "培训名额：财富管理师认证", "description": "两天课程"}}
    assert 'value="培训名额：财富管理师认证"' in client.get(f"/rewards/admin/{reward.id}").get_data(as_text=True)
    client.post(
        "/admin/rules",
        data={"csrf_token": token, "event_type": "card_issued", "name": "Card issued", "name_zh": "信用卡发卡", "points": "5"},
    )
    rule = db.session.scalar(sa.select(Rule).where(Rule.event_type == "card_issued"))
    assert rule is not None and rule.translations == {"zh": {"name": "信用卡发卡"}}
    catalog = login(app.test_client(), member).get("/rewards").get_data(as_text=True)
    assert "培训名额：财富管理师认证" in catalog and "两天课程" in catalog and "wealth certificate" not in catalog


def test_notifications_name_rules_badges_and_rewards_in_the_readers_language(api_as):
    from pointsapp import notify
    from pointsapp.models import Notification, User

    rules.seed_default_rules()
    admin = factories.user("admin")
    member = factories.user("employee", locale="zh")
    english = factories.user("employee", locale="en")
    integration = factories.integration()
    db.session.commit()
    api = api_as(admin)
    api.post(
        "/badges",
        {"name": "First loan", "event_type": "loan_signed", "threshold": 1, "translations": {"zh": {"name": "首笔贷款"}}},
    )
    reward = api.post(
        "/rewards", {"name": "Coffee voucher", "kind": "other", "cost": 10, "translations": {"zh": {"name": "咖啡券"}}}
    ).get_json()
    for n, user in enumerate((member, english)):
        event = {"external_id": f"L-{n}", "type": "loan_signed", "user_id": user.id, "occurred_at": "2026-11-20T09:00:00+08:00"}
        assert api_as(integration).post("/events", event).status_code == 201
    redemption = api_as(member).post("/redemptions", {"reward_id": reward["id"]}).get_json()
    assert api.post(f"/redemptions/{redemption['id']}/approve").status_code == 200

    def texts(user) -> dict[str, tuple[str, str]]:
        rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id))
        return {n.template: notify.render_for(n, db.session.get(User, user.id)) for n in rows}

    chinese = texts(member)
    assert chinese["points_awarded"][1] == "贷款签约"
    assert chinese["badge_earned"][0].endswith("首笔贷款")
    assert "咖啡券" in chinese["redemption_approved"][1] and "Coffee" not in chinese["redemption_approved"][1]
    assert texts(english)["points_awarded"][1] == "Loan signed"
    assert texts(english)["badge_earned"][0] == "New badge: First loan"


def test_the_analytics_dashboard_names_teams_and_rules_in_the_readers_language(app, api_as):
    from pointsapp.models import Team
    from tests.conftest import login

    rules.seed_default_rules()
    team = factories.team("Wealth Team")
    team.translations = {"zh": {"name": "财富管理团队"}}
    lead = factories.user("lead", team, password=factories.PASSWORD, locale="zh")
    member = factories.user("employee", team)
    integration = factories.integration()
    db.session.commit()
    event = {"external_id": "L-1", "type": "loan_signed", "user_id": member.id, "occurred_at": "2026-11-20T09:00:00+08:00"}
    assert api_as(integration).post("/events", event).status_code == 201
    page = login(app.test_client(), lead).get(f"/analytics?team_id={team.id}").get_data(as_text=True)
    assert "财富管理团队" in page and "贷款签约" in page
    assert "Wealth Team" not in page and "Loan signed" not in page
    assert db.session.get(Team, team.id).name == "Wealth Team"
