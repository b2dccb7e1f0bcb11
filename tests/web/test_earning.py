"""Earning pages: how to earn, rules admin, events log with reversal, CSV import, mentorships, veto panel."""

from __future__ import annotations

import io

import sqlalchemy as sa

from pointsapp import earning, ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Event, LedgerEntry, Mentorship, Rule, Veto
from tests import factories
from tests.conftest import csrf_token, login

CSV = (
    "external_id,type,user_id,occurred_at,quantity,participants\n"
    "r1,loan_signed,{alice},2026-11-20T10:30:00+08:00,1,\n"
    "r2,cross_dept_referral,{alice},2026-11-21 15:00,,{bob};{carol}\n"
    "r3,loan_signed,999999,2026-11-21T15:00:00+08:00,,\n"
    "r4,loan_signed,{bob},not a date,,\n"
)


def seed():
    rules.seed_default_rules()
    db.session.commit()


def upload(client, org, text):
    token = csrf_token(client, "/admin/events/import")
    data = {"csrf_token": token, "file": (io.BytesIO(text.encode()), "events.csv")}
    return client.post("/admin/events/import", data=data, content_type="multipart/form-data")


def run_import(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    location = response.headers["Location"]
    import_id = int(location.rstrip("/").split("/")[-1])
    page = client.get(location).get_data(as_text=True)
    assert 'class="progress"' in page and "hx-post" in page
    token = csrf_token(client, location)
    for _ in range(10):
        fragment = client.post(f"/admin/events/import/{import_id}/step", headers={"X-CSRFToken": token, "HX-Request": "true"})
        html = fragment.get_data(as_text=True)
        if "hx-post" not in html:
            return html
    raise AssertionError("the import never finished")


def test_everyone_sees_how_to_earn(org, client):
    seed()
    login(client, org.alice)
    html = client.get("/earn").get_data(as_text=True)
    assert "Loan signed" in html and "+30" in html and "-100" in html
    assert "Mentorship: mentee" not in html  # explained in prose, with its points
    assert "30 points" in html


def test_the_csv_import_reports_each_row_and_a_second_import_changes_nothing(org, client):
    seed()
    login(client, org.admin)
    text = CSV.format(alice=org.alice.id, bob=org.bob.id, carol=org.carol.id)
    report = run_import(client, upload(client, org, text))
    assert "999999" in report and "occurred_at" in report
    assert report.count(">created<") == 2 and report.count(">invalid<") == 2
    db.session.remove()
    assert ledger.wallet_summary(org.alice.id).balance == 30 + 17
    assert db.session.scalar(sa.select(sa.func.count(Event.id))) == 2
    assert set(db.session.scalars(sa.select(Event.source))) == {"admin"}
    again = run_import(client, upload(client, org, text))
    assert again.count(">duplicate<") == 2
    db.session.remove()
    assert ledger.wallet_summary(org.alice.id).balance == 47


def test_a_file_without_the_needed_columns_is_refused_naming_them(org, client):
    login(client, org.admin)
    response = upload(client, org, "id,kind\n1,loan\n")
    assert response.status_code == 422
    assert "external_id" in response.get_data(as_text=True)


def test_the_import_command_matches_the_page(org, cli, tmp_path):
    seed()
    path = tmp_path / "events.csv"
    path.write_text(CSV.format(alice=org.alice.id, bob=org.bob.id, carol=org.carol.id), encoding="utf-8")
    result = cli.invoke(args=["import-events", str(path)])
    assert result.exit_code == 1
    assert "Row 4, column user_id: invalid: There is no user 999999." in result.output
    assert "Row 5, column occurred_at" in result.output
    assert "2 created" in result.output
    again = cli.invoke(args=["import-events", str(path)])
    assert "0 created, 2 duplicate" in again.output
    db.session.remove()
    assert ledger.wallet_summary(org.alice.id).balance == 47


def test_the_events_log_filters_and_reverses_with_a_reason(org, client, api_as):
    seed()
    api = api_as(org.admin)
    api.post(
        "/events",
        {
            "events": [
                {"external_id": "a", "type": "loan_signed", "user_id": org.alice.id, "occurred_at": "2026-11-02T09:00:00+08:00"},
                {
                    "external_id": "b",
                    "type": "product_renewal",
                    "user_id": org.bob.id,
                    "occurred_at": "2026-11-03T09:00:00+08:00",
                },
            ]
        },
    )
    login(client, org.admin)
    html = client.get(f"/admin/events?user_id={org.alice.id}").get_data(as_text=True)
    assert "Loan signed" in html and "Product renewal" not in html.split('id="events"')[1]
    assert (
        client.get("/admin/events?type=product_renewal&from=2026-11-03&to=2026-11-03").get_data(as_text=True).count("event-row")
        == 1
    )
    assert client.get("/admin/events?from=2026-11-04").get_data(as_text=True).count("event-row") == 0
    event_id = db.session.scalar(sa.select(Event.id).where(Event.external_id == "a"))
    token = csrf_token(client, "/admin/events")
    response = client.post(f"/admin/events/{event_id}/reverse", data={"csrf_token": token, "reason": "Loan cancelled"})
    assert response.status_code == 302
    page = client.get("/admin/events").get_data(as_text=True)
    assert "Reversed" in page and "Loan cancelled" in page
    db.session.remove()
    assert ledger.wallet_summary(org.alice.id).balance == 0


def test_the_events_log_is_for_admins(org, client):
    login(client, org.wealth_lead)
    assert client.get("/admin/events").status_code == 403
    assert client.get("/admin/events/import").status_code == 403
    assert client.get("/admin/rules").status_code == 403


def test_admins_publish_and_switch_rules_on_the_page(org, client):
    seed()
    login(client, org.admin)
    token = csrf_token(client, "/admin/rules")
    response = client.post(
        "/admin/rules", data={"csrf_token": token, "event_type": "loan_signed", "name": "Loan signed", "points": "35"}
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Rule.points).where(Rule.event_type == "loan_signed", Rule.active.is_(True))) == 35
    bad = client.post("/admin/rules", data={"csrf_token": token, "event_type": "loan_signed", "name": "x", "points": "lots"})
    assert bad.status_code == 422 and "whole number" in bad.get_data(as_text=True)
    period_rule = db.session.scalar(sa.select(Rule).where(Rule.kind == "period"))
    client.post(f"/admin/rules/{period_rule.id}/active", data={"csrf_token": token, "active": "1"})
    db.session.remove()
    assert db.session.scalar(sa.select(Rule.active).where(Rule.kind == "period", Rule.active.is_(True))) is True
    closed = client.post(
        "/admin/periods/close", data={"csrf_token": token, "period": "quarter", "key": "2026-Q3"}, follow_redirects=True
    )
    assert "0 awarded" in closed.get_data(as_text=True)


