"""Per-user limits on heavy work that a request does itself.

Rendering a map as PDF or PNG, or writing an XLSX, GeoPackage or Shapefile,
occupies a web process for a second or more. A script (or a held key) asking for
hundreds would starve every colleague, so each user may start at most
``PRISMA_HEAVY_EXPORTS_PER_MINUTE`` of them per minute; more are answered with
HTTP 429 and a German page in the site layout that says how long to wait.

The counts live in Redis (cache alias ``throttle``), so they hold across all web
processes: one counter per user and minute, incremented atomically, expiring
with its minute. When Redis does not answer, requests are let through (and the
failure logged): a throttle must not take the exports down with it.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

CACHE_ALIAS = "throttle"
HEAVY_EXPORT = "heavy-export"
WINDOW_SECONDS = 60
TEMPLATE = "429.html"


def _key(*, user_id: int, scope: str, window: int) -> str:
    return f"{scope}:{user_id}:{int(time.time() // window)}"


def throttle_hit(*, user, scope: str, limit: int, window: int = WINDOW_SECONDS) -> int:
    """Count one request of ``user`` in ``scope``; the seconds to wait, 0 if allowed."""
    cache = caches[CACHE_ALIAS]
    key = _key(user_id=user.pk, scope=scope, window=window)
    try:
        cache.add(key, 0, timeout=window + 1)
        count = cache.incr(key)
    except Exception:  # redis-py raises several connection and timeout errors
        logger.warning("throttle %s unavailable; request allowed", scope, exc_info=True)
        return 0
    if count <= limit:
        return 0
    return max(1, window - int(time.time()) % window)


def throttle_reset(*, user, scope: str, window: int = WINDOW_SECONDS) -> None:
    """Forget the user's count in the current window (administration, tests)."""
    caches[CACHE_ALIAS].delete(_key(user_id=user.pk, scope=scope, window=window))


def heavy_exports_per_minute() -> int:
    return int(settings.PRISMA_HEAVY_EXPORTS_PER_MINUTE)


def heavy_export_throttle(*, user) -> int:
    """Count one heavy export of ``user``; the seconds to wait, 0 if allowed."""
    return throttle_hit(user=user, scope=HEAVY_EXPORT, limit=heavy_exports_per_minute())


def heavy_export_refused(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    """The page (HTTP 429) for a heavy export over the user's limit."""
    response = render(
        request,
        TEMPLATE,
        {"limit": heavy_exports_per_minute(), "seconds": retry_after},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
