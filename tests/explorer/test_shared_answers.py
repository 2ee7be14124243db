"""Rendered value and map answers are shared between processes through Redis.

"Another process" is this test process with its per-process memory emptied: what
it then answers without reading observations came from Redis. Redis is the real
one (REDIS_URL); "Redis down" is a port nobody listens on.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from datapool import response_cache
from tests.explorer.test_map_cache import _import_stueler_3600
from tests.support.ports import free_port

pytestmark = pytest.mark.django_db
PARAMS = {"variable": "E_E", "level": "planungsraum"}
PATHS = ("/api/values/", "/api/maps/values/")


@pytest.fixture(autouse=True)
def _fresh_memory():
    response_cache._SHARED.reset()
    _other_process()
    yield
    response_cache._SHARED.reset()


def _other_process() -> None:
    """Forget what this process rendered and verified, as a new worker would."""
    response_cache._RENDERED.items.clear()
    response_cache._CREDENTIALS.items.clear()


def _stueler(response) -> float:
    assert response.status_code == 200, response.content[:300]
    rows = response.json()["results"]
    return next(r["value"] for r in rows if r["code"] == "01100101")


def _reads_observations(queries) -> bool:
    return any("datapool_observation" in q["sql"] for q in queries)


@pytest.mark.parametrize("path", PATHS)
def test_an_answer_rendered_by_one_process_is_served_by_another(
    client_logged_in, ewr_imported, path
):
    first = client_logged_in.get(path, PARAMS)
    assert _stueler(first) == 3580
    _other_process()
    with CaptureQueriesContext(connection) as queries:
        again = client_logged_in.get(path, PARAMS)
    assert again.content == first.content
    assert not _reads_observations(queries.captured_queries)
    # Without the shared entry the same request does read them (the check can fail).
    _other_process()
    response_cache._SHARED.down_until = float("inf")
    with CaptureQueriesContext(connection) as queries:
        client_logged_in.get(path, PARAMS)
    assert _reads_observations(queries.captured_queries)


def test_token_clients_share_answers_too(client, user, ewr_imported):
    headers = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    first = client.get("/api/values/", PARAMS, **headers)
    _other_process()
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/values/", PARAMS, **headers)
    assert again.content == first.content
    assert not _reads_observations(queries.captured_queries)
    # No credential, no answer: the shared entry is never handed out unverified.
    assert client.get("/api/values/", PARAMS).status_code in (401, 403)


def test_viewers_of_another_class_do_not_get_the_shared_answer(
    client, user, administrator, ewr_imported
):
    client.force_login(user)
    client.get("/api/values/", PARAMS)
    _other_process()
    client.force_login(administrator)
    with CaptureQueriesContext(connection) as queries:
        assert _stueler(client.get("/api/values/", PARAMS)) == 3580
    assert _reads_observations(queries.captured_queries)


def test_after_an_import_the_shared_cache_does_not_serve_the_old_answer(
    client_logged_in, ewr_imported, tmp_path
):
    for path in PATHS:
        assert _stueler(client_logged_in.get(path, PARAMS)) == 3580
    _import_stueler_3600(tmp_path)
    _other_process()
    for path in PATHS:
        assert _stueler(client_logged_in.get(path, PARAMS)) == 3600


def test_pages_keep_answering_when_redis_is_down(client_logged_in, ewr_imported):
    dead = {
        **settings.CACHES,
        "answers": {
            **settings.CACHES["answers"],
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        },
    }
    with override_settings(CACHES=dead):
        response_cache._SHARED.reset()
        for path in PATHS:
            assert _stueler(client_logged_in.get(path, PARAMS)) == 3580
            _other_process()
            assert _stueler(client_logged_in.get(path, PARAMS)) == 3580
            assert _stueler(client_logged_in.get(path, PARAMS)) == 3580  # local
        # After the first failure Redis is left alone for a while.
        assert response_cache._SHARED.down_until > 0
        assert client_logged_in.get("/analysis/explorer/").status_code == 200


def test_a_recently_verified_token_skips_authentication_until_its_time_is_up(
    client, user, ewr_imported, monkeypatch
):
    token = Token.objects.create(user=user)
    headers = {"HTTP_AUTHORIZATION": f"Token {token.key}"}
    assert client.get("/api/values/", PARAMS, **headers).status_code == 200
    # A cold request (other parameters) within the memo's time: no token look-up.
    with CaptureQueriesContext(connection) as queries:
        other = client.get("/api/values/", {**PARAMS, "level": "bezirk"}, **headers)
    assert other.status_code == 200
    assert not any("authtoken_token" in q["sql"] for q in queries.captured_queries)
    # Once the time is up, the full path checks the token again: deleted, refused.
    monkeypatch.setattr(response_cache._CREDENTIALS, "ttl", 1e-6)
    _other_process()
    assert client.get("/api/values/", PARAMS, **headers).status_code == 200
    token.delete()
    time.sleep(0.01)  # past the (shortened) memo time; nothing is measured
    refused = client.get("/api/values/", {**PARAMS, "level": "prognoseraum"}, **headers)
    assert refused.status_code in (401, 403)
