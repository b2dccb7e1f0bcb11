"""The signed-in user: read as a plain row on every request, and copied from this worker's last load while that row is unchanged."""

from __future__ import annotations

import contextlib

import pytest
import sqlalchemy as sa

from pointsapp import auth
from pointsapp.extensions import db
from pointsapp.models import User
from tests.conftest import ON_POSTGRES, csrf_token, login


@contextlib.contextmanager
def user_loads(app):
    """The ORM loads of a user by id while inside (a plain-row read goes to the driver and is not counted)."""
    loads: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if "FROM user_account" in statement and "WHERE user_account.id =" in statement:
            loads.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield loads
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


def _change_row(app, user_id: int, **values) -> None:
    """Change the user's row as another worker or host would: outside any request of this client."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(sa.update(User).where(User.id == user_id).values(**values))


def test_a_second_request_copies_the_user_it_loaded_while_the_row_is_unchanged(org, app, client):
    login(client, org.alice)
    client.get("/more")  # the first request of this worker since sign-in loads, or finds the sign-in's load
    with user_loads(app) as loads:
        first = client.get("/more")
        second = client.get("/more")
    assert first.status_code == second.status_code == 200
    assert org.alice.email in second.get_data(as_text=True)
    assert len(loads) == 0  # the row read at the driver's pace is the row last kept, so nothing is loaded again


def test_a_change_made_elsewhere_shows_on_the_very_next_request(org, app, client):
    login(client, org.alice)
    assert "Alice" in client.get("/more").get_data(as_text=True)
    _change_row(app, org.alice.id, name="Alicia Renamed", role="lead")
    with user_loads(app) as loads:
        page = client.get("/more").get_data(as_text=True)
    assert "Alicia Renamed" in page
    assert len(loads) == 1  # the changed row was loaded afresh, on either database
    with app.test_request_context("/"):
        assert auth.signed_in_user(org.alice.id).role == "lead"


def test_a_user_deactivated_elsewhere_is_signed_out_at_once(org, app, client):
    login(client, org.alice)
    assert client.get("/wallet").status_code == 200
    _change_row(app, org.alice.id, is_active_account=False)
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sessions_ended_elsewhere_end_here_on_the_next_request(org, app, client):
    login(client, org.alice)
    assert client.get("/wallet").status_code == 200
    _change_row(app, org.alice.id, session_version=User.session_version + 1)  # "log out everywhere", from another host
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_what_a_request_changes_on_its_user_is_saved_and_seen_next(org, app, client):
    login(client, org.alice)
    client.get("/account")
    token = csrf_token(client, "/account")
    saved = client.post("/account", data={"action": "language", "locale": "zh", "csrf_token": token})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(User, org.alice.id).locale == "zh"
    assert '<html lang="zh' in client.get("/account").get_data(as_text=True)


def test_a_change_in_place_to_one_requests_user_never_reaches_the_next(org, app):
    _change_row(app, org.alice.id, scim_profile={"name": {"givenName": "Alice"}, "unset": []})
    with app.test_request_context("/"):
        db.session.remove()  # a fresh session, as a request starts with: the user is not in it yet
        assert auth.signed_in_user(org.alice.id) is not None  # loaded, and kept
        db.session.remove()
        with user_loads(app) as loads:
            user = auth.signed_in_user(org.alice.id)  # copied from what was kept
        assert len(loads) == 0
        user.scim_profile["name"]["givenName"] = "Mallory"  # changed in place, never saved
        db.session.rollback()
        db.session.remove()
        again = auth.signed_in_user(org.alice.id)
        assert again.scim_profile == {"name": {"givenName": "Alice"}, "unset": []}
        assert again is not user


def test_an_unknown_user_id_has_no_user(org, app):
    with app.test_request_context("/"):
        assert auth.signed_in_user(10**6) is None


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite reads the row and the object from one snapshot")
def test_a_load_that_differs_from_the_row_read_before_it_is_not_kept(org, app, monkeypatch):
    """PostgreSQL: a commit between the row's read and the object's load must not pair an old row with a new object."""
    read = auth._USER_ROW.first
    with app.app_context():
        first = db.session.execute(sa.select(User.name, User.role, User.updated_at).where(User.id == org.alice.id)).one()

    def read_then_commit_elsewhere(user_id):
        row = read(user_id)
        _change_row(app, user_id, name="Renamed Between", role="admin")  # lands before the object's load
        return row

    with app.test_request_context("/"):
        db.session.remove()
        monkeypatch.setattr(auth._USER_ROW, "first", read_then_commit_elsewhere)
        assert auth.signed_in_user(org.alice.id).role == "admin"  # this request has the newer object
        monkeypatch.undo()
        # Back to the very row read first, its time of change included: only the check keeps the newer object out.
        _change_row(app, org.alice.id, name=first.name, role=first.role, updated_at=first.updated_at)
        db.session.remove()
        with user_loads(app) as loads:
            again = auth.signed_in_user(org.alice.id)
        assert len(loads) == 1  # nothing was kept under the old row: loaded afresh
        assert (again.role, again.name) == (first.role, first.name)


def test_a_bearer_request_reads_its_user_in_the_same_statement_as_its_token(org, app, api_as, monkeypatch):
    api = api_as(org.alice)
    db.session.commit()
    assert api.get("/me").json["name"] == org.alice.name  # the first request loads the user and keeps it

    def no_second_read(*_values):
        raise AssertionError("the user's row was read again, apart from the token")

    monkeypatch.setattr(auth._USER_ROW, "first", no_second_read)
    _change_row(app, org.alice.id, name="Alicia Renamed", role="lead")
    with user_loads(app) as loads:
        me = api.get("/me").json
        again = api.get("/me").json
    assert me["name"] == again["name"] == "Alicia Renamed" and me["role"] == again["role"] == "lead"
    assert len(loads) == 1  # the changed row, read with the token, was loaded once and then kept
    _change_row(app, org.alice.id, is_active_account=False)
    assert api.get("/me").status_code == 401  # a deactivated user's token answers nothing
