"""Writes of facility layers: the points of a point delivery, per layer."""

from __future__ import annotations

from django.contrib.gis.geos import Point
from django.db import transaction

from lor.models import LorUnit

from ..models import Facility, FacilityLayer, ImportRun
from ..parsers.contract import FacilityLayerDelivery, ImportValidationError, Problem
from ..parsers.points import TARGET_SRID


@transaction.atomic
def facility_layer_replace(
    *, import_run: ImportRun, layer: FacilityLayerDelivery
) -> dict[str, int]:
    """Replace the layer's points by these; a layer stays with its owning district."""
    spec, points = layer.spec, layer.points
    stored = FacilityLayer.objects.select_for_update().filter(key=spec.key).first()
    if stored is not None and stored.district_id != import_run.district_id:
        owner = stored.district.name if stored.district else "der Senatsebene"
        raise ImportValidationError(
            [
                Problem(
                    f"Die Einrichtungsebene „{spec.key}“ gehört {owner} und kann "
                    "von diesem Import nicht ersetzt werden. Bitte einen anderen "
                    "Ebenenschlüssel (Option layer) wählen.",
                    import_run.original_name,
                )
            ]
        )
    stored = stored or FacilityLayer(key=spec.key)
    stored.name = spec.name
    stored.theme = spec.theme
    stored.source = spec.source
    stored.license = spec.license
    stored.ref_date = layer.ref_date
    stored.sum_attribute = layer.sum_attribute
    stored.import_run = import_run
    stored.district_id = import_run.district_id
    stored.full_clean()
    stored.save()
    replaced, _ = Facility.objects.filter(layer=stored).delete()
    units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    # The parser validated every value; a full_clean per point would cost two
    # queries each for thousands of points.
    Facility.objects.bulk_create(
        [
            Facility(
                layer=stored,
                feature_number=p.number,
                name=p.name[:300],
                geom=Point(p.x, p.y, srid=TARGET_SRID),
                attributes=p.attributes,
                unit_id=units[p.unit_code],
            )
            for p in points
        ],
        batch_size=2000,
    )
    return {"facilities": len(points), "facilities_replaced": replaced}
