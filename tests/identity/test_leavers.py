"""People and identity: PATCH /users/{id}, org changes and leavers (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa

from pointsapp import ledger
from pointsapp.extensions import db
from pointsapp.models import Hold, LedgerEntry, Redemption, RedemptionStep, Reward, User
from tests import factories
from tests.conftest import ApiClient, run_concurrently


def make_reward(**fields) -> Reward:
    reward = Reward(**({"name": "Paid leave day", "kind": "leave_day", "cost": 100, "stock": 5, "description": ""} | fields))
    db.session.add(reward)
    db.session.commit()
    return reward


def fresh(model, key):
    db.session.remove()
    return db.session.get(model, key)


# --- PATCH /users/{id} ----------------------------------------------------------


def test_admin_changes_name_role_and_team_and_the_body_says_so(org, api_as):
    response = api_as(org.admin).patch(f"/users/{org.bob.id}", {"name": "Bob Zhang", "role": "lead", "team_id": org.loans.id})
    assert response.status_code == 200, response.json
    assert {k: response.json[k] for k in ("id", "name", "role", "team_id", "active")} == {
        "id": org.bob.id,
        "name": "Bob Zhang",
        "role": "lead",
        "team_id": org.loans.id,
        "active": True,
    }
    user = fresh(User, org.bob.id)
    assert (user.name, user.role, user.team_id) == ("Bob Zhang", "lead", org.loans.id)


def test_user_bodies_include_active(org, api_as):
    assert api_as(org.alice).get("/me").json["active"] is True
    assert api_as(org.admin).get(f"/users/{org.alice.id}").json["active"] is True


def test_an_empty_patch_changes_nothing(org, api_as):
    response = api_as(org.admin).patch(f"/users/{org.bob.id}", {})
    assert response.status_code == 200
    assert response.json["name"] == "Bob" and response.json["team_id"] == org.wealth.id


def test_only_admins_may_patch_users(org, api_as):
    response = api_as(org.wealth_lead).patch(f"/users/{org.bob.id}", {"name": "Robert"})
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
    assert fresh(User, org.bob.id).name == "Bob"
    assert api_as(org.carol).patch(f"/users/{org.carol.id}", {"role": "admin"}).status_code == 403
    assert fresh(User, org.carol.id).role == "employee"


def test_bad_patches_are_refused_with_fields_and_change_nothing(org, api_as):
    admin = api_as(org.admin)
    cases = [
        ({"role": "boss"}, "role"),
        ({"name": ""}, "name"),
        ({"team_id": "x"}, "team_id"),
        ({"active": "no"}, "active"),
    ]
    for body, field in cases:
        response = admin.patch(f"/users/{org.bob.id}", body)
        assert response.status_code == 422, (body, response.json)
        assert field in response.json["error"]["fields"]
    response = admin.patch(f"/users/{org.bob.id}", {"team_id": 99999})
    assert response.status_code == 404 and "team_id" in response.json["error"]["fields"]
    assert admin.patch("/users/99999", {"name": "Nobody"}).status_code == 404
    user = fresh(User, org.bob.id)
    assert (user.name, user.role, user.team_id, user.is_active_account) == ("Bob", "employee", org.wealth.id, True)


def test_the_last_active_admin_cannot_be_deactivated_or_demoted(org, api_as):
    admin = api_as(org.admin)
    for body in ({"active": False}, {"role": "employee"}):
        response = admin.patch(f"/users/{org.admin.id}", body)
        assert response.status_code == 422, response.json
        assert response.json["error"]["code"] == "last_admin"
    assert fresh(User, org.admin.id).is_active_account is True
    second = factories.user("admin", name="Second Admin")
    response = admin.patch(f"/users/{second.id}", {"active": False})
    assert response.status_code == 200 and response.json["active"] is False


# --- deactivation end to end ----------------------------------------------------


def _leaver_with_everything(org, api_as):
    """Alice has 500 points, two pending redemptions (300 held, stock taken) and a token."""
    factories.give_points(org.alice, 500)
    reward = make_reward(cost=100, stock=5)
    alice = api_as(org.alice)
    for quantity in (1, 2):
        assert alice.post("/redemptions", {"reward_id": reward.id, "quantity": quantity}).status_code == 201
    assert fresh(Reward, reward.id).stock == 2
    assert ledger.wallet_summary(org.alice.id).held == 300
    return alice, reward


def test_deactivating_ends_tokens_cancels_redemptions_and_leaves_the_boards(org, api_as, app):
    alice, reward = _leaver_with_everything(org, api_as)
    factories.give_points(org.bob, 10)
    board = api_as(org.bob).get("/leaderboard?period=week").json
    assert org.alice.id in [item["id"] for item in board["items"]]

    response = api_as(org.admin).patch(f"/users/{org.alice.id}", {"active": False})
    assert response.status_code == 200 and response.json["active"] is False

    assert alice.get("/me").status_code == 401
    assert alice.get("/me/wallet").json["error"]["code"] == "unauthorized"
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(Redemption.status == "pending")) == 0
    statuses = Counter(db.session.scalars(sa.select(Redemption.status).where(Redemption.user_id == org.alice.id)))
    assert statuses == {"cancelled": 2}
    notes = set(db.session.scalars(sa.select(RedemptionStep.note).where(RedemptionStep.status == "cancelled")))
    assert notes == {"Cancelled: the employee has left."}
    assert fresh(Reward, reward.id).stock == 5
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.held, summary.available) == (500, 0, 500)  # LEAVER_POLICY=keep: frozen
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Hold).where(Hold.status == "open")) == 0
    for period in ("week", "month"):
        for kind in ("individual", "team"):
            items = api_as(org.bob).get(f"/leaderboard?period={period}&kind={kind}").json["items"]
            if kind == "individual":
                assert org.alice.id not in [item["id"] for item in items]
            else:
                wealth = next(item for item in items if item["id"] == org.wealth.id)
                assert wealth["points"] == 10  # Bob's only
    assert ledger.check_ledger() == []


def test_forfeit_policy_zeroes_what_is_available_with_one_forfeit_entry(org, api_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "LEAVER_POLICY", "forfeit")
    _leaver_with_everything(org, api_as)
    assert api_as(org.admin).patch(f"/users/{org.alice.id}", {"active": False}).status_code == 200
    db.session.remove()
    entries = list(
        db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.user_id == org.alice.id, LedgerEntry.kind == "forfeit"))
    )
    assert [(e.points, e.actor_id) for e in entries] == [(-500, org.admin.id)]
    summary = ledger.wallet_summary(org.alice.id)
    assert (summary.balance, summary.held, summary.lifetime_earned) == (0, 0, 500)  # earned stays earned
    assert api_as(org.admin).get(f"/users/{org.alice.id}/wallet").json["balance"] == 0


def test_forfeit_leaves_a_user_who_owes_points_owing(org, api_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "LEAVER_POLICY", "forfeit")
    factories.give_points(org.bob, 100)
    factories.give_points(org.bob, -150, kind="compliance_deduction")
    assert api_as(org.admin).patch(f"/users/{org.bob.id}", {"active": False}).status_code == 200
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "forfeit")) == 0
    assert ledger.wallet_summary(org.bob.id).balance == -50


def test_a_deactivated_user_cannot_sign_in_until_reactivated(org, api_as, client):
    admin = api_as(org.admin)
    assert admin.patch(f"/users/{org.alice.id}", {"active": False}).status_code == 200
    response = client.post("/api/v1/auth/token", json={"email": org.alice.email, "password": factories.PASSWORD})
    assert response.status_code == 401
    response = admin.patch(f"/users/{org.alice.id}", {"active": True})
    assert response.status_code == 200 and response.json["active"] is True
    response = client.post("/api/v1/auth/token", json={"email": org.alice.email, "password": factories.PASSWORD})
    assert response.status_code == 200 and response.json["user"]["active"] is True


def test_a_leaver_is_not_paid_from_a_challenge_closed_after_they_left(org, api_as):
    import datetime as dt

    from pointsapp import challenges

    now = dt.datetime.now(dt.timezone.utc)
    response = api_as(org.admin).post(
        "/challenges",
        {
            "team_id": org.wealth.id,
            "title": "Autumn drive",
            "event_type": "loan_signed",
            "target": 2,
            "pool": 100,
            "starts_at": (now - dt.timedelta(days=1)).isoformat(),
            "ends_at": (now + dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    challenge_id = response.json["id"]
    factories.recorded_event(org.alice, "loan_signed")
    factories.recorded_event(org.bob, "loan_signed")
    assert api_as(org.admin).patch(f"/users/{org.alice.id}", {"active": False}).status_code == 200
    closed = api_as(org.admin).post(f"/challenges/{challenge_id}/close").json
    assert closed["status"] == "succeeded"
    assert {p["user_id"]: p["points"] for p in closed["payouts"]} == {org.bob.id: 100}
    assert challenges  # the module the endpoint uses


def test_moving_teams_keeps_history_and_team_boards_count_the_current_team(org, api_as):
    factories.give_points(org.alice, 70)
    factories.give_points(org.carol, 20)
    assert api_as(org.admin).patch(f"/users/{org.alice.id}", {"team_id": org.loans.id}).status_code == 200
    ledger_items = api_as(org.alice).get("/me/ledger").json["items"]
    assert [item["points"] for item in ledger_items] == [70]
    assert api_as(org.alice).get("/me/wallet").json["period_points"]["week"] == 70
    teams = {item["id"]: item["points"] for item in api_as(org.carol).get("/leaderboard?period=week&kind=team").json["items"]}
    assert teams[org.loans.id] == 90  # Alice's points moved with her
    assert teams.get(org.wealth.id, 0) == 0


def test_deactivation_racing_with_redemptions_leaves_nothing_pending(app, org):
    """Ten redemptions race one deactivation: whatever got in is cancelled, and nothing is held afterwards."""
    factories.give_points(org.alice, 1000)
    reward = make_reward(cost=10, stock=None)
    tokens = [factories.token_for(org.alice) for _ in range(10)]
    admin = ApiClient(app, factories.token_for(org.admin))
    clients = [ApiClient(app, token) for token in tokens]

    def act(i):
        if i == 10:
            return admin.patch(f"/users/{org.alice.id}", {"active": False})
        return clients[i].post("/redemptions", {"reward_id": reward.id})

    responses = run_concurrently(act, 11)
    assert responses[10].status_code == 200, responses[10].json
    assert {r.status_code for r in responses[:10]} <= {201, 401, 403}
    db.session.remove()
    pending = db.session.scalar(sa.select(sa.func.count()).select_from(Redemption).where(Redemption.status == "pending"))
    assert pending == 0
    assert ledger.wallet_summary(org.alice.id).held == 0
    assert ledger.wallet_summary(org.alice.id).balance == 1000


def test_a_leaver_is_off_the_tv_board_and_gets_no_reminders(org, api_as):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from pointsapp import leaderboard, reminders
    from pointsapp.models import Notification

    factories.give_points(org.alice, 50)
    factories.give_points(org.bob, 20)
    _, token = leaderboard.create_link(org.wealth_lead, org.wealth.id, "Branch screen")
    db.session.commit()
    assert org.alice.id in [place.id for place in leaderboard.tv_board(token).top.items]

    assert api_as(org.admin).patch(f"/users/{org.alice.id}", {"active": False}).status_code == 200
    db.session.remove()
    on_screen = [place.id for place in leaderboard.tv_board(token).top.items]
    assert org.alice.id not in on_screen and on_screen[0] == org.bob.id
    shanghai = ZoneInfo("Asia/Shanghai")
    today = dt.datetime.now(shanghai).date()
    friday = dt.datetime.combine(today - dt.timedelta(days=today.weekday() - 4), dt.time(15), shanghai)
    reminders.schedule_reminders(friday.astimezone(dt.timezone.utc))  # Alice (50 of 100) would be reminded
    db.session.commit()
    assert org.alice.id not in set(db.session.scalars(sa.select(Notification.user_id)))
    assert org.bob.id in set(db.session.scalars(sa.select(Notification.user_id)))


def test_org_changes_and_leavers_are_audited(org, api_as):
    admin = api_as(org.admin)
    assert admin.patch(f"/users/{org.bob.id}", {"name": "Bob Zhang", "team_id": org.loans.id}).status_code == 200
    assert admin.patch(f"/users/{org.bob.id}", {"active": False}).status_code == 200
    assert admin.patch(f"/users/{org.bob.id}", {"active": True}).status_code == 200
    items = admin.get(f"/audit?subject_type=user&subject_id={org.bob.id}").json["items"]
    assert [(item["action"], item["actor_id"]) for item in items] == [
        ("user.updated", org.admin.id),
        ("user.deactivated", org.admin.id),
        ("user.updated", org.admin.id),
        ("user.created", None),
    ]  # newest first; the factory created Bob as the system
    reactivated, deactivated, moved = (item["details"] for item in items[:3])
    assert moved["changes"] == {"name": ["Bob", "Bob Zhang"], "team_id": [org.wealth.id, org.loans.id]}
    assert deactivated == {"leaver_policy": "keep", "tokens_revoked": 0, "cancelled_redemptions": [], "forfeited_points": 0}
    assert reactivated["changes"] == {"active": [False, True]}
