"""Who may see and edit which data: the Datenpool's object rules.

Data a district coordinator uploads belongs to their district
(``ImportRun.district`` / ``Variable.district``); Berlin-wide data (AfS, Senate,
``district`` unset) is imported and edited by administrators only. District
uploads start unreleased: until released only administrators and the owning
district's coordinators see them. The role rules themselves live in
``core.access``; views, the API and the services all ask these functions.
"""

from __future__ import annotations

from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from core.access import Role, require_data_edit, user_bezirk_code, user_role

from .confidentiality import confidential_q
from .models import FacilityLayer, Variable


def _owner_code(obj) -> str | None:
    district = getattr(obj, "district", None)
    return district.code if district is not None else None


def require_variable_edit(*, user, variable) -> None:
    """Raise ``PermissionDenied`` unless the user may edit or release ``variable``."""
    require_data_edit(user=user, bezirk_code=_owner_code(variable))


def require_import_run_edit(*, user, import_run) -> None:
    """Raise ``PermissionDenied`` unless the user may change or restart the run."""
    require_data_edit(user=user, bezirk_code=_owner_code(import_run))


def import_run_visible_q(user) -> models.Q:
    """Import runs the user may see (a filter on ``ImportRun``).

    Administrators all; coordinators and planners the Berlin-wide runs and their
    own district's (other districts' uploads may be unreleased); guests none.
    """
    role = user_role(user)
    if role == Role.ADMIN:
        return models.Q()
    if role in (Role.COORDINATOR, Role.PLANNER):
        own = user_bezirk_code(user)
        berlin = models.Q(district__isnull=True)
        return berlin | models.Q(district__code=own) if own else berlin
    return models.Q(pk__in=[])


def _released_public_q() -> models.Q:
    """Variables every signed-in reader may see, guests included."""
    return models.Q(released=True) & ~confidential_q()


def variable_visible_q(user) -> models.Q:
    """Variables the user may read (a filter on ``Variable``).

    Administrators: all. Coordinators: released ones and their district's.
    Planners: released ones. Guests (and users without a PRISMA role): released,
    non-confidential ones. Anonymous: none.
    """
    role = user_role(user)
    if role is None:
        return models.Q(pk__in=[])
    if role == Role.ADMIN:
        return models.Q()
    released = models.Q(released=True)
    if role == Role.COORDINATOR:
        own = user_bezirk_code(user)
        return released | models.Q(district__code=own) if own else released
    if role == Role.PLANNER:
        return released
    return _released_public_q()


def variable_visible(*, user, variable) -> bool:
    return Variable.objects.filter(variable_visible_q(user), pk=variable.pk).exists()


def variables_require_visible(*, user, keys) -> None:
    """Raise ``Http404`` if any of the variable keys is hidden from the user.

    Unknown keys pass: the callers report them in their own words.
    """
    keys = {k for k in keys if isinstance(k, str)}
    if not keys or user_role(user) == Role.ADMIN:
        return
    known = Variable.objects.filter(key__in=keys)
    hidden = known.exclude(variable_visible_q(user))
    if hidden.exists():
        raise Http404(_("This variable does not exist or is not released."))


# --- facility layers ------------------------------------------------------------
#
# A layer's points are the facts behind its count variable (``<KEY>_ANZAHL``):
# counting them per Planungsraum gives the variable's values back, suppressed
# cells included. So a layer is visible exactly when its count variable is
# (owner district, release, confidentiality rule: one home, the variable), and
# its single facilities (points, names, Planungsraum keys) leave the server only
# to viewers who see the counts unprotected, or when neither the counts are
# confidential nor the layer is marked "Lage vertraulich".


def _count_variable_in(variables) -> models.Exists:
    """Layers whose count variable is one of ``variables`` (a filter on layers)."""
    return models.Exists(variables.filter(key=FacilityLayer.count_variable_key_ref()))


def facility_layer_public_q() -> models.Q:
    """Layers every signed-in reader may see, guests and shared products included.

    Released, non-confidential counts and not "Lage vertraulich".
    """
    return models.Q(
        _count_variable_in(Variable.objects.filter(_released_public_q())),
        location_confidential=False,
    )


def facility_layer_visible_q(user) -> models.Q:
    """Facility layers the user may see (a filter on ``FacilityLayer``).

    Those whose count variable the user may read (``variable_visible_q``);
    guests only the public ones. A layer without a count variable is shown to
    administrators only.
    """
    role = user_role(user)
    if role is None:
        return models.Q(pk__in=[])
    if role == Role.ADMIN:
        return models.Q()
    if role in (Role.COORDINATOR, Role.PLANNER):
        return models.Q(
            _count_variable_in(Variable.objects.filter(variable_visible_q(user)))
        )
    return facility_layer_public_q()


def facility_points_q(user) -> models.Q:
    """Visible layers whose single facilities the user may receive.

    Administrators and the owning district's coordinators all of their layers
    (they see the counts unprotected anyway); everybody else only layers that
    are neither "Lage vertraulich" nor counted under a small-counts rule.
    """
    role = user_role(user)
    visible = facility_layer_visible_q(user)
    if role == Role.ADMIN:
        return visible
    open_layers = (
        visible
        & models.Q(location_confidential=False)
        & ~models.Q(_count_variable_in(Variable.objects.filter(confidential_q())))
    )
    own = user_bezirk_code(user) if role == Role.COORDINATOR else None
    return open_layers | models.Q(district__code=own) if own else open_layers


def require_facility_layer_edit(*, user, layer) -> None:
    """Raise ``PermissionDenied`` unless the user may change the layer's access."""
    require_data_edit(user=user, bezirk_code=_owner_code(layer))
