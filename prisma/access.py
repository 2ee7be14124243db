"""Who may do what: roles, districts and the object-level rules of PRISMA.

Views, API views and services all ask these functions, so the UI and the API
enforce the same rules. Roles are Django groups (names below); the district of
a staff member is ``StaffProfile.bezirk``.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    COORDINATOR = "coordinator", _("Data coordinator")
    PLANNER = "planner", _("Planner")
    GUEST = "guest", _("Guest reviewer")


# Group names as administrators see them in the admin.
ROLE_GROUPS: dict[Role, str] = {
    Role.ADMIN: "Administration",
    Role.COORDINATOR: "Datenkoordination",
    Role.PLANNER: "Planung",
    Role.GUEST: "Gastbegutachtung",
}
_ORDER = [Role.ADMIN, Role.COORDINATOR, Role.PLANNER, Role.GUEST]


def user_role(user) -> Role | None:
    """The strongest role of a signed-in user; ``None`` for anonymous users."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_prisma_role", None)
    if cached is not None:
        return cached or None
    names = set(user.groups.values_list("name", flat=True))
    role = next((r for r in _ORDER if ROLE_GROUPS[r] in names), None)
    user._prisma_role = role or ""
    return role


def user_bezirk_code(user) -> str | None:
    """The 2-digit key of the user's district, or ``None`` (Berlin-wide)."""
    if user is None or not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None) if _has_profile(user) else None
    return profile.bezirk.code if profile and profile.bezirk_id else None


def _has_profile(user) -> bool:
    from prisma.models import StaffProfile

    try:
        user.staff_profile  # noqa: B018 - loads and caches the relation
    except StaffProfile.DoesNotExist:
        return False
    return True


def district_edit_allowed(*, user, bezirk_code: str) -> bool:
    """Whether the user may edit district-owned content (profiles) of ``bezirk_code``.

    Administrators everywhere; planners and data coordinators in their own district.
    """
    role = user_role(user)
    if role == Role.ADMIN:
        return True
    if role in (Role.PLANNER, Role.COORDINATOR):
        return user_bezirk_code(user) == bezirk_code[:2]
    return False


def require_district_edit(*, user, bezirk_code: str) -> None:
    """Raise ``PermissionDenied`` unless ``district_edit_allowed``."""
    if not district_edit_allowed(user=user, bezirk_code=bezirk_code):
        raise PermissionDenied(_("You may only edit content of your own district."))


@transaction.atomic
def user_assign(*, user, role: Role, bezirk_code: str | None = None) -> None:
    """Give the user exactly one PRISMA role and (optionally) a district."""
    from lor.models import LorUnit
    from prisma.models import StaffProfile

    groups = [
        Group.objects.get_or_create(name=name)[0] for name in ROLE_GROUPS.values()
    ]
    user.groups.remove(*groups)
    user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[Role(role)])[0])
    bezirk = None
    if bezirk_code:
        bezirk = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021,
            level=LorUnit.Level.BEZIRK,
            code=bezirk_code[:2],
        )
    StaffProfile.objects.update_or_create(user=user, defaults={"bezirk": bezirk})
    # Forget what this user object cached about its role and district.
    user.__dict__.pop("_prisma_role", None)
    user._state.fields_cache.pop("staff_profile", None)
