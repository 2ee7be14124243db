"""Real processes for tests and benches: Redis, Celery workers, gunicorn and
``manage.py``, on the database and settings they are given. The machine's shared
Redis (6379) and PostgreSQL are never stopped or reconfigured."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.support.ports import free_port, port_open, still_running, wait_for

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def stop(process: subprocess.Popen, *, grace: float = 0) -> None:
    """End the process: SIGTERM and up to grace seconds to finish, then SIGKILL."""
    if process.poll() is None and grace:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def database_url() -> str:
    """The URL of the database Django uses now (in tests: the test database)."""
    from django.db import connection

    db = connection.settings_dict
    user = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        user += ":" + quote(db["PASSWORD"], safe="")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgis://{user}@{host}/{db['NAME']}"


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a process serving the test database with real Celery."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DJANGO_SETTINGS_MODULE="prisma.settings.test",
        DATABASE_URL=database_url(),
        CELERY_TASK_ALWAYS_EAGER="false",
        # Progress through its own connection, as in production, so that the test
        # sees the phase while the import's transaction is open.
        PRISMA_SEPARATE_PROGRESS_DB="1",
    )
    env.update(extra)
    return env


@dataclass
class RedisServer:
    """A Redis of its own on a free port, without persistence."""

    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

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
            still_running(self.process, self.log)
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


@dataclass
class Worker:
    """A Celery worker process and its log."""

    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL: no cleanup runs, as when the OOM killer ends the worker."""
        self.process.kill()
        self.process.wait(timeout=10)


def start_celery_worker(
    *,
    name: str,
    log: Path,
    env: dict[str, str],
    pool: str = "solo",
    concurrency: int = 1,
    loglevel: str = "INFO",
    queues: list[str] | None = None,
) -> Worker:
    """A Celery worker of the project app (no heartbeat, gossip or mingle).

    It consumes ``queues`` (default: every queue tasks are routed to).
    """
    from prisma.celery import queue_names

    queues = queues or list(queue_names())
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "prisma",
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                "-l",
                loglevel,
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                ",".join(queues),
                "-n",
                f"{name}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Worker(process, log)


@dataclass
class Workers:
    """Celery workers started one after the other (numbered), all stopped at once."""

    name: str
    directory: Path
    env: dict[str, str]
    started: list[Worker] = field(default_factory=list)

    def start(self, *, pool: str = "solo", **env: str) -> Worker:
        """The next worker; ``pool="prefork"`` enforces the tasks' time limits
        (one child), ``env`` adds to the environment."""
        number = len(self.started) + 1
        worker = start_celery_worker(
            name=f"{self.name}-{number}",
            log=self.directory / f"worker-{number}.log",
            env={**self.env, **env},
            pool=pool,
        )
        self.started.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.started:
            stop(worker.process)


@dataclass
class Gunicorn:
    """The WSGI app under gunicorn, as in production."""

    url: str
    port: int
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        stop(self.process, grace=30)


def start_gunicorn(
    *, log: Path, env: dict[str, str], workers: int = 1, timeout: float = 30
) -> Gunicorn:
    """gunicorn on a free port, returned once it accepts connections."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-c",
                "prisma/gunicorn_config.py",
                "prisma.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "180",
                # Several servers may run on one machine; none needs the socket.
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def answers() -> bool:
        still_running(process, log)
        return port_open(port)

    try:
        wait_for(answers, timeout=timeout, what="gunicorn", logs=[log])
    except BaseException:
        stop(process)
        raise
    return Gunicorn(url=f"http://127.0.0.1:{port}", port=port, process=process, log=log)


def manage(
    *args: str, env: dict[str, str], cwd: Path = ROOT, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``python manage.py …`` in a tree (this one by default); raises on failure
    with the command's output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(args)} failed ({result.returncode}) in {cwd}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
        )
    return result
