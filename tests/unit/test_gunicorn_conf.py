"""The gunicorn settings set the app's start-up objects aside from the garbage collector."""

from __future__ import annotations

import gc
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def test_a_worker_freezes_what_it_loaded_and_still_collects_what_comes_later():
    script = """
import gc, types, weakref
from pointsapp import create_app, gunicorn_conf
app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
before = gc.get_freeze_count()
gunicorn_conf.post_worker_init(types.SimpleNamespace(cfg=types.SimpleNamespace(preload_app=False)))
frozen = gc.get_freeze_count()
class Node: pass
a, b = Node(), Node(); a.other, b.other = b, a   # a cycle made after start-up
gone = weakref.ref(a); del a, b
gc.collect()
print(before, frozen, gone() is None)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    before, frozen, collected = result.stdout.split()
    assert int(before) == 0 and int(frozen) > 50_000
    assert collected == "True"


@pytest.mark.parametrize("preload", [False, True], ids=["app-per-worker", "preload"])
def test_gunicorn_started_with_the_settings_runs_the_hook_in_its_workers(tmp_path, preload):
    (tmp_path / "freezecount.py").write_text(
        "import gc\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [str(gc.get_freeze_count()).encode()]\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = ["timeout", "60", str(gunicorn), "-c", "python:pointsapp.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, *(["--preload"] if preload else []), "--workers", "1", "--chdir", str(tmp_path), "freezecount:app"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert int(body) > 1_000  # the worker's start-up objects were set aside
    assert gc.get_freeze_count() == 0  # nothing in the test process itself was frozen
