"""Funding JSON: values per unit (staff only), projects (amounts for staff only),
and the state of an import (polled by its page)."""

from __future__ import annotations

import json

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import funding_amounts_visible, require_funding_amounts

from .forms import SteeringForm
from .models import EXAMPLE_NOTE
from .selectors import (
    funding_area_list,
    funding_by_unit,
    funding_import_get,
    project_list,
)


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class FundingValuesApi(APIView):
    @extend_schema(
        summary="Funding per LOR unit (staff only)",
        description=(
            "Approved and paid euros, residents (E_E) and euros per resident per "
            "unit of `level` (planungsraum, bezirksregion, bezirk); filters `year`, "
            "`programme` (key), `district` (2 digits), `measure`. Guests: 403."
        ),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        require_funding_amounts(request.user)
        selection = SteeringForm(request.query_params or None).selection()
        measure = selection.pop("measure")
        table = funding_by_unit(**selection)
        return Response(
            {
                "level": table.level,
                "year": table.year,
                "measure": measure,
                "residents_date": table.residents_date,
                "example_data": table.has_examples,
                "note": EXAMPLE_NOTE if table.has_examples else "",
                "sources": table.credits,
                "units": [
                    {
                        "code": r.code,
                        "name": r.name,
                        "residents": r.residents,
                        "approved": _round(r.approved),
                        "paid": _round(r.paid),
                        "per_resident": _round(r.per_resident(measure), 4),
                        "projects": r.project_count,
                    }
                    for r in table.rows
                ],
            }
        )


class ProjectListApi(APIView):
    @extend_schema(
        summary="Funding projects",
        description=(
            "Projects with programme, area, place, Träger, Handlungsfeld, dates, "
            "status, source and example flag. `amounts` per year only for staff "
            "roles; guests get the projects without any amount."
        ),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        selection = SteeringForm(request.query_params or None).selection()
        amounts = funding_amounts_visible(request.user)
        items = []
        for p in project_list(
            district_code=selection["district_code"],
            programme=selection["programme"],
            year=selection["year"],
        ):
            item = {
                "id": p.pk,
                "number": p.number,
                "title": p.title,
                "district": p.district.code,
                "programme": p.programme.key,
                "area": p.area.key if p.area else None,
                "planungsraum": p.unit.code if p.unit else None,
                "sponsor": p.sponsor,
                "field_of_action": p.field_of_action,
                "start": p.start,
                "end": p.end,
                "status": p.status,
                "example_data": p.is_example,
                "source": p.source,
                "licence": p.licence,
            }
            if amounts:
                item["amounts"] = [
                    {
                        "year": a.year,
                        "approved": float(a.approved),
                        "paid": float(a.paid),
                    }
                    for a in p.amounts.all()
                ]
            items.append(item)
        return Response({"amounts_visible": amounts, "projects": items})


class FundingAreaListApi(APIView):
    @extend_schema(
        summary="Funding areas (GeoJSON, EPSG:4326)",
        description=(
            "Fördergebiete with programme, district, validity, Planungsräume, "
            "source and example flag; `district` (2 digits) filters. No amounts."
        ),
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        district = request.query_params.get("district") or None
        if district is not None and not (len(district) == 2 and district.isdigit()):
            raise ValidationError(
                {"district": "Zweistelliger Bezirksschlüssel erwartet."}
            )
        features = []
        for area in funding_area_list(district_code=district):
            geom = area.geom.transform(4326, clone=True) if area.geom else None
            features.append(
                {
                    "type": "Feature",
                    "id": area.key,
                    "geometry": json.loads(geom.geojson) if geom else None,
                    "properties": {
                        "key": area.key,
                        "name": area.name,
                        "programme": area.programme.name,
                        "district": area.district.code,
                        "valid_from": area.valid_from,
                        "valid_to": area.valid_to,
                        "planungsraeume": sorted(u.code for u in area.units.all()),
                        "example_data": area.is_example,
                        "source": area.source,
                        "licence": area.licence,
                    },
                }
            )
        return Response({"type": "FeatureCollection", "features": features})


class ImportStatusApi(APIView):
    @extend_schema(
        summary="State of a funding import", responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            run = funding_import_get(pk=pk, user=request.user)
        except ObjectDoesNotExist as exc:
            raise NotFound() from exc
        return Response(
            {
                "id": run.pk,
                "status": run.status,
                "status_label": str(run.get_status_display()),
                "percent": run.percent,
                "phase": run.phase,
                "rows_read": run.rows_read,
                "rows_written": run.rows_written,
                "error": run.error,
            }
        )
