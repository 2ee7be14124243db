"""Writes to the variable catalogue: variables, suppliers and facility layer access."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from core.audit import audit_record
from core.models import AuditEvent
from datapool.access import require_facility_layer_edit, require_variable_edit
from lor.models import LorUnit

from ..models import FacilityLayer, Supplier, Variable
from ..parsers.contract import VariableSpec

SUPPLIERS = {
    "afs": ("Amt für Statistik Berlin-Brandenburg", Supplier.Kind.AFS),
    "sensbw": (
        "Senatsverwaltung für Stadtentwicklung, Bauen und Wohnen",
        Supplier.Kind.SENATE,
    ),
    "polizei": ("Polizei Berlin", Supplier.Kind.OTHER),
    "senwgp": (
        "Senatsverwaltung für Wissenschaft, Gesundheit und Pflege",
        Supplier.Kind.SENATE,
    ),
}


def supplier_get_or_create(*, code: str, district: LorUnit | None = None) -> Supplier:
    """The supplier for a code ('afs', 'sensbw') or for a district office."""
    if district is not None:
        supplier, _ = Supplier.objects.get_or_create(
            name=f"Bezirksamt {district.name}",
            defaults={"kind": Supplier.Kind.DISTRICT, "district": district},
        )
        return supplier
    name, kind = SUPPLIERS.get(code, (code, Supplier.Kind.OTHER))
    supplier, _ = Supplier.objects.get_or_create(name=name, defaults={"kind": kind})
    return supplier


@transaction.atomic
def variables_upsert(
    *,
    specs: Iterable[VariableSpec],
    supplier: Supplier | None,
    lowest_level: str,
    district: LorUnit | None = None,
) -> dict[str, Variable]:
    """Create variables the catalogue lacks; known ones keep their curated metadata."""
    specs = list(specs)
    existing = {
        v.key: v for v in Variable.objects.filter(key__in=[s.key for s in specs])
    }
    result: dict[str, Variable] = {}
    for spec in specs:
        variable = existing.get(spec.key)
        if (
            variable is not None
            and not variable.metadata_complete
            and spec.metadata_complete
        ):
            # A placeholder (e.g. an indicator input defined ahead of delivery)
            # gets the metadata the project keeps for this column.
            for field in (
                "name",
                "theme",
                "unit",
                "value_type",
                "aggregation",
                "description",
                "definition",
                "source",
                "license",
                "time_reference",
                "delivery_cycle",
                "factor",
            ):
                setattr(variable, field, getattr(spec, field))
            variable.metadata_complete = True
            variable.supplier = variable.supplier or supplier
            variable.lowest_level = lowest_level
            variable.save()
        if variable is None:
            variable = Variable(
                key=spec.key,
                name=spec.name,
                theme=spec.theme,
                unit=spec.unit,
                value_type=spec.value_type,
                aggregation=spec.aggregation,
                description=spec.description,
                definition=spec.definition,
                source=spec.source,
                license=spec.license,
                time_reference=spec.time_reference,
                delivery_cycle=spec.delivery_cycle,
                metadata_complete=spec.metadata_complete,
                factor=spec.factor,
                supplier=supplier,
                lowest_level=lowest_level,
                district=district,
                # A district's upload waits for its release; Berlin-wide data is
                # released as delivered.
                released=district is None,
            )
            if spec.aggregation in {"ratio", "weighted_mean"}:
                # The components must exist first; set below once all are saved.
                variable.aggregation = Variable.Aggregation.NONE
            variable.full_clean(validate_unique=False, validate_constraints=False)
            variable.save()
        result[spec.key] = variable
    for spec in specs:
        variable = result[spec.key]
        if spec.aggregation == "ratio" and spec.numerator and spec.denominator:
            variable.numerator = _component(spec.numerator, result)
            variable.denominator = _component(spec.denominator, result)
            variable.aggregation = Variable.Aggregation.RATIO
            variable.save()
        elif spec.aggregation == "weighted_mean" and spec.weight:
            variable.weight = _component(spec.weight, result)
            variable.aggregation = Variable.Aggregation.WEIGHTED_MEAN
            variable.save()
    return result


def _component(key: str, known: dict[str, Variable]) -> Variable:
    return known.get(key) or Variable.objects.get(key=key)


# Catalogue fields staff may edit in the UI and API; structure (aggregation,
# components) and ownership stay with imports and the admin.
EDITABLE_FIELDS = (
    "name",
    "description",
    "theme",
    "definition",
    "unit",
    "source",
    "license",
    "notes",
    "delivery_cycle",
    "metadata_complete",
)


@transaction.atomic
def variable_update(*, user, variable: Variable, data: dict) -> Variable:
    """The variable's documentation changed by someone allowed to, and audited.

    Raises ``PermissionDenied`` for users who may not edit the variable's data
    (see ``core.access.data_edit_allowed``) and ``ValidationError`` for bad values.
    """
    require_variable_edit(user=user, variable=variable)
    # Compare with the stored row: a bound ModelForm already changed ``variable``.
    stored = Variable.objects.get(pk=variable.pk)
    changes = {}
    for field, value in data.items():
        if field not in EDITABLE_FIELDS:
            continue
        old = getattr(stored, field)
        if old != value:
            changes[field] = {"from": old, "to": value}
            setattr(variable, field, value)
    if changes:
        variable.full_clean(validate_unique=False)
        variable.save()
        audit_record(
            user=user,
            action=AuditEvent.Action.CHANGE,
            obj=variable,
            details={"changes": changes},
        )
    return variable


@transaction.atomic
def variable_release(*, user, variable: Variable, released: bool = True) -> Variable:
    """Release the variable to all staff (or withdraw the release); audited."""
    require_variable_edit(user=user, variable=variable)
    if variable.released != released:
        variable.released = released
        variable.save(update_fields=["released", "updated_at"])
        audit_record(
            user=user,
            action=AuditEvent.Action.RELEASE
            if released
            else AuditEvent.Action.WITHDRAW,
            obj=variable,
            details={"released": released},
        )
    return variable


@transaction.atomic
def facility_layer_location_set(
    *, user, layer: FacilityLayer, location_confidential: bool
) -> FacilityLayer:
    """Mark the layer "Lage vertraulich" (or lift the mark); audited.

    Release and confidentiality rule of a layer are those of its count variable
    (``variable_release``); this flag only withholds the single facilities.
    """
    require_facility_layer_edit(user=user, layer=layer)
    if layer.location_confidential != location_confidential:
        layer.location_confidential = location_confidential
        layer.save(update_fields=["location_confidential", "updated_at"])
        audit_record(
            user=user,
            action=AuditEvent.Action.CHANGE,
            obj=layer,
            details={"location_confidential": location_confidential},
        )
    return layer
