"""Per-process memos for one Datenpool version, while a cached API answers.

A cold request of the value and map APIs asks the same catalogue questions as the
request before it (which variables govern this one's suppression, whom to
credit). Their answers only change when ``datapool_version()`` changes (a
finished run, a variable's rules, sources or inputs, an indicator's formula).
``CachedReadMixin`` reads that version anyway and sets it here for the duration
of the request; outside such a request nothing is memoised.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")
_VERSION: ContextVar[tuple | None] = ContextVar("datapool_version", default=None)
_SIZE = 4096
_MEMO: OrderedDict = OrderedDict()
_LOCK = threading.Lock()


@contextmanager
def version_in_effect(version: tuple) -> Iterator[None]:
    """Within this block, ``versioned`` may memoise under ``version``."""
    token = _VERSION.set(version)
    try:
        yield
    finally:
        _VERSION.reset(token)


def versioned(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, kept for the version in effect (computed anew without one).

    The result is shared by later requests: treat it as read-only.
    """
    version = _VERSION.get()
    if version is None:
        return compute()
    full = (key, version)
    with _LOCK:
        if full in _MEMO:
            _MEMO.move_to_end(full)
            return _MEMO[full]
    value = compute()
    with _LOCK:
        _MEMO[full] = value
        while len(_MEMO) > _SIZE:
            _MEMO.popitem(last=False)
    return value


def forget_all() -> None:
    """Empty the memo (tests)."""
    with _LOCK:
        _MEMO.clear()