def test_a_lead_pairs_a_mentorship_on_the_page(org, client):
    lead = factories.user("lead", org.wealth, password=factories.PASSWORD)
    login(client, lead)
    token = csrf_token(client, "/mentorships")
    response = client.post("/mentorships", data={"csrf_token": token, "mentor_id": org.alice.id, "mentee_id": org.bob.id})
    assert response.status_code == 302
    page = client.get("/mentorships").get_data(as_text=True)
    assert "Alice mentors Bob" in page
    again = client.post("/mentorships", data={"csrf_token": token, "mentor_id": org.alice.id, "mentee_id": org.alice.id})
    assert again.status_code == 422 and "mentor themselves" in again.get_data(as_text=True)
    mentorship = db.session.scalar(sa.select(Mentorship))
    client.post(f"/mentorships/{mentorship.id}/end", data={"csrf_token": token})
    db.session.remove()
    assert db.session.get(Mentorship, mentorship.id).ended_at is not None


def test_the_wallet_shows_a_veto_and_its_reason(org, client, api_as):
    seed()
    api_as(org.admin).post(
        "/events",
        {"external_id": "cb", "type": "compliance_breach", "user_id": org.alice.id, "occurred_at": "2026-11-02T09:00:00+08:00"},
    )
    login(client, org.alice)
    html = client.get("/wallet").get_data(as_text=True)
    assert "Compliance veto" in html and "Q4 2026" in html and "Compliance breach (event cb)" in html
    assert "You owe 100 points" in html
    veto = db.session.scalar(sa.select(Veto))
    admin_client = login(client.application.test_client(), org.admin)
    token = csrf_token(admin_client, "/admin/events")
    assert "Compliance vetoes in force" in admin_client.get("/admin/events").get_data(as_text=True)
    admin_client.post(f"/admin/vetoes/{veto.id}/lift", data={"csrf_token": token, "reason": "Reviewed with compliance"})
    assert "Compliance veto" not in client.get("/wallet").get_data(as_text=True)
    assert earning.vetoed_user_ids("quarter", "2026-Q4") == set()
    assert db.session.scalar(sa.select(LedgerEntry.points)) == -100


