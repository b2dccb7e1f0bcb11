"""Challenge titles in two languages: the API, the launch form, the pages, the wallet and the notifications."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_babel import force_locale

from pointsapp import names, notify, rules
from pointsapp.extensions import db
from pointsapp.models import Challenge, LedgerEntry, Notification, User
from tests.conftest import csrf_token, login
from tests.test_challenges import launch
from tests.test_corrections import ago, ev, post_events

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
TITLE_ZH = "四季度贷款冲刺"


def test_a_challenge_launched_with_a_chinese_title_answers_each_caller_in_their_language(org, api_as):
    lead = api_as(org.wealth_lead)
    created = launch(lead, org.wealth, translations={"zh": {"title": f"  {TITLE_ZH} "}})
    assert created.status_code == 201, created.json
    assert created.json["title"] == "Q4 loan push"  # the lead reads English
    assert created.json["translations"] == {"zh": {"title": TITLE_ZH}}
    challenge_id = created.json["id"]
    assert api_as(org.alice).get(f"/challenges/{challenge_id}", headers=ZH).json["title"] == TITLE_ZH
    assert api_as(org.alice).get(f"/challenges/{challenge_id}", headers=EN).json["title"] == "Q4 loan push"
    listed = api_as(org.alice).get("/challenges", headers=ZH).json["items"]
    assert [item["title"] for item in listed] == [TITLE_ZH]
    untranslated = launch(lead, org.wealth, title="Card sprint").json
    assert api_as(org.alice).get(f"/challenges/{untranslated['id']}", headers=ZH).json["title"] == "Card sprint"


def test_bad_challenge_translations_are_a_422_naming_the_field_with_nothing_written_or_reserved(org, api_as):
    lead = api_as(org.wealth_lead)
    for bad in ({"zh": {"name": "名称"}}, {"fr": {"title": "Défi"}}, {"zh": "标题"}, {"zh": {"title": "长" * 161}}):
        response = launch(lead, org.wealth, translations=bad)
        assert response.status_code == 422, (bad, response.json)
        assert "translations" in response.json["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Challenge)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_launch_close_and_restatement_notifications_and_wallet_entries_read_in_the_readers_language(org, api_as):
    rules.seed_default_rules()
    org.alice.locale = "zh"
    db.session.commit()
    admin = api_as(org.admin)
    items = post_events(
        admin, ev("a", "loan_signed", org.alice, ago(5), quantity=3), ev("b", "loan_signed", org.bob, ago(5), quantity=2)
    )
    body = {"team_id": org.wealth.id, "title": "Q4 loan push", "event_type": "loan_signed", "target": 5, "pool": 500}
    created = admin.post(
        "/challenges", body | {"starts_at": ago(10), "ends_at": ago(1), "translations": {"zh": {"title": TITLE_ZH}}}
    )
    assert created.status_code == 201, created.json
    assert admin.post(f"/challenges/{created.json['id']}/close").json["status"] == "succeeded"
    assert admin.post(f"/events/{items[0]['id']}/reverse", {"reason": "Loan cancelled"}).status_code == 200

    def titles(user) -> dict[str, str]:
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "challenge", Notification.user_id == user.id)
        )
        return {n.template: notify.render_for(n, user)[0] for n in rows}

    assert titles(org.alice) == {
        "challenge_launched": f"团队挑战已发起：{TITLE_ZH}",
        "challenge_closed": render_zh("Challenge closed: %(title)s", TITLE_ZH),
        "challenge_restated": render_zh("Challenge restated: %(title)s", TITLE_ZH),
    }
    assert titles(org.bob)["challenge_restated"] == "Challenge restated: Q4 loan push"  # Bob reads English
    zh_reasons = [item["reason"] for item in api_as(org.alice).get("/me/ledger", headers=ZH).json["items"]]
    challenge_reasons = [reason for reason in zh_reasons if TITLE_ZH in reason]
    assert len(challenge_reasons) == 2, zh_reasons  # the payout and its reversal
    assert not any("Q4 loan push" in reason or "Team challenge" in reason for reason in zh_reasons), zh_reasons
    reversal = db.session.scalar(
        sa.select(LedgerEntry).where(
            LedgerEntry.user_id == org.alice.id, LedgerEntry.reason.startswith("Restated: team challenge")
        )
    )
    with force_locale("zh"):  # alone on a page, without its payout beside it
        assert TITLE_ZH in names.entry_reasons([reversal])[reversal.id]
    en_reasons = [item["reason"] for item in api_as(org.bob).get("/me/ledger", headers=EN).json["items"]]
    assert "Team challenge: Q4 loan push" in en_reasons


def render_zh(msgid: str, title: str) -> str:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale("zh"):
        return _(msgid, title=title)


def test_the_launch_form_takes_both_titles_side_by_side_and_the_pages_show_the_readers(app, org):
    rules.seed_default_rules()
    db.session.execute(sa.update(User).where(User.id == org.alice.id).values(locale="zh"))
    db.session.commit()
    lead_client, reader = app.test_client(), app.test_client()
    login(lead_client, org.wealth_lead)
    form = lead_client.get("/challenges/new").get_data(as_text=True)
    assert 'name="title"' in form and 'name="title_zh"' in form
    fields = {
        "csrf_token": csrf_token(lead_client, "/challenges/new"),
        "team_id": str(org.wealth.id),
        "title": "Q4 loan push",
        "title_zh": TITLE_ZH,
        "event_type": "loan_signed",
        "target": "10",
        "pool": "100",
        "starts_at": (dt.datetime.now() - dt.timedelta(days=2)).strftime("%Y-%m-%dT09:00"),
        "ends_at": (dt.datetime.now() + dt.timedelta(days=300)).strftime("%Y-%m-%dT09:00"),  # still running when checked
    }
    refused = lead_client.post("/challenges/new", data=fields | {"pool": "0"})
    assert refused.status_code == 422 and f'value="{TITLE_ZH}"' in refused.get_data(as_text=True)  # both titles kept
    assert lead_client.post("/challenges/new", data=fields).status_code == 302
    challenge = db.session.scalar(sa.select(Challenge))
    assert challenge.title == "Q4 loan push" and challenge.translations == {"zh": {"title": TITLE_ZH}}
    login(reader, org.alice)
    for path in ("/challenges", f"/challenges/{challenge.id}"):
        html = reader.get(path).get_data(as_text=True)
        assert TITLE_ZH in html and "Q4 loan push" not in html, path
    assert "Q4 loan push" in lead_client.get(f"/challenges/{challenge.id}").get_data(as_text=True)
