"""SQLite checkpoints are taken after a write request's response is sent, not inside its commit.

Each test builds its own SQLite file, whatever database the suite runs on: the
checkpoint concerns SQLite's write-ahead log alone.
"""

from __future__ import annotations

import struct

import pytest
import sqlalchemy as sa

from pointsapp import database
from pointsapp.extensions import csrf, db
from tests.conftest import make_test_app

PAGES = 4


def _log_state(path) -> tuple[int, int]:
    """(frames in the log, frames already copied into the database), from the WAL index in ``-shm``."""
    shm = (path.parent / (path.name + "-shm")).read_bytes()
    return struct.unpack("=I", shm[16:20])[0], struct.unpack("=I", shm[96:100])[0]


@pytest.fixture(params=["path", "uri"])
def sqlite_app(request, tmp_path):
    """A SQLite file named by its path, or by a URI filename (where the log is found through SQLite itself)."""
    path = tmp_path / "checkpoint.db"
    url = f"sqlite:///{path}" if request.param == "path" else f"sqlite:///file:{path}?uri=true"
    app = make_test_app(SQLALCHEMY_DATABASE_URI=url, SQLITE_CHECKPOINT_PAGES=PAGES)

    @app.post("/scratch/<int:rows>")
    @csrf.exempt
    def write_rows(rows):
        db.session.execute(sa.text("INSERT INTO scratch (body) VALUES (:body)"), [{"body": "x" * 900}] * rows)
        return {"written": rows}

    @app.get("/scratch")
    def read_rows():
        return {"rows": db.session.execute(sa.text("SELECT count(*) FROM scratch")).scalar()}

    with app.app_context():
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE scratch (id INTEGER PRIMARY KEY, body TEXT)")
        raw = db.engine.raw_connection()  # outside a transaction, where a checkpoint can run
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.close()
    yield app, path
    with app.app_context():
        db.engine.dispose()


def test_a_write_request_checkpoints_once_its_response_is_closed(sqlite_app):
    app, path = sqlite_app
    client = app.test_client()
    response = client.post("/scratch/120", buffered=False)  # some 30 pages: under the commit's own threshold
    assert response.get_json() == {"written": 120}
    frames, copied = _log_state(path)
    assert PAGES < frames < PAGES * database.AUTOCHECKPOINT_FACTOR and copied < frames  # not inside the commit
    response.close()
    frames_after, copied_after = _log_state(path)
    assert frames_after == frames and copied_after == frames  # everything copied back, after the answer
    assert client.get("/scratch").get_json() == {"rows": 120}


def test_a_small_write_or_a_read_leaves_the_log_alone(sqlite_app):
    app, path = sqlite_app
    client = app.test_client()
    client.post("/scratch/1").close()
    frames, copied = _log_state(path)
    assert 0 < frames <= PAGES and copied == 0
    client.get("/scratch").close()
    assert _log_state(path) == (frames, copied)


def test_the_log_file_shrinks_back_once_checkpointed(sqlite_app):
    """The file's size is the measure of what waits: a writer after a checkpoint cuts it back to the limit."""
    app, path = sqlite_app
    client = app.test_client()
    client.post("/scratch/400").close()
    wal = path.parent / (path.name + "-wal")
    grown = wal.stat().st_size
    client.post("/scratch/1").close()
    assert grown > PAGES * 4096 and wal.stat().st_size <= PAGES * (4096 + database.WAL_FRAME_HEADER)
    with app.app_context():
        assert database.checkpoint_if_due(db.engine, PAGES) is False
