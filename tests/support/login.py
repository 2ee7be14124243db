"""Users with a role, and logging a Playwright page in as one of them."""

from __future__ import annotations

from urllib.parse import urlsplit

# The password of every user the factories make.
PASSWORD = "geheim-123"

__all__ = ["PASSWORD", "login_form_submit", "page_login", "user_with_role"]


def user_with_role(username: str, role, bezirk_code: str | None = None):
    """A user with password PASSWORD and exactly one PRISMA role (and district),
    assigned as the admin does."""
    from tests.factories.core import UserFactory

    return UserFactory(username=username, role=role, bezirk_code=bezirk_code)


def login_form_submit(page, *, username: str, password: str = PASSWORD) -> None:
    """Fill in and send the login form the page shows."""
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def page_login(
    page, *, base_url: str, path: str, username: str, password: str = PASSWORD
) -> None:
    """Open path (a page that asks to log in first), log in, wait until it shows."""
    page.goto(f"{base_url}{path}")
    assert "/accounts/login/" in page.url
    login_form_submit(page, username=username, password=password)
    wanted = urlsplit(path).path
    page.wait_for_url(
        lambda url: "/accounts/login/" not in url and urlsplit(url).path == wanted
    )
