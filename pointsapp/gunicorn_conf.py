"""gunicorn settings for serving pointsapp: ``gunicorn -c python:pointsapp.gunicorn_conf 'pointsapp:create_app()'``.

``make run`` and ``make bench`` use them; the bind address, the workers and the
request-line limit stay on the command line.

A worker holds some 190,000 objects after start-up (the app, SQLAlchemy's
mappers, the translations) that live as long as it does. A full garbage
collection walked all of them, a pause of tens of milliseconds that fell on
whichever request was running (an ingestion batch spent 47 ms per 1,000 events
in the collector, 24 ms with them set aside). ``gc.freeze()`` sets them aside;
objects made later are collected as before.
"""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    """A worker that loaded the app itself freezes what it loaded."""
    if not worker.cfg.preload_app:
        gc.collect()
        gc.freeze()


def pre_fork(server, worker) -> None:
    """With ``--preload`` the master loaded the app: freeze it there, before the fork, so that the
    workers share those pages and their own collections never write to them (as Python's
    documentation of ``gc.freeze`` advises for servers that fork)."""
    if server.cfg.preload_app:
        gc.freeze()
