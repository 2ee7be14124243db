"""Real processes for fault tests: a private Redis, Celery workers and gunicorn on
the test database. The machine's shared Redis (6379) and PostgreSQL are only used
through the test database; nothing here stops or reconfigures them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.broker import tasks_sent_to
from tests.support.ports import free_port
from tests.support.processes import (
    Gunicorn,
    RedisServer,
    Worker,
    Workers,
    child_environment,
    start_gunicorn,
)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test's own on a free port, not started yet."""
    server = RedisServer(log=tmp_path / "redis.log")
    yield server
    server.stop()


@pytest.fixture
def tasks_to(private_redis) -> Iterator[RedisServer]:
    """Tasks sent by this process go to the private Redis (running or not)."""
    with tasks_sent_to(private_redis.url):
        yield private_redis


@pytest.fixture
def start_worker(tasks_to, tmp_path) -> Iterator[Callable[[], Worker]]:
    """Starts Celery workers on the test database and the private Redis."""
    workers = Workers(
        name="prisma-reliability",
        directory=tmp_path,
        env=child_environment(REDIS_URL=tasks_to.url),
    )
    yield workers.start
    workers.stop()


@pytest.fixture
def gunicorn_server(tmp_path) -> Iterator[Gunicorn]:
    """The WSGI app under gunicorn on the test database, as in production."""
    server = start_gunicorn(
        log=tmp_path / "gunicorn.log",
        # An unreachable broker: nothing served here may depend on Redis.
        env=child_environment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
    )
    yield server
    server.stop()
