"""Badges, honours and leaderboard pages."""

from __future__ import annotations

from pointsapp.extensions import db
from tests.conftest import login


def text(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:600])
    return response.get_data(as_text=True)


def test_badge_earned_in_past_weeks_shows_earned_with_its_weeks_and_honours_are_listed(client, org):
    import datetime as dt

    from pointsapp.models import Badge, BadgeAward, Honor

    badge = Badge(name="Loan streak", event_type="loan_signed", threshold=3, period="week")
    db.session.add(badge)
    db.session.flush()
    for week in ("2026-W44", "2026-W46", "2026-W47"):
        db.session.add(
            BadgeAward(
                badge_id=badge.id,
                user_id=org.alice.id,
                period_key=week,
                awarded_at=dt.datetime(2026, 11, int(week[-2:]) - 30, tzinfo=dt.timezone.utc),
            )
        )
    db.session.commit()
    login(client, org.alice)
    html = text(client.get("/badges"))
    assert "🔒" not in html and "🏅" in html and "Earned 3 times" in html
    assert "This week: 0 of 3" in html and "Earned in: Week 44, 2026 · Week 46, 2026 · Week 47, 2026" in html
    assert "<h2>Honour titles</h2>" in html and "No honour titles yet." in html
    db.session.add(Honor(user_id=org.alice.id, title="Star advisor", period_key="2026-11"))
    db.session.add(Honor(user_id=org.alice.id, title="Quarter champion", period_key="2026-Q4"))
    db.session.commit()
    html = text(client.get("/badges"))
    assert "Star advisor" in html and "November 2026" in html and "Q4 2026" in html and "No honour titles yet." not in html
