"""A web worker does not load what only other processes need (the password checker, the Web Push sender, migrations).

Measured: zxcvbn's word lists take about 13 MB, pywebpush with aiohttp about 10 MB and
Flask-Migrate with Alembic about 11 MB of each worker's memory. The check runs in a fresh interpreter, since this one has them loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HEAVY_FOR_WORKERS = ("zxcvbn", "pywebpush", "aiohttp", "alembic", "flask_migrate")

_SERVE_A_FEW_PAGES = textwrap.dedent(
    """
    import json, sys
    from pointsapp import create_app
    from pointsapp.extensions import db

    app = create_app()
    with app.app_context():
        db.create_all()
    client = app.test_client()
    statuses = [client.get(path).status_code for path in ("/login", "/api/v1/openapi.json", "/offline", "/sw.js")]
    print(json.dumps({"statuses": statuses, "loaded": [name for name in sys.argv[1:] if name in sys.modules]}))
    """
)


def test_serving_pages_loads_neither_the_password_checker_nor_the_push_sender_nor_migrations(tmp_path):
    env = dict(os.environ, POINTSAPP_INSTANCE=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'footprint.db'}")
    env.pop("TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _SERVE_A_FEW_PAGES, *HEAVY_FOR_WORKERS],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["statuses"] == [200, 200, 200, 200]
    assert report["loaded"] == []


def test_the_password_checker_still_refuses_a_common_password(app):
    from pointsapp import auth
    from pointsapp.errors import ValidationFailed

    with app.test_request_context():
        try:
            auth.check_password_strength("password1234")
        except ValidationFailed as refused:
            assert "password" in refused.fields
        else:
            raise AssertionError("a common password was accepted")
