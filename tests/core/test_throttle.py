"""Heavy exports per user and minute (security issue 15): 429 beyond the limit."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from core.throttle import HEAVY_EXPORT, throttle_hit, throttle_reset
from explorer.selection import Selection

pytestmark = pytest.mark.django_db

SELECTION = json.dumps(Selection(level="bezirk", columns=["E_E"]).as_dict())


def _export(client, fmt: str):
    query = urlencode({"format": fmt, "selection": SELECTION})
    return client.get(f"{reverse('analysis:selection-export')}?{query}")


@pytest.fixture(autouse=True)
def fresh_counts(user, coordinator):
    for someone in (user, coordinator):
        throttle_reset(user=someone, scope=HEAVY_EXPORT)


def test_heavy_exports_beyond_the_limit_get_429_in_the_site_layout(
    client_logged_in, client, coordinator, ewr_imported, settings
):
    settings.PRISMA_HEAVY_EXPORTS_PER_MINUTE = 2
    assert _export(client_logged_in, "xlsx").status_code == 200
    assert _export(client_logged_in, "gpkg").status_code == 200

    response = _export(client_logged_in, "xlsx")

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    html = response.content.decode()
    assert "Zu viele Exporte" in html
    assert "mehr als 2 aufwendige Exporte" in html
    assert 'class="topbar"' in html  # the site layout, not a bare page
    # Light formats stay available, and the limit is the user's own.
    assert _export(client_logged_in, "csv").status_code == 200
    client.force_login(coordinator)
    assert _export(client, "xlsx").status_code == 200


def test_throttle_counts_per_user_and_window(user):
    assert throttle_hit(user=user, scope="test", limit=2) == 0
    assert throttle_hit(user=user, scope="test", limit=2) == 0
    wait = throttle_hit(user=user, scope="test", limit=2)
    assert 1 <= wait <= 60
    throttle_reset(user=user, scope="test")
    assert throttle_hit(user=user, scope="test", limit=2) == 0
    throttle_reset(user=user, scope="test")


def test_throttle_lets_requests_through_when_redis_is_down(user, settings):
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            **settings.CACHES["throttle"],
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    started = time.monotonic()
    assert all(throttle_hit(user=user, scope="test", limit=1) == 0 for _ in range(3))
    assert time.monotonic() - started < 10
