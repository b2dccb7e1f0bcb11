"""POST /mentorships and the first-deal bonus."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import LedgerEntry, Mentorship


def now_iso(days: float = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).isoformat()


def pair(api, mentor, mentee):
    return api.post("/mentorships", {"mentor_id": mentor.id, "mentee_id": mentee.id})


def balance(user) -> int:
    db.session.remove()
    return ledger.wallet_summary(user.id).balance


def test_a_lead_pairs_members_of_their_team(org, api_as):
    response = pair(api_as(org.wealth_lead), org.alice, org.bob)
    assert response.status_code == 201
    assert response.json["mentor_id"] == org.alice.id and response.json["mentee_id"] == org.bob.id
    assert db.session.get(Mentorship, response.json["id"]).created_by_id == org.wealth_lead.id


def test_pairing_rules(org, api_as):
    lead = api_as(org.wealth_lead)
    assert pair(lead, org.alice, org.carol).status_code == 403  # carol is in another team
    assert pair(api_as(org.alice), org.alice, org.bob).status_code == 403
    selfie = pair(lead, org.alice, org.alice)
    assert selfie.status_code == 422 and "mentee_id" in selfie.json["error"]["fields"]
    assert pair(lead, org.alice, org.bob).status_code == 201
    reciprocal = pair(lead, org.bob, org.alice)
    assert reciprocal.status_code == 422 and "mentor_id" in reciprocal.json["error"]["fields"]
    second_mentor = pair(api_as(org.admin), org.carol, org.bob)
    assert second_mentor.status_code == 409 and "already has an active mentor" in second_mentor.json["error"]["message"]
    unknown = api_as(org.admin).post("/mentorships", {"mentor_id": 999999, "mentee_id": org.bob.id})
    assert unknown.status_code == 422 and "999999" in unknown.json["error"]["fields"]["mentor_id"][0]
    assert db.session.scalar(sa.select(sa.func.count(Mentorship.id))) == 1


def test_the_mentees_first_deal_pays_both_once(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    pair(api_as(org.admin), org.alice, org.bob)
    admin = api_as(org.admin)
    before = admin.post(
        "/events", {"external_id": "old", "type": "loan_signed", "user_id": org.bob.id, "occurred_at": now_iso(-3)}
    )
    assert [a["kind"] for a in before.json["items"][0]["awards"]] == ["event_award"]  # before the mentorship began
    first = admin.post(
        "/events", {"external_id": "first", "type": "loan_signed", "user_id": org.bob.id, "occurred_at": now_iso()}
    )
    awards = sorted((a["user_id"], a["points"], a["kind"]) for a in first.json["items"][0]["awards"])
    assert awards == sorted(
        [(org.bob.id, 30, "event_award"), (org.bob.id, 30, "mentorship_bonus"), (org.alice.id, 30, "mentorship_bonus")]
    )
    admin.post("/events", {"external_id": "second", "type": "loan_signed", "user_id": org.bob.id, "occurred_at": now_iso()})
    assert balance(org.alice) == 30 and balance(org.bob) == 30 * 3 + 30
    bonus = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.alice.id))
    assert bonus.reason.startswith("Mentorship: mentee's first deal") and bonus.event_id == first.json["items"][0]["id"]


def test_an_event_without_points_does_not_use_up_the_bonus(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    pair(api_as(org.admin), org.alice, org.bob)
    admin = api_as(org.admin)
    admin.post("/events", {"external_id": "m", "type": "client_meeting", "user_id": org.bob.id, "occurred_at": now_iso()})
    admin.post("/events", {"external_id": "d", "type": "wealth_product_sold", "user_id": org.bob.id, "occurred_at": now_iso()})
    assert balance(org.alice) == 30


def test_reversing_the_first_deal_reverses_the_bonus_too(org, api_as):
    rules.seed_default_rules()
    db.session.commit()
    pair(api_as(org.admin), org.alice, org.bob)
    admin = api_as(org.admin)
    event_id = admin.post(
        "/events", {"external_id": "f", "type": "loan_signed", "user_id": org.bob.id, "occurred_at": now_iso()}
    ).json["items"][0]["id"]
    response = admin.post(f"/events/{event_id}/reverse", {"reason": "Loan cancelled by the client"})
    assert sorted(r["points"] for r in response.json["reversals"]) == [-30, -30, -30]
    assert balance(org.alice) == 0 and balance(org.bob) == 0
