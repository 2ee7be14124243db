"""The database ends the application's connections (failover, restart,
pg_terminate_backend): the next request under gunicorn succeeds."""

from __future__ import annotations

import re

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from tests.support.login import PASSWORD

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("lor_units"),
]


def _terminate_other_sessions() -> int:
    """Ends every other session on the test database: here, gunicorn's."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
            "FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _logged_in_session(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=180)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    response = session.post(
        f"{base}/accounts/login/",
        data={
            "username": "verwaltung",
            "password": PASSWORD,
            "csrfmiddlewaretoken": token.group(1),
        },
        headers={"Referer": f"{base}/accounts/login/"},
        timeout=180,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def test_next_request_succeeds_after_the_database_killed_the_app_connections(
    administrator, gunicorn_server
):
    base = gunicorn_server.url
    token = Token.objects.create(user=administrator).key
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    browser = _logged_in_session(base)

    def all_served() -> None:
        units = api.get(f"{base}/api/lor/units/?level=bezirk", timeout=180)
        assert units.status_code == 200, gunicorn_server.log.read_text()[-3000:]
        assert len(units.json()["features"]) == 12
        page = browser.get(f"{base}/map/", timeout=180)
        assert page.status_code == 200 and "/accounts/login/" not in page.url
        assert requests.get(f"{base}/health/", timeout=180).json()["database"]

    all_served()  # the worker now holds persistent connections (CONN_MAX_AGE)
    for _ in range(3):
        assert _terminate_other_sessions() >= 1
        all_served()
    assert "Traceback" not in gunicorn_server.log.read_text()
