"""gunicorn settings for serving pointsapp: ``gunicorn -c python:pointsapp.gunicorn_conf 'pointsapp:create_app()'``.

``make run`` and ``make bench`` use them; the bind address, the workers and the
request-line limit stay on the command line.
"""

from __future__ import annotations

import gc


def post_worker_init(worker) -> None:
    """Once a worker has loaded the app, keep its long-lived objects out of the garbage collector's passes.

    A worker holds some 190,000 objects after start-up (the app, SQLAlchemy's
    mappers, the translations) that live as long as it does; a full collection
    walked all of them, a pause of tens of milliseconds that fell on whichever
    request was running (an ingestion batch spent 47 ms per 1,000 events in the
    collector, 24 ms with them set aside). Objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()
