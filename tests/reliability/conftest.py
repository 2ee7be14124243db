"""Real processes for fault tests: a private Redis, Celery workers and gunicorn on
the test database. The machine's shared Redis (6379) and PostgreSQL are only used
through the test database; nothing here stops or reconfigures them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from prisma.celery import app as celery_app
from prisma.celery import queue_names

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def wait_for(check: Callable[[], bool], *, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tails}")


def database_url() -> str:
    """The URL of the test database, for processes started by a test."""
    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgis://{user}@{host}/{db['NAME']}"


def child_environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="prisma.settings.test",
        DATABASE_URL=database_url(),
        CELERY_TASK_ALWAYS_EAGER="false",
        # Progress through its own connection, as in production.
        PRISMA_SEPARATE_PROGRESS_DB="1",
        **extra,
    )
    return env


@dataclass
class RedisServer:
    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log),
            ]
        )
        client = redis.Redis(host="127.0.0.1", port=self.port)

        def answers() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_for(answers, timeout=10, what="redis-server", logs=[self.log])
        client.close()

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisServer]:
    """A Redis of this test's own on a free port, not started yet."""
    server = RedisServer(port=free_port(), log=tmp_path / "redis.log")
    yield server
    server.stop()


def forget_connections() -> None:
    # The app caches broker pools and its result backend; both must follow the
    # changed URLs.
    backend = celery_app._backend_cache or getattr(celery_app._local, "backend", None)
    if backend is not None and hasattr(backend, "result_consumer"):
        backend.result_consumer.stop()
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local = threading.local()


@pytest.fixture
def tasks_to(private_redis) -> Iterator[RedisServer]:
    """Tasks sent by this process go to the private Redis (running or not)."""
    keys = ("broker_url", "result_backend", "task_always_eager")
    saved = {key: getattr(celery_app.conf, key) for key in keys}
    celery_app.conf.update(
        broker_url=private_redis.url,
        result_backend=private_redis.url,
        task_always_eager=False,
    )
    forget_connections()
    yield private_redis
    forget_connections()
    celery_app.conf.update(saved)


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process, self.log = process, log

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as when the OOM killer ends the worker."""
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(tasks_to, tmp_path) -> Iterator[Callable[[], Worker]]:
    """Starts Celery workers on the test database and the private Redis."""
    workers: list[Worker] = []

    def start(*, pool: str = "solo", **env: str) -> Worker:
        """A worker process; ``pool="prefork"`` enforces the tasks' time limits
        (one child), ``env`` adds to the environment."""
        log = tmp_path / f"worker-{len(workers) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    str(BIN / "celery"),
                    "-A",
                    "prisma",
                    "worker",
                    f"--pool={pool}",
                    "--concurrency=1",
                    "-l",
                    "INFO",
                    "--without-heartbeat",
                    "--without-gossip",
                    "--without-mingle",
                    "-Q",
                    ",".join(queue_names()),
                    "-n",
                    f"prisma-reliability-{len(workers) + 1}@%h",
                ],
                cwd=settings.BASE_DIR,
                env=child_environment(REDIS_URL=tasks_to.url, **env),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        stop(worker.process)


@dataclass
class Gunicorn:
    url: str
    process: subprocess.Popen
    log: Path


@pytest.fixture
def gunicorn_server(tmp_path) -> Iterator[Gunicorn]:
    """The WSGI app under gunicorn on the test database, as in production."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "prisma.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "180",
                "--no-control-socket",
            ],
            cwd=settings.BASE_DIR,
            # An unreachable broker: nothing served here may depend on Redis.
            env=child_environment(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_for(answers, timeout=30, what="gunicorn", logs=[log])
    yield Gunicorn(url=url, process=process, log=log)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        stop(process)