def test_an_events_page_shows_its_entries_with_the_rule_version(org, client, api_as):
    seed()
    item = (
        api_as(org.admin)
        .post(
            "/events",
            {
                "external_id": "ref-9",
                "type": "cross_dept_referral",
                "user_id": org.alice.id,
                "participants": [org.carol.id],
                "occurred_at": "2026-11-02T09:00:00+08:00",
            },
        )
        .json["items"][0]
    )
    login(client, org.admin)
    html = client.get(f"/admin/events/{item['id']}").get_data(as_text=True)
    assert "ref-9" in html and "Cross-department referral (shared) v1" in html
    assert "Alice" in html and "Carol" in html and "Reverse" in html
    assert client.get("/admin/events/999999").status_code == 404


def test_the_events_log_loads_more_with_htmx(org, client, api_as):
    api_as(org.admin).post(
        "/events",
        {
            "events": [
                {
                    "external_id": f"m{i}",
                    "type": "client_meeting",
                    "user_id": org.alice.id,
                    "occurred_at": f"2026-11-{1 + i % 20:02d}T09:00:00+08:00",
                }
                for i in range(35)
            ]
        },
    )
    login(client, org.admin)
    html = client.get(f"/admin/events?type=client_meeting&user_id={org.alice.id}").get_data(as_text=True)
    assert html.count("event-row") == 30 and "Load more" in html
    cursor_url = html.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")
    assert "type=client_meeting" in cursor_url
    fragment = client.get(cursor_url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.count("event-row") == 5 and "<html" not in fragment and "Load more" not in fragment


BOOSTED = {"HX-Request": "true", "HX-Boosted": "true", "HX-Current-URL": "http://localhost/rewards"}


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:600])
    return response.get_data(as_text=True)


def test_boosted_visit_of_an_import_progress_page_has_the_layout(client, org):
    login(client, org.admin)
    token = csrf_token(client, "/admin/events/import")
    data = {
        "csrf_token": token,
        "file": (
            io.BytesIO(b"external_id,type,user_id,occurred_at\nx1,loan_signed,999999,2026-11-20T10:30:00+08:00\n"),
            "events.csv",
        ),
    }
    response = client.post("/admin/events/import", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"], headers=BOOSTED))
    assert "<nav" in html and "Importing events.csv" in html and 'id="import-progress"' in html


def test_event_import_accepts_emails_and_its_sample_shows_real_emails(client, org):
    from pointsapp import rules
    from pointsapp.models import Event, LedgerEntry

    rules.seed_default_rules()
    db.session.commit()
    login(client, org.admin)
    page = text(client.get("/admin/events/import"))
    assert "their email address" in page and f"crm-1001,loan_signed,{org.alice.email}," in page
    csv = (
        "external_id,type,user_id,occurred_at,quantity,participants\n"
        f"m1,loan_signed,{org.alice.email.upper()},2026-11-20T10:30:00+08:00,1,\n"
        f"m2,cross_dept_referral,{org.alice.email},2026-11-21 15:00,,{org.bob.email};{org.carol.id}\n"
        "m3,loan_signed,nobody@example.com,2026-11-21T15:00:00+08:00,,\n"
    )
    token = csrf_token(client, "/admin/events/import")
    response = client.post(
        "/admin/events/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "file": (io.BytesIO(csv.encode()), "hr.csv")},
    )
    location = response.headers["Location"]
    for _ in range(5):
        html = text(client.post(location + "/step", headers={"X-CSRFToken": token, "HX-Request": "true"}))
        if "hx-post" not in html:
            break
    assert "No user has the email nobody@example.com." in html
    db.session.remove()
    events = {e.external_id: e for e in db.session.scalars(sa.select(Event))}
    assert set(events) == {"m1", "m2"} and events["m1"].user_id == org.alice.id
    earners = set(db.session.scalars(sa.select(LedgerEntry.user_id).where(LedgerEntry.event_id == events["m2"].id)))
    assert {org.bob.id, org.carol.id} <= earners
