"""Map APIs: simplified geometry per level, and classified values with a legend."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datapool.api_params import (
    LEVEL_HELP,
    SCHEME_HELP,
    ParamError,
    number_parse,
    scheme_parse,
    values_query_answer,
)
from datapool.lineage import ESTIMATED_MARK, attribution
from datapool.response_cache import CachedReadMixin

from .classify import (
    DEFAULT_CHANGE_PALETTE,
    DEFAULT_PALETTE,
    K_MAX,
    K_MIN,
    METHODS,
    MISSING_STYLE,
    PALETTES,
    SUPPRESSED_STYLE,
    ClassificationError,
    classify,
    palette_colors,
)
from .geometry import GeometryLevelError, lor_web_geometry


class GeometryApi(CachedReadMixin, APIView):
    @extend_schema(
        summary="Simplified web geometry of a level (GeoJSON, EPSG:4326)",
        description=(
            "Topology-preserving simplification (neighbours still share their "
            "edges); properties code, name, parent_code. Gzip-compressed when the "
            "client accepts it; send If-None-Match with the ETag to get a 304. "
            "With v=<ETag> the response may be cached for a year."
        ),
        parameters=[
            OpenApiParameter(
                "level", str, OpenApiParameter.PATH, description=LEVEL_HELP
            ),
            OpenApiParameter("v", str, description="The geometry's ETag (optional)"),
            OpenApiParameter(
                "scheme", str, enum=["lor2021", "lor2006"], description=SCHEME_HELP
            ),
        ],
        responses={200: OpenApiTypes.OBJECT, 304: None},
    )
    def get(self, request: Request, level: str) -> HttpResponse:
        try:
            scheme = scheme_parse(request.query_params.get("scheme", ""))
            geometry = lor_web_geometry(level=level, scheme=scheme)
        except ParamError as exc:
            raise ValidationError({exc.field: exc.message}) from exc
        except GeometryLevelError as exc:
            raise ValidationError({"level": str(exc)}) from exc
        if not geometry.features:
            raise NotFound(gettext("There are no areas on this level."))
        etag = f'"{geometry.etag}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        elif "gzip" in request.headers.get("Accept-Encoding", ""):
            response = HttpResponse(geometry.gzipped, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(geometry.raw, content_type="application/json")
        response["ETag"] = etag
        # A versioned URL never changes its content; otherwise revalidate (cheap 304).
        response["Cache-Control"] = (
            "private, max-age=31536000, immutable"
            if request.query_params.get("v") == geometry.etag
            else "private, no-cache"
        )
        patch_vary_headers(response, ["Accept-Encoding"])
        return response


class MapValuesQuery(serializers.Serializer):
    method = serializers.ChoiceField(
        choices=METHODS,
        default="quantiles",
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("Unknown method. Allowed: {allowed}."),
                allowed=", ".join(METHODS),
            )
        },
    )
    k = serializers.IntegerField(
        default=5,
        min_value=K_MIN,
        max_value=K_MAX,
        error_messages={
            "invalid": gettext_lazy("The number of classes must be a whole number."),
            "min_value": gettext_lazy(
                "The number of classes must be at least {min_value}."
            ),
            "max_value": gettext_lazy(
                "The number of classes may be at most {max_value}."
            ),
        },
    )
    palette = serializers.ChoiceField(
        choices=PALETTES,
        required=False,
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("Unknown colour palette. Allowed: {allowed}."),
                allowed=", ".join(PALETTES),
            )
        },
    )
    breaks = serializers.CharField(required=False, allow_blank=True, max_length=500)

    def validate_breaks(self, raw: str) -> list[float]:
        try:
            return [number_parse(b.strip()) for b in raw.split(",") if b.strip()]
        except ParamError as exc:
            raise serializers.ValidationError(
                f"{exc.message} "
                + gettext(
                    "Please give class breaks as numbers separated by commas, "
                    "e.g. 10,20,30 (decimal point, not comma)."
                )
            ) from exc


LEGEND = inline_serializer(
    "MapLegend",
    {
        "method": serializers.CharField(),
        "k": serializers.IntegerField(),
        "palette": serializers.CharField(),
        "unit": serializers.CharField(),
        "classes": inline_serializer(
            "MapLegendClass",
            many=True,
            fields={
                "lower": serializers.FloatField(),
                "upper": serializers.FloatField(),
                "count": serializers.IntegerField(),
                "color": serializers.CharField(),
            },
        ),
        "suppressed": serializers.DictField(),
        "missing": serializers.DictField(),
        "estimated": serializers.DictField(
            help_text="Count and label of values estimated (converted from LOR 2006)."
        ),
        "notes": serializers.ListField(child=serializers.CharField()),
    },
)


class MapValuesApi(CachedReadMixin, APIView):
    """The values of /api/values/ (same query, same selector) with map classes."""

    @extend_schema(
        summary="Classified values of one variable for a choropleth map",
        description=(
            "Values come from the same query as /api/values/; only units with "
            "status ok or estimated are classified. Suppressed and missing units "
            "have class null and their own legend entries and styles."
        ),
        parameters=[
            OpenApiParameter(
                "variable", str, required=True, description="Variable key"
            ),
            OpenApiParameter("level", str, required=True, description=LEVEL_HELP),
            OpenApiParameter(
                "date", str, description="Reference date YYYY-MM-DD; latest if omitted"
            ),
            OpenApiParameter(
                "compare",
                str,
                description="Earlier date YYYY-MM-DD: map the change since then",
            ),
            OpenApiParameter("method", str, enum=list(METHODS), default="quantiles"),
            OpenApiParameter(
                "k", int, description=f"Classes, {K_MIN}–{K_MAX}", default=5
            ),
            OpenApiParameter(
                "palette",
                str,
                enum=list(PALETTES),
                description=(
                    f"ColorBrewer palette; default {DEFAULT_PALETTE}, "
                    f"{DEFAULT_CHANGE_PALETTE} for change maps"
                ),
            ),
            OpenApiParameter(
                "breaks", str, description="Class breaks for method=manual: 10,20,30"
            ),
            OpenApiParameter(
                "scheme", str, enum=["lor2021", "lor2006"], description=SCHEME_HELP
            ),
        ],
        responses={
            200: inline_serializer(
                "MapValues",
                {
                    "variable": serializers.CharField(),
                    "level": serializers.CharField(),
                    "date": serializers.DateField(allow_null=True),
                    "compare": serializers.DateField(allow_null=True),
                    "dates": serializers.ListField(child=serializers.DateField()),
                    "geometry": serializers.CharField(),
                    "sources": serializers.CharField(
                        help_text="Sources and licences of the values (by "
                        "lineage) and of the geometry, for the legend"
                    ),
                    "legend": LEGEND,
                    "results": inline_serializer(
                        "MapValueRow",
                        many=True,
                        fields={
                            "code": serializers.CharField(),
                            "value": serializers.FloatField(allow_null=True),
                            "status": serializers.CharField(),
                            "estimated": serializers.BooleanField(),
                            "incomplete": serializers.BooleanField(),
                            "class": serializers.IntegerField(allow_null=True),
                        },
                    ),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        query = MapValuesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        data = values_query_answer(
            user=request.user,
            params=request.query_params,
            unknown_variable_status=400,
        )
        rows = data["results"]
        compare = data.get("compare")
        palette = options.get("palette") or (
            DEFAULT_CHANGE_PALETTE if compare else DEFAULT_PALETTE
        )
        try:
            result = classify(
                [r["value"] for r in rows],
                [r["status"] for r in rows],
                options["method"],
                options["k"],
                options.get("breaks"),
            )
            colors = palette_colors(palette, result.k)
        except ClassificationError as exc:
            raise ValidationError({"method": str(exc)}) from exc
        return Response(
            {
                "variable": data["variable"],
                "level": data["level"],
                "date": data["date"],
                "compare": compare,
                "scheme": data["scheme"],
                "dates": data["dates"],
                # The geometry travels separately and is cached by the browser.
                "geometry": reverse("maps:geometry", kwargs={"level": data["level"]})
                + ("" if data["scheme"] == "lor2021" else f"?scheme={data['scheme']}"),
                "sources": attribution(
                    variables=[data["variable"]], computed=bool(compare)
                ).line()
                + "".join(f" · {note}" for note in data.get("notes", [])),
                "legend": {
                    "method": result.method,
                    "k": result.k,
                    "palette": palette,
                    "unit": data.get("change_unit", ""),
                    "classes": [
                        {"lower": lo, "upper": up, "count": n, "color": color}
                        for (lo, up), n, color in zip(
                            result.bounds, result.counts, colors, strict=True
                        )
                    ],
                    "suppressed": {
                        "count": result.suppressed,
                        "label": gettext("suppressed"),
                        **SUPPRESSED_STYLE,
                    },
                    "missing": {
                        "count": result.missing,
                        "label": gettext("no data"),
                        **MISSING_STYLE,
                    },
                    "estimated": {
                        "count": sum(r["status"] == "estimated" for r in rows),
                        "label": str(ESTIMATED_MARK),
                    },
                    "notes": result.notes,
                },
                "results": [
                    {
                        "code": r["code"],
                        "value": r["value"],
                        "status": r["status"],
                        "estimated": r["status"] == "estimated",
                        "incomplete": r["incomplete"],
                        "class": cls,
                    }
                    for r, cls in zip(rows, result.classes, strict=True)
                ],
            }
        )
