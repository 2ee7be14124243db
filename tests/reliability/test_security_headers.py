"""Security headers on every page, and pages that keep working under the Content
Security Policy: no inline scripts, no inline event handlers."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = [
    "/accounts/login/",
    "/",
    "/?q=Moabit",
    "/map/",
    "/analysis/explorer/",
    "/analysis/analyse/",
    "/analysis/areas/",
    "/datapool/",
    "/datapool/imports/",
    "/datapool/imports/new/",
    "/queries/",
    "/profiles/",
    "/api/docs/",
]
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def _directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part)
    }


@pytest.mark.parametrize("url", PAGES)
def test_page_sends_security_headers_and_needs_no_inline_script(
    client, administrator, url
):
    if url != "/accounts/login/":
        client.force_login(administrator)
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    csp = _directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    html = response.content.decode()
    for attributes in SCRIPT.findall(html):
        # Data blocks (json_script) are not executed; everything else is a file.
        assert "src=" in attributes or 'type="application/json"' in attributes, (
            url,
            attributes,
        )
    assert not HANDLER.search(html), (url, HANDLER.search(html).group(0))


def test_swagger_ui_init_script_is_served_as_a_file(client, administrator):
    client.force_login(administrator)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
