"""The main navigation and the header's role line, as the signed-in user may use them.

A link is offered only when the user's role may follow it: each item names the
rule of ``core.access`` that the page behind it applies. URL names are strings
resolved at request time, so this module imports no feature app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from .access import (
    import_allowed,
    staff_tools_allowed,
    user_is_admin,
    user_role,
    user_role_line,
)


def _signed_in(user) -> bool:
    return user_role(user) is not None


def _admin_site(user) -> bool:
    # The Django admin lets in staff accounts only (administrators get the flag).
    return bool(user.is_staff)


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str | Promise
    allowed: Callable[[Any], bool]
    # The start page is "/": only an exact match marks it as the current page.
    exact: bool = False


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("home", _("Start page"), _signed_in, exact=True),
    NavItem("analysis:explorer", _("Explorer"), _signed_in),
    NavItem("analysis:analyse", _("Analysis"), _signed_in),
    NavItem("profiles:list", _("Profiles"), _signed_in),
    NavItem("datapool:variable-list", _("Datenpool"), _signed_in),
    NavItem("datapool:indicator-list", _("Indicators"), _signed_in),
    NavItem("queries:list", _("Saved queries"), staff_tools_allowed),
    NavItem("scenarios:list", _("Scenarios"), staff_tools_allowed),
    NavItem("analysis:area-set-list", _("Custom areas"), _signed_in),
    NavItem("infrastructure:facility-list", _("Facilities"), _signed_in),
    NavItem("datapool:import-list", _("Imports"), staff_tools_allowed),
    NavItem("lor:map", _("Map"), _signed_in),
    NavItem("funding:steering", _("Funding"), staff_tools_allowed),
    NavItem("audit-list", _("Audit log"), user_is_admin),
    NavItem("admin:index", _("Administration"), _admin_site),
)


def nav_items(*, user, path: str) -> list[dict[str, Any]]:
    """The items the user may follow, each with its URL and whether it is current."""
    items: list[dict[str, Any]] = []
    for item in NAV_ITEMS:
        if not item.allowed(user):
            continue
        url = reverse(item.url_name)
        here = path == url if item.exact else path.startswith(url)
        items.append({"url": url, "label": item.label, "current": here})
    # Only the most specific match is current.
    matches = [i for i in items if i["current"]]
    for match in sorted(matches, key=lambda i: len(i["url"]))[:-1]:
        match["current"] = False
    return items


def user_may(user) -> dict[str, bool]:
    """What templates ask before offering a link or button (``prisma_may.upload``)."""
    return {
        "upload": import_allowed(user),
        "staff_tools": staff_tools_allowed(user),
        "admin": user_is_admin(user),
    }


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``prisma_nav``, ``prisma_role_line`` and ``prisma_may``.

    Each is computed only when a template uses it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"prisma_nav": [], "prisma_role_line": "", "prisma_may": {}}
    return {
        "prisma_nav": SimpleLazyObject(lambda: nav_items(user=user, path=request.path)),
        "prisma_role_line": SimpleLazyObject(lambda: user_role_line(user)),
        "prisma_may": SimpleLazyObject(lambda: user_may(user)),
    }
