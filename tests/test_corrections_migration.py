"""The corrections migration recomputes existing wallets' lifetime points under the new definition."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from pointsapp.extensions import db
from tests.conftest import make_test_app
from tests.test_migrations import empty_database_url  # noqa: F401 - a fresh database on either backend


def test_existing_wallets_get_lifetime_earned_less_reversals_never_less_deductions(empty_database_url):  # noqa: F811
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO user_account (id, email, name, role, locale, is_active_account, session_version, created_at) "
                "VALUES (1, 'a@example.com', 'A', 'employee', 'en', TRUE, 0, CURRENT_TIMESTAMP)"
            )
            # Under the old definition lifetime was Σ non-spending entries: 30 + 50 - 100 - 30 - 5 = -55.
            conn.exec_driver_sql(
                "INSERT INTO wallet (user_id, balance, held, lifetime_earned, updated_at) VALUES (1, -75, 0, -55, CURRENT_TIMESTAMP)"
            )
            rows = [
                (1, 30, "event_award", None),
                (2, 50, "event_award", None),
                (3, -100, "compliance_deduction", None),
                (4, -30, "reversal", 1),
                (5, -5, "manual_deduction", None),
                (6, 100, "reversal", 3),
                (7, -20, "redemption", None),
            ]
            for entry_id, points, kind, reverses in rows:
                conn.execute(
                    sa.text(
                        "INSERT INTO ledger_entry (id, user_id, points, kind, reason, reverses_id, effective_at, created_at) "
                        "VALUES (:id, 1, :points, :kind, 'x', :reverses, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"id": entry_id, "points": points, "kind": kind, "reverses": reverses},
                )
        upgrade()
        lifetime = db.session.execute(sa.text("SELECT lifetime_earned FROM wallet WHERE user_id = 1")).scalar()
        db.session.remove()
        db.engine.dispose()
    # Earned 30 + 50, less the reversal of the 30; the breach, its reversal, the deduction and spending do not count.
    assert lifetime == 50
