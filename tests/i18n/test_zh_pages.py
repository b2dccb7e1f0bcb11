"""In Chinese, the main pages and the API's error messages show no English words beyond brand names and codes."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import schemathesis
from flask_babel import force_locale

from pointsapp import challenges, notify, rewards, rules
from pointsapp.extensions import db
from pointsapp.models import Badge, Reward
from tests import factories
from tests.conftest import login

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
# Words allowed on a Chinese page: the product's name, the other language's own name, file formats and units.
ALLOWED = {
    "pointsapp",
    "English",
    "CSV",
    "CRM",
    "API",
    "JSON",
    "OpenAPI",
    "Bearer",
    "token",
    "HR",
    "UTF-8",
    "AFP",
    "Content-Type",
    "application",
}
# What a user types literally: the sources and CSV columns the import pages name.
ALLOWED |= {"admin", "email", "name", "role", "team", "employee", "lead"}
API_VALUES = {"week", "month", "quarter", "year", "individual"}  # the values an API parameter takes
CODE = re.compile(r"^(?:[a-z0-9]+(?:[._:-][a-z0-9]+)+|\S*\d\S*)$")  # identifiers (loan_signed) and keys with digits (2026-W48)
PAGES = (
    "/wallet",
    "/rewards",
    "/rewards/mine",
    "/leaderboard",
    "/leaderboard?kind=team",
    "/challenges",
    "/badges",
    "/goals",
    "/notifications",
    "/notifications/settings",
    "/earn",
    "/more",
    "/account",
    "/admin/events/import",
    "/admin/events",
    "/admin/org",
    "/admin/rules",
    "/admin/badges",
    "/admin/awards",
    "/rewards/admin",
    "/rewards/approvals",
    "/rewards/exports",
    "/board-links",
    "/mentorships",
    "/challenges/new",
    "/analytics",
)


def english_words(page: str) -> list[str]:
    """The English words a reader sees on a page (text and labels), without code samples and identifiers."""
    page = re.sub(r"<(script|style|code|pre|kbd|samp)\b.*?</\1>", " ", page, flags=re.S | re.I)
    labels = re.findall(r'\b(?:placeholder|aria-label|title|alt)="([^"]*)"', page)
    text = " ".join([re.sub(r"<[^>]+>", " ", page), *labels])
    text = html.unescape(text)
    text = re.sub(r"\S+@\S+\.\w+", " ", text)  # e-mail addresses
    words = re.findall(r"[A-Za-z][A-Za-z0-9_.:'-]*[A-Za-z0-9]", text)
    return sorted({w for w in words if w not in ALLOWED and not CODE.match(w)})


@pytest.fixture()
def chinese_branch():
    """A branch where everything has its Chinese name: people, teams, rules, a reward, a badge, a challenge."""
    rules.seed_default_rules()
    company = factories.team("华夏银行")
    team = factories.team("浦东支行财富团队", company)
    admin = factories.user("admin", password=factories.PASSWORD, name="马琳", locale="zh")
    lead = factories.user("lead", team, password=factories.PASSWORD, name="黄强", locale="zh")
    member = factories.user("employee", team, password=factories.PASSWORD, name="陈静", locale="zh")
    factories.user("employee", team, name="李伟")
    reward = Reward(
        name="Paid leave day",
        kind="leave_day",
        cost=300,
        description="One day off",
        translations={"zh": {"name": "带薪假一天", "description": "额外带薪年假一天"}},
    )
    db.session.add(reward)
    db.session.add(
        Badge(
            name="Loan star",
            description="Five loans",
            event_type="loan_signed",
            threshold=5,
            period="month",
            translations={"zh": {"name": "贷款之星", "description": "单月签约五笔贷款"}},
        )
    )
    db.session.commit()
    factories.give_points(member, 500, reason="开户奖励")
    now = dt.datetime.now(dt.timezone.utc)
    challenges.launch(
        lead,
        team_id=team.id,
        title="Year-end wealth push",  # an English base title: the pages must show its Chinese one
        translations={"zh": {"title": "年末理财冲刺"}},
        event_type="wealth_product_sold",
        target=10,
        pool=300,
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=6),
    )
    first = dt.date.today() + dt.timedelta(days=9)
    rewards.redeem(member, reward.id, starts_on=first, ends_on=first)
    notify.queue(member.id, "award", "points_awarded", {"points": 30, "reason": "贷款签约"}, url="/wallet")
    db.session.commit()
    return {"admin": admin, "lead": lead, "member": member}


def test_the_login_page_in_chinese_has_no_english(client):
    assert english_words(client.get("/login", headers=ZH).get_data(as_text=True)) == []


def test_the_offline_page_in_chinese_has_no_english(client):
    for page in (client.get("/offline?lang=zh"), client.get("/offline", headers=ZH)):
        assert page.status_code == 200
        assert english_words(page.get_data(as_text=True)) == []
        assert "您已离线" in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["member", "lead", "admin"])
def test_every_main_page_in_chinese_has_no_english(app, chinese_branch, who):
    client = login(app.test_client(), chinese_branch[who])
    found = {}
    for path in PAGES:
        response = client.get(path)
        if response.status_code in (403, 404):  # pages of other roles
            continue
        assert response.status_code == 200, (path, response.status_code)
        if words := english_words(response.get_data(as_text=True)):
            found[path] = words
    assert found == {}, repr(found)


def test_api_errors_in_chinese_have_no_english(api_as, chinese_branch):
    member = api_as(chinese_branch["member"])
    anonymous = api_as(None)
    answers = [
        anonymous.get("/me", headers=ZH),
        member.get("/users/99999", headers=ZH),
        member.post("/redemptions", {"reward_id": "x", "quantity": 0}, headers=ZH),
        member.post("/redemptions", {"reward_id": 99999}, headers=ZH),
        member.post("/awards", {"user_id": 1, "points": 5, "reason": "x"}, headers=ZH),
        member.get("/leaderboard?period=10y", headers=ZH),
        member.post("/rules", {"event_type": "Bad Type", "name": "", "points": 0}, headers=ZH),
        member.post("/awards", {"user_id": 1, "points": 5, "reason": "a\u0000b"}, headers=ZH),
        api_as(factories.integration()).get("/me", headers=ZH),
    ]
    for answer in answers:
        error = answer.get_json()["error"]
        assert set(english_words(error["message"])) <= API_VALUES, error
        for messages in (error.get("fields") or {}).values():
            assert set(english_words(" ".join(map(str, messages)))) <= API_VALUES, error


def test_the_api_docs_page_in_chinese_has_no_english_beyond_codes_and_header_names(app, chinese_branch):
    client = login(app.test_client(), chinese_branch["member"])
    page = client.get("/api/docs").get_data(as_text=True)
    assert "用邮箱和密码换取 Bearer 令牌。" in page and "<h2>团队挑战</h2>" in page
    sections = re.findall(r"<h2>([^<]+)</h2>", page)
    assert sections[:3] == ["组织架构", "积分钱包", "积分奖励"]  # the document's order of tags
    # HTTP methods are codes; header names and the values inside the texts are what a developer types.
    assert set(english_words(page)) <= {"GET", "POST", "PUT", "PATCH", "DELETE", "Authorization"} | DOC_CODES


def test_the_openapi_document_in_chinese_translates_every_summary_description_and_tag(client):
    from pointsapp.api.openapi_text import catalog_entries

    english = client.get("/api/v1/openapi.json", headers={"Accept-Language": "en"}).get_json()
    chinese = client.get("/api/v1/openapi.json", headers=ZH).get_json()
    assert client.get("/api/v1/openapi.json").get_json() == english  # English stays the default
    with force_locale("en"):
        listed = set(catalog_entries())
    english_texts, chinese_texts = list(_texts(english)), list(_texts(chinese))
    assert len(english_texts) == len(chinese_texts)  # the same document, only its texts differ
    missing = sorted({text for _where, text in english_texts} - listed)
    assert missing == [], "add these to pointsapp/api/openapi_text.py and the catalog: " + repr(missing)
    for (where, text), (same_place, translated) in zip(english_texts, chinese_texts):
        assert where == same_place
        assert translated != text or not re.search(r"[A-Za-z]{3}", text), (where, text)
        assert set(english_words(translated)) <= DOC_CODES, (where, translated)
    assert _without_texts(english) == _without_texts(chinese)
    # The test tools read it as they read the English one: the same operations.
    labels = [[r.ok().label for r in schemathesis.openapi.from_dict(d).get_all_operations()] for d in (english, chinese)]
    assert labels[0] == labels[1] and len(labels[1]) >= 44


# Codes and names a developer types that the document's Chinese texts keep.
DOC_CODES = {"Bearer", "VAPID", "URL", "base64", "P-256", "ISO", "UTC", "CSV", "Web", "Push", "drop", "silent", "goal"}
DOC_CODES |= {"https", "next_cursor", "external_id", "loan_signed", "active", "false", "null", "events", "name", "title"}
DOC_CODES |= {"description", "zh", "all", "stock"}


def _texts(document: dict, where: str = ""):
    """(where, text) for every summary, description and tag name, in document order."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("summary", "description") and isinstance(value, str):
                yield f"{where}/{key}", value
            elif key == "tags" and isinstance(value, list):
                for n, tag in enumerate(value):
                    if isinstance(tag, str):
                        yield f"{where}/tags/{n}", tag
                    else:
                        yield f"{where}/tags/{n}/name", tag["name"]
                        yield from _texts(tag, f"{where}/tags/{n}")
            else:
                yield from _texts(value, f"{where}/{key}")
    elif isinstance(document, list):
        for n, value in enumerate(document):
            yield from _texts(value, f"{where}/{n}")


def _without_texts(document):
    """The document with every translated text blanked: what must be identical in both languages."""
    if isinstance(document, dict):
        blank = {}
        for key, value in document.items():
            if key in ("summary", "description") and isinstance(value, str):
                blank[key] = ""
            elif key == "tags" and isinstance(value, list):
                blank[key] = ["" if isinstance(tag, str) else {**_without_texts(tag), "name": ""} for tag in value]
            else:
                blank[key] = _without_texts(value)
        return blank
    if isinstance(document, list):
        return [_without_texts(value) for value in document]
    return document
