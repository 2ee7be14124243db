"""Send the tasks of this process to a real broker instead of running them here."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


def forget_connections() -> None:
    """Drop the broker pools and result backend the app cached, so that both
    follow changed URLs."""
    import kombu.pools

    from prisma.celery import app

    backend = app._backend_cache or getattr(app._local, "backend", None)
    if backend is not None and hasattr(backend, "result_consumer"):
        backend.result_consumer.stop()
    kombu.pools.reset()  # closes and forgets the broker connections of all apps
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


@contextmanager
def tasks_sent_to(url: str) -> Iterator[None]:
    """Within: tasks go to the broker (and results to the backend) at url."""
    from prisma.celery import app

    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: getattr(app.conf, key) for key in keys}
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    forget_connections()
    try:
        yield
    finally:
        forget_connections()
        app.conf.update(saved)
