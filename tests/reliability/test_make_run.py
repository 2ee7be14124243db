"""`make run` (scripts/run.sh on prisma.settings.local): no debug pages unless
DEBUG=1, static files still served, every queue has a worker, and a worker that
dies is started again while the web server keeps answering."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests
import yaml
from django.conf import settings

from prisma.celery import app as celery_app
from prisma.celery import queue_names
from tests.support.ports import free_port, wait_for
from tests.support.processes import BIN, child_environment, database_url

ROOT = Path(settings.BASE_DIR)

# Runs in a child process on the settings of `make run`; prints what a browser
# would get for an unknown URL, a failing request and a static file.
PROBE = """
import json, os
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
out = {"debug": settings.DEBUG}
r = client.get("/gibt-es-nicht/", HTTP_ACCEPT_LANGUAGE="de")
out["missing"] = [r.status_code, r.content.decode()]
r = client.get("/static/css/prisma.css")
out["static"] = [r.status_code, b"".join(r.streaming_content)[:50].decode()
                 if r.streaming else ""]
if os.environ.get("PROBE_500"):
    r = client.post("/accounts/login/", {"username": "a", "password": "b"},
                    HTTP_ACCEPT_LANGUAGE="de")
    out["error"] = [r.status_code, r.content.decode()]
print(json.dumps(out))
"""


def _probe(**env: str) -> dict:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "prisma.settings.local",
            "DATABASE_URL": database_url(),
            **env,
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db
def test_make_run_settings_show_prismas_pages_not_the_debug_page():
    # An unreachable database makes the login fail inside the view: a 500.
    out = _probe(
        PROBE_500="1", DATABASE_URL=f"postgis://x@127.0.0.1:{free_port()}/nope"
    )

    assert out["debug"] is False
    status, html = out["missing"]
    assert status == 404
    assert "Seite nicht gefunden" in html or "Page not found" in html
    for leak in ("URLconf", "Traceback", "urlpatterns", "DEBUG = True"):
        assert leak not in html
    status, html = out["error"]
    assert status == 500
    assert "Ein interner Fehler ist aufgetreten" in html
    for leak in ("Traceback", "OperationalError", "Local vars", "settings"):
        assert leak not in html
    # WhiteNoise serves the static files without DEBUG (and without collectstatic).
    assert out["static"][0] == 200


@pytest.mark.django_db
def test_debug_pages_only_when_asked_for():
    out = _probe(DEBUG="1")

    assert out["debug"] is True
    assert "URLconf" in out["missing"][1]


def _queues_in(command: str) -> set[str]:
    return {
        q for match in re.findall(r"-Q[ =]?([\w,]+)", command) for q in match.split(",")
    }


def test_every_queue_has_a_worker_and_batches_have_their_own():
    run_sh = (ROOT / "scripts" / "run.sh").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    run_workers = [
        _queues_in(block)
        for block in re.findall(r"supervise\.sh[^&]*worker[^&]*&", run_sh, re.S)
    ]
    compose_workers = [
        _queues_in(" ".join(service["command"]))
        for service in compose.values()
        if "worker" in service.get("command", [])
    ]

    for workers in (run_workers, compose_workers):
        assert set().union(*workers) == set(queue_names())
        assert {"batch"} in workers  # a batch never takes an import's slot
    routes = settings.CELERY_TASK_ROUTES
    assert routes["datapool.tasks.import_run_execute_task"]["queue"] == "imports"
    assert routes["profiles.tasks.*"]["queue"] == "batch"


def _health(url: str, timeout: float = 30) -> int:
    try:
        return requests.get(f"{url}/health/", timeout=timeout).status_code
    except requests.RequestException:
        return 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")
def test_a_killed_worker_is_restarted_while_the_web_server_answers(
    tasks_to, gunicorn_server, tmp_path, lor_units
):
    tasks_to.start()
    log = tmp_path / "worker.log"
    supervisor = subprocess.Popen(
        [
            str(ROOT / "scripts" / "supervise.sh"),
            str(log),
            str(BIN / "celery"),
            "-A",
            "prisma",
            "worker",
            "--pool=solo",
            "-l",
            "INFO",
            "-Q",
            ",".join(queue_names()),
            "-n",
            "supervised@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=child_environment(REDIS_URL=tasks_to.url),
    )
    try:

        def ready(times: int) -> bool:
            return log.exists() and log.read_text().count(" ready.") >= times

        wait_for(lambda: ready(1), timeout=60, what="the worker", logs=[log])
        (first,) = psutil.Process(supervisor.pid).children()
        # The first request waits for gunicorn's worker to load the app.
        assert _health(gunicorn_server.url, timeout=180) == 200

        first.send_signal(signal.SIGKILL)  # as the OOM killer would
        first.wait(timeout=10)
        answers = []
        deadline = time.monotonic() + 60
        while not ready(2) and time.monotonic() < deadline:
            answers.append(_health(gunicorn_server.url))
            time.sleep(0.2)

        assert ready(2), log.read_text()[-3000:]
        assert answers and set(answers) == {200}
        (second,) = psutil.Process(supervisor.pid).children()
        assert second.pid != first.pid
        assert "exited with status" in log.read_text()
        replies = celery_app.control.ping(timeout=5)
        assert any("supervised@" in name for reply in replies for name in reply)
    finally:
        children = psutil.Process(supervisor.pid).children(recursive=True)
        supervisor.terminate()  # stops the worker too
        supervisor.wait(timeout=30)
    assert supervisor.returncode == 0
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive
