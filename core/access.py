"""Who may do what: roles, districts and the object-level rules of PRISMA.

Views, API views and services all ask these functions, so the UI and the API
enforce the same rules. Roles are Django groups (names below); the district of
a staff member is ``StaffProfile.bezirk``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from lor.hierarchy import BEZIRK, key_prefix

if TYPE_CHECKING:
    from django.views import View

    _ViewBase = View
else:
    _ViewBase = object


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
    """The strongest role of a signed-in user; ``None`` for anonymous users.

    Superusers are administrators; users without any PRISMA group are guests.
    """
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    cached = getattr(user, "_prisma_role", None)
    if cached is not None:
        return cached
    names = set(user.groups.values_list("name", flat=True))
    # Least privilege: a signed-in user without a PRISMA group is a guest.
    role = next((r for r in _ORDER if ROLE_GROUPS[r] in names), Role.GUEST)
    user._prisma_role = role
    return role


def user_bezirk_code(user) -> str | None:
    """The 2-digit key of the user's district, or ``None`` (Berlin-wide)."""
    if user is None or not user.is_authenticated:
        return None
    profile = getattr(user, "staff_profile", None) if _has_profile(user) else None
    return profile.bezirk.code if profile and profile.bezirk_id else None


def _has_profile(user) -> bool:
    from .models import StaffProfile

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
        return user_bezirk_code(user) == key_prefix(bezirk_code, BEZIRK)
    return False


def require_district_edit(*, user, bezirk_code: str) -> None:
    """Raise ``PermissionDenied`` unless ``district_edit_allowed``."""
    if not district_edit_allowed(user=user, bezirk_code=bezirk_code):
        raise PermissionDenied(_("You may only edit content of your own district."))


@transaction.atomic
def user_assign(*, user, role: Role, bezirk_code: str | None = None) -> None:
    """Give the user exactly one PRISMA role and (optionally) a district."""
    from lor.models import LorUnit

    from .models import StaffProfile

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
            code=key_prefix(bezirk_code, BEZIRK),
        )
    StaffProfile.objects.update_or_create(user=user, defaults={"bezirk": bezirk})
    # Administrators manage users and the catalogue in the Django admin.
    staff = Role(role) == Role.ADMIN or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    # Forget what this user object cached about its role and district.
    user.__dict__.pop("_prisma_role", None)
    user._state.fields_cache.pop("staff_profile", None)


# --- What each role works with ------------------------------------------------
#
# Planners, coordinators and administrators share the staff tools (saved
# queries, custom areas, the list of import runs); guests review what is
# released and save nothing. Views and the navigation ask the same rules.

STAFF_ROLES = (Role.ADMIN, Role.COORDINATOR, Role.PLANNER)


def staff_tools_allowed(user) -> bool:
    """Whether the user may save queries, create custom areas and read import runs."""
    return user_role(user) in STAFF_ROLES


def user_role_line(user) -> str:
    """Role and district as the header shows them ("Planung · Mitte"); "" if none."""
    role = user_role(user)
    if role is None:
        return ""
    parts = [str(role.label)]
    profile = user.staff_profile if _has_profile(user) else None
    if profile is not None and profile.bezirk_id:
        parts.append(profile.bezirk.name)
    return " · ".join(parts)


# --- Data ownership --------------------------------------------------------
#
# District data belongs to its district; Berlin-wide data (``None``) to the
# administrators. Which variables and runs each role may see is the Datenpool's
# rule (``datapool.access``), built on these.


def user_is_admin(user) -> bool:
    return user_role(user) == Role.ADMIN


def import_allowed(user) -> bool:
    """Whether the user may upload data at all (administrators and coordinators)."""
    return user_role(user) in (Role.ADMIN, Role.COORDINATOR)


def data_edit_allowed(*, user, bezirk_code: str | None) -> bool:
    """Whether the user may import or edit data owned by ``bezirk_code``.

    ``None`` means Berlin-wide data: administrators only. Coordinators edit the
    data of their own district only; planners and guests never edit data.
    """
    role = user_role(user)
    if role == Role.ADMIN:
        return True
    if role == Role.COORDINATOR and bezirk_code:
        own = user_bezirk_code(user)
        return own is not None and own == key_prefix(bezirk_code, BEZIRK)
    return False


def require_data_edit(*, user, bezirk_code: str | None) -> None:
    """Raise ``PermissionDenied`` unless ``data_edit_allowed``."""
    if data_edit_allowed(user=user, bezirk_code=bezirk_code):
        return
    if bezirk_code:
        raise PermissionDenied(
            _("You may only upload or edit data of your own district.")
        )
    raise PermissionDenied(
        _("Only administrators may import or edit Berlin-wide data.")
    )


def area_set_delete_allowed(*, user, area_set) -> bool:
    """Whether the user may delete a custom area set: its owner or an administrator."""
    return area_set.owner_id == user.pk or user_is_admin(user)


def require_area_set_delete(*, user, area_set) -> None:
    """Raise ``PermissionDenied`` unless ``area_set_delete_allowed``."""
    if not area_set_delete_allowed(user=user, area_set=area_set):
        raise PermissionDenied(_("Only its owner or an administrator may delete it."))


# --- Facility register ---------------------------------------------------------
#
# Facilities (Kitas, schools, playgrounds …) belong to the district they lie in.
# Its data coordinators maintain them; administrators everywhere. Planners and
# guests read the register but change nothing. A facility without a
# Planungsraum belongs to its type's district, else to Berlin (administrators).


def facility_bezirk_code(facility) -> str | None:
    """The 2-digit key of the district a facility belongs to, or ``None``."""
    unit = getattr(facility, "unit", None)
    if unit is not None:
        return key_prefix(unit.code, BEZIRK)
    district = getattr(facility.facility_type, "district", None)
    return district.code if district is not None else None


def facility_maintenance_allowed(user) -> bool:
    """Whether the user may create, upload or change facilities at all."""
    return user_role(user) in (Role.ADMIN, Role.COORDINATOR)


def can_edit_facility(user, facility) -> bool:
    """Whether the user may edit or close this facility (own district or admin)."""
    return data_edit_allowed(user=user, bezirk_code=facility_bezirk_code(facility))


def require_facility_edit(*, user, facility) -> None:
    """Raise ``PermissionDenied`` unless ``can_edit_facility``, saying why."""
    if can_edit_facility(user, facility):
        return
    role = user_role(user)
    if role in (Role.PLANNER, Role.GUEST, None):
        raise PermissionDenied(
            _(
                "Your role can view the facility register but not change it. "
                "Facilities are maintained by the data coordinators of the "
                "district they lie in."
            )
        )
    if facility_bezirk_code(facility) is None:
        raise PermissionDenied(
            _(
                "This facility lies in no district (no Planungsraum); only "
                "administrators may change it."
            )
        )
    raise PermissionDenied(
        _(
            "You may only maintain facilities of your own district. This facility "
            "lies in another district; its data coordinators maintain it."
        )
    )


# --- Funding (Fördermittel) ---------------------------------------------------
#
# Programmes, areas and projects are readable by every signed-in user; the
# amounts (approved and paid euros) are internal budget figures and shown to
# staff roles only: guests see none anywhere, the API included. Projects belong
# to their district: its data coordinators (and administrators) import and edit
# them, as they do the district's Datenpool data.


def funding_amounts_visible(user) -> bool:
    """Whether the user may see funding amounts (staff roles only)."""
    return user_role(user) in STAFF_ROLES


def require_funding_amounts(user) -> None:
    """Raise ``PermissionDenied`` unless ``funding_amounts_visible``, saying why."""
    if not funding_amounts_visible(user):
        raise PermissionDenied(
            _(
                "Funding amounts are internal budget figures and shown to staff "
                "(planning, data coordination, administration) only."
            )
        )


def funding_import_allowed(user) -> bool:
    """Whether the user may upload project files at all (coordinators, admins)."""
    return import_allowed(user)


def funding_edit_allowed(*, user, bezirk_code: str | None) -> bool:
    """Whether the user may import or edit the funding projects of a district.

    ``None`` (Berlin-wide records: programmes, areas without a district) is for
    administrators only, as Berlin-wide data is.
    """
    return data_edit_allowed(user=user, bezirk_code=bezirk_code)


def require_funding_edit(*, user, bezirk_code: str | None) -> None:
    """Raise ``PermissionDenied`` unless ``funding_edit_allowed``, saying why."""
    if funding_edit_allowed(user=user, bezirk_code=bezirk_code):
        return
    raise PermissionDenied(
        _(
            "Only the data coordinators of the project's district and "
            "administrators may import or edit funding projects."
        )
    )


def require_facility_maintenance(user) -> None:
    """Raise ``PermissionDenied`` unless ``facility_maintenance_allowed``."""
    if not facility_maintenance_allowed(user):
        raise PermissionDenied(
            _(
                "Your role can view the facility register but not change it. "
                "Facilities are maintained by the data coordinators of the "
                "district they lie in."
            )
        )


# --- Planning scenarios ---------------------------------------------------------
#
# A scenario (infrastructure) is a planner's draft: only its owner changes it.
# Shared with the district, its planners and coordinators (and administrators)
# open it too; who sees which scenario is ``infrastructure.scenarios._visible_q``.


def scenario_edit_allowed(*, user, scenario) -> bool:
    """Whether the user may change the scenario: its owner only."""
    return scenario.owner_id == user.pk and staff_tools_allowed(user)


def require_scenario_edit(*, user, scenario) -> None:
    """Raise ``PermissionDenied`` unless ``scenario_edit_allowed``."""
    if not scenario_edit_allowed(user=user, scenario=scenario):
        raise PermissionDenied(_("Only the owner of a scenario may change it."))


# --- Profile PDF batches -------------------------------------------------------
#
# A batch renders one PDF per Bezirksregion in the background. Every signed-in
# user may read any profile, so these limits bound the work, not the data:
# guests start no batch, planners and coordinators one district at a time (up
# to 20 PDFs), administrators also all of Berlin (143 PDFs). That each
# user has at most one unfinished batch is the profiles' rule (profiles/batch.py).


def profile_batch_allowed(*, user, berlin_wide: bool) -> bool:
    """Whether the user may start a batch of PDFs of a district or of all Berlin."""
    role = user_role(user)
    if role == Role.ADMIN:
        return True
    return role in (Role.PLANNER, Role.COORDINATOR) and not berlin_wide


def require_profile_batch(*, user, berlin_wide: bool) -> None:
    """Raise ``PermissionDenied`` unless ``profile_batch_allowed``, saying why."""
    if profile_batch_allowed(user=user, berlin_wide=berlin_wide):
        return
    if user_role(user) in (Role.PLANNER, Role.COORDINATOR):
        raise PermissionDenied(
            _(
                "Only administrators may create the PDFs of all of Berlin at once. "
                "Please choose a district."
            )
        )
    raise PermissionDenied(
        _(
            "Guest reviewers cannot create PDF batches. Each Bezirksregion's "
            "profile can be opened as a PDF on its page."
        )
    )


# --- Role checks for views and API views -----------------------------------


def require_role(user, *roles: Role) -> None:
    """Raise ``PermissionDenied`` unless the signed-in user has one of ``roles``."""
    if user_role(user) not in roles:
        raise PermissionDenied(_("Your role does not allow this."))


class RoleRequiredMixin(_ViewBase):
    """A login-required class-based view limited to ``allowed_roles``.

    Anonymous users are sent to the login page; signed-in users with another
    role get 403. ``write_roles`` (if set) restricts non-GET methods further.
    """

    allowed_roles: tuple[Role, ...] = tuple(Role)
    write_roles: tuple[Role, ...] | None = None

    def dispatch(self, request, *args, **kwargs):
        from django.contrib.auth.views import redirect_to_login

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        roles = self.allowed_roles
        if request.method not in ("GET", "HEAD", "OPTIONS") and self.write_roles:
            roles = self.write_roles
        require_role(request.user, *roles)
        return super().dispatch(request, *args, **kwargs)


# --- model permissions of the groups (for the Django admin) --------------------

# Administrators hold every permission of these apps; the other roles the listed
# ones. Migration prisma 0004_role_groups created the groups with a copy of this.
ADMIN_APPS = (
    "auth",
    "authtoken",
    "axes",
    "core",
    "datapool",
    "infrastructure",
    "lor",
    "queries",
    "funding",
    "profiles",
)
ROLE_PERMISSIONS: dict[Role, dict[str, dict[str, tuple[str, ...]]]] = {
    Role.COORDINATOR: {
        "datapool": {
            "variable": ("view", "change"),
            "importrun": ("view", "add", "change"),
            "supplier": ("view",),
            "delivery": ("view",),
            "facilitylayer": ("view",),
            "indicator": ("view",),
        },
        "queries": {"savedquery": ("view", "add", "change", "delete")},
    },
    Role.PLANNER: {
        "datapool": {"variable": ("view",), "indicator": ("view",)},
        "queries": {"savedquery": ("view", "add", "change", "delete")},
    },
    Role.GUEST: {"datapool": {"variable": ("view",)}},
}


def role_groups_ensure(**kwargs) -> None:
    """The four role groups exist and hold their model permissions (idempotent).

    Connected to ``post_migrate`` (where Django creates permissions too): models
    added after the groups' migration become manageable by administrators, and
    a database flushed by a test gets its groups back.
    """
    from django.contrib.auth.models import Permission

    if kwargs.get("using", "default") != "default" or not Permission.objects.exists():
        return
    for role, name in ROLE_GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        if role == Role.ADMIN:
            perms = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        else:
            query = models.Q(pk__in=[])
            for app_label, model_actions in ROLE_PERMISSIONS[role].items():
                for model, actions in model_actions.items():
                    query |= models.Q(
                        content_type__app_label=app_label,
                        content_type__model=model,
                        codename__in=[f"{action}_{model}" for action in actions],
                    )
            perms = Permission.objects.filter(query)
        group.permissions.add(*perms)
