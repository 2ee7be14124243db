"""Free ports and waiting for something to answer."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tails(logs: Iterable[Path]) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in logs)


def wait_for(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    logs: Iterable[Path] = (),
    interval: float = 0.05,
) -> None:
    """Poll check until it is true; TimeoutError (with the logs' tails) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {timeout} s waiting for {what}\n{log_tails(logs)}"
    )


def still_running(process: subprocess.Popen, log: Path | None = None) -> None:
    """Raise at once if the process ended: waiting for it would be in vain."""
    if process.poll() is not None:
        tail = log.read_text()[-3000:] if log else ""
        raise RuntimeError(f"{process.args[0]} ended ({process.returncode})\n{tail}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def url_answers(url: str, *, timeout: float = 5) -> bool:
    """True once the URL answers at all (any HTTP status)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - local
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
