"""Login throttling (django-axes): wrong passwords lock the name for a while."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from core.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "geheim-123"  # tests/conftest.make_user


def _login(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_sixty_wrong_passwords_lock_out_the_right_one(client, user):
    codes = {
        _login(client, user.username, f"falsch-{i}").status_code for i in range(60)
    }

    response = _login(client, user.username, PASSWORD)

    # The first failures show the login form again; from the fifth on, the lockout.
    assert codes == {200, 429}
    assert response.status_code == 429
    assert not _signed_in(client)
    html = response.content.decode()
    assert "Anmeldung vorübergehend gesperrt" in html
    assert "15 Minuten" in html
    assert 'class="topbar"' in html  # the site layout, not a bare page


def test_lockout_starts_at_the_fifth_failure(client, user):
    codes = [_login(client, user.username, "falsch").status_code for _ in range(5)]

    assert codes == [200, 200, 200, 200, 429]


def test_a_few_failures_do_not_lock_and_success_resets_the_count(client, user):
    for _ in range(4):
        _login(client, user.username, "falsch")
    assert _login(client, user.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    for _ in range(4):
        _login(client, user.username, "falsch")
    assert _login(client, user.username, PASSWORD).status_code == 302


def test_the_lockout_is_per_user_name(client, user, coordinator):
    for _ in range(6):
        _login(client, user.username, "falsch")

    assert _login(client, coordinator.username, PASSWORD).status_code == 302


def test_an_administrator_lifts_the_lockout_with_axes_reset(client, user):
    for _ in range(10):
        _login(client, user.username, "falsch")
    assert _login(client, user.username, PASSWORD).status_code == 429

    call_command("axes_reset", verbosity=0)

    assert _login(client, user.username, PASSWORD).status_code == 302
    assert _signed_in(client)


def test_the_lockout_is_audited_once(client, user):
    for _ in range(12):
        _login(client, user.username, "falsch")

    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_LOCKOUT)
    assert events.count() == 1
    event = events.get()
    assert event.object_type == "auth.user"
    assert event.object_id == str(user.pk)
    assert event.object_label == user.username
    assert event.user is None
    assert event.details["ip_address"] == "127.0.0.1"
    assert event.details["failures"] == 5
    assert event.details["cooloff_minutes"] == 15


def test_an_unknown_user_name_is_locked_and_audited_too(client, db):
    for _ in range(5):
        _login(client, "niemand", "falsch")

    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_LOCKOUT)
    assert event.object_label == "niemand" and event.object_id == ""
    assert event.details["known_user"] is False


def test_the_admin_login_is_throttled_too(client, administrator):
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": administrator.username, "password": "x"}
        )

    response = client.post(
        "/admin/login/",
        {"username": administrator.username, "password": PASSWORD},
    )

    assert response.status_code == 429
