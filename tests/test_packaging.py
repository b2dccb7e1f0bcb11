"""The built wheel, installed into a fresh virtualenv outside the checkout, is a working app."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(300)]  # pip resolves the dependencies: slow on a busy machine

ROOT = Path(__file__).resolve().parent.parent

# Run by the installed interpreter: the login page in Chinese and a static file, from the installed package.
SMOKE = """
import pointsapp, pointsapp.config as config
from pointsapp import create_app
app = create_app({"TESTING": True})
client = app.test_client()
login = client.get("/login", headers={"Accept-Language": "zh-CN"})
static = client.get("/static/css/app.css")
print(pointsapp.__file__)
print(config.MIGRATIONS)
print(login.status_code, login.get_data(as_text=True).count("在这部手机上保持登录"))
print(static.status_code, static.mimetype, len(static.get_data()))
"""


def _run(*args, cwd, env=None):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installs_migrates_and_serves_chinese(tmp_path):
    """pip wheel → fresh venv → ``flask db upgrade`` on an empty SQLite file → Chinese login page and a static file."""
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), str(ROOT), cwd=tmp_path)
    (wheel,) = wheels.glob("pointsapp-*.whl")

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    bin_dir = target / "bin"
    _run(str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel), cwd=tmp_path)

    site = tmp_path / "site"  # another working directory, with its own instance folder and database
    site.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON", "FLASK", "DATABASE_URL"))}
    env.update(
        POINTSAPP_INSTANCE=str(site / "instance"), DATABASE_URL=f"sqlite:///{site / 'app.db'}", PATH=f"{bin_dir}:{env['PATH']}"
    )
    upgrade = subprocess.run(
        [str(bin_dir / "flask"), "--app", "pointsapp", "db", "upgrade"], cwd=site, env=env, capture_output=True, text=True
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    assert "Running upgrade" in upgrade.stderr + upgrade.stdout
    heads = _run(str(bin_dir / "flask"), "--app", "pointsapp", "db", "current", cwd=site, env=env)
    assert "(head)" in heads

    installed, migrations, login, static = _run(str(bin_dir / "python"), "-c", SMOKE, cwd=site, env=env).splitlines()[-4:]
    assert installed.startswith(str(target)) and "site-packages" in installed  # not the checkout
    assert migrations.startswith(str(target)) and migrations.endswith("pointsapp/bundle/migrations")
    assert login.split() == ["200", "1"]  # the .mo catalog was compiled into the wheel
    status, content_type, size = static.split()
    assert (status, content_type) == ("200", "text/css") and int(size) == len((ROOT / "static/css/app.css").read_bytes())
