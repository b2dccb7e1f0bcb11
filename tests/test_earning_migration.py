"""The 0002 data migration seeds exactly the default points scheme."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from pointsapp.extensions import db
from pointsapp.models import Rule
from tests.conftest import make_test_app
from tests.test_migrations import empty_database_url  # noqa: F401 - a fresh database on either backend


def test_a_fresh_install_has_exactly_the_default_rules(empty_database_url):  # noqa: F811
    app = make_test_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        rows = db.session.execute(sa.select(Rule.kind, Rule.event_type, Rule.points, Rule.active, Rule.valid_from)).all()
        db.session.remove()
        db.engine.dispose()
    event_rules = {(t, p) for k, t, p, a, f in rows if k == "event" and a and f is None}
    assert event_rules == {
        ("loan_signed", 30),
        ("hnw_client_signed", 50),
        ("wealth_product_sold", 30),
        ("client_revisit_positive", 10),
        ("product_renewal", 20),
        ("quarter_no_bad_loans", 50),
        ("cross_dept_referral", 50),
        ("mentorship.first_deal", 30),
        ("compliance_breach", -100),
    }
    assert [(t, p, a) for k, t, p, a, _ in rows if k == "period"] == [("period.clean_quarter", 50, False)]
    assert len(rows) == 10
