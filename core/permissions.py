"""DRF permission classes built on ``core.access`` (the same rules as the UI)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .access import Role, import_allowed, user_role


class RolePermission(BasePermission):
    """Signed-in users whose role is in the view's ``allowed_roles``.

    Writes (non-safe methods) need a role in ``write_roles`` when the view sets it.
    """

    message = "Ihre Rolle erlaubt diese Aktion nicht."

    def has_permission(self, request, view) -> bool:
        role = user_role(request.user)
        if role is None:
            return False
        roles = getattr(view, "allowed_roles", tuple(Role))
        write_roles = getattr(view, "write_roles", None)
        if request.method not in SAFE_METHODS and write_roles is not None:
            roles = write_roles
        return role in roles


class CanImport(BasePermission):
    """Administrators and data coordinators; district checks follow in services."""

    message = _("Only data coordinators and administrators may upload data.")

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS or import_allowed(request.user)
