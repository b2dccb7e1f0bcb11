"""The request lifecycle: one commit per request, and none for a refused one, whatever the view answered."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so

from pointsapp import ledger, rules
from pointsapp.extensions import db
from pointsapp.models import Event, Hold, IdempotencyRecord, LedgerEntry, Notification, Redemption, Reward
from tests import factories
from tests.conftest import csrf_token, login

WEB = Path(__file__).resolve().parents[1] / "pointsapp" / "web"


def _referral_with_one_share_reversed(org, api_as) -> Event:
    """A referral that paid Alice and Carol, whose share for Carol was already reversed on its own."""
    rules.seed_default_rules()
    db.session.commit()
    api_as(org.admin).post(
        "/events",
        {
            "events": [
                {
                    "external_id": "ref-1",
                    "type": "cross_dept_referral",
                    "user_id": org.alice.id,
                    "participants": [org.carol.id],
                    "occurred_at": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat(),
                }
            ]
        },
    )
    event = db.session.scalar(sa.select(Event).where(Event.external_id == "ref-1"))
    carols = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.event_id == event.id, LedgerEntry.user_id == org.carol.id)
    )
    ledger.reverse(carols, actor_id=org.admin.id, reason="Carol's share was a mistake")
    db.session.commit()
    return event


def test_a_refused_form_answered_with_a_redirect_writes_nothing_it_had_flushed(org, client, api_as):
    event = _referral_with_one_share_reversed(org, api_as)
    login(client, org.admin)
    token = csrf_token(client, "/admin/events")
    # The reversal marks the event and reverses Alice's share (both flushed) before Carol's share refuses.
    response = client.post(f"/admin/events/{event.id}/reverse", data={"csrf_token": token, "reason": "Client withdrew"})
    assert response.status_code == 302
    assert "already been reversed" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.remove()
    assert db.session.get(Event, event.id).reversed_at is None
    alice_entries = db.session.scalars(sa.select(LedgerEntry.points).where(LedgerEntry.user_id == org.alice.id)).all()
    assert alice_entries == [25]
    assert ledger.wallet_summary(org.alice.id).balance == 25


def test_a_refused_redemption_form_leaves_stock_holds_and_redemptions_as_they_were(org, client):
    reward = Reward(name="Training seat", kind="training_seat", cost=500, stock=3, description="")
    db.session.add(reward)
    db.session.commit()
    factories.give_points(org.alice, 200)
    login(client, org.alice)
    # The redemption row and the stock are written before the hold finds too few points.
    response = client.post(f"/rewards/{reward.id}/redeem", data={"csrf_token": csrf_token(client, "/rewards"), "quantity": "1"})
    assert response.status_code == 422
    assert "300" in response.get_data(as_text=True)  # the points still missing
    db.session.remove()
    assert db.session.get(Reward, reward.id).stock == 3
    assert db.session.scalar(sa.select(sa.func.count(Redemption.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Hold.id))) == 0


def test_an_idempotent_replay_commits_nothing_new(org, api_as):
    admin = api_as(org.admin)
    payload = {"user_id": org.alice.id, "points": 40, "reason": "Big loan"}
    first = admin.post("/awards", payload, headers={"Idempotency-Key": "award-7"})
    assert first.status_code == 201

    def counts():
        db.session.remove()
        return [db.session.scalar(sa.select(sa.func.count(m.id))) for m in (LedgerEntry, IdempotencyRecord, Notification)]

    before = counts()
    flushes = []
    listener = lambda session, context: flushes.append(list(session.new) + list(session.dirty))  # noqa: E731
    sa.event.listen(so.Session, "after_flush", listener)
    try:
        again = admin.post("/awards", payload, headers={"Idempotency-Key": "award-7"})
    finally:
        sa.event.remove(so.Session, "after_flush", listener)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert flushes == []
    assert counts() == before == [1, 1, 1]
    assert ledger.wallet_summary(org.alice.id).balance == 40


def test_a_refused_idempotent_request_keeps_no_key_and_a_retry_runs_again(org, api_as):
    admin = api_as(org.admin)
    refused = admin.post("/awards", {"user_id": org.alice.id, "points": 0, "reason": "x"}, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 422
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) == 0
    retry = admin.post("/awards", {"user_id": org.alice.id, "points": 5, "reason": "x"}, headers={"Idempotency-Key": "k"})
    assert retry.status_code == 201 and retry.json["points"] == 5


def _handlers_that_swallow_a_refusal(path: Path):
    """``except DomainError`` blocks of a view module that neither re-raise every time nor call ``refuse()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.ExceptHandler) or node.type is None:
            continue
        names = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
        if not names & {"DomainError", "ValidationFailed", "NotFound", "NotAllowed", "Conflict", "InvalidTransition"}:
            continue
        first = node.body[0]
        calls_refuse = (
            isinstance(first, ast.Expr) and isinstance(first.value, ast.Call) and getattr(first.value.func, "id", "") == "refuse"
        )
        if not calls_refuse and not isinstance(first, ast.Raise):
            yield f"{path.name}:{node.lineno}"


def test_every_page_that_catches_a_refusal_reports_it_first():
    offenders = [where for path in sorted(WEB.glob("*.py")) for where in _handlers_that_swallow_a_refusal(path)]
    assert offenders == []


def test_the_source_check_notices_a_handler_that_forgets(tmp_path):
    view = tmp_path / "view.py"
    view.write_text("def v():\n    try:\n        op()\n    except DomainError as error:\n        flash(error.message)\n")
    assert list(_handlers_that_swallow_a_refusal(view)) == ["view.py:4"]
