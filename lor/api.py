"""REST endpoints for LOR units (GeoJSON in EPSG:4326)."""

from django.http import Http404
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import hierarchy
from .models import CrosswalkPiece, LorUnit
from .selectors import (
    crosswalk_pieces,
    custom_area_set_list,
    lor_unit_list,
    lor_units_geojson,
)

LEVEL_CHOICES = [level.value for level in LorUnit.Level]
# How a LOR scheme is named in query strings (lor.hierarchy owns the names).
SCHEME_PARAMS = hierarchy.SCHEME_PARAMS


class SchemeQuery(serializers.Serializer):
    # The same rule and message as datapool.api_params.scheme_parse, which the
    # values APIs use (lor imports no other app).
    scheme = serializers.ChoiceField(
        choices=list(SCHEME_PARAMS),
        default=hierarchy.DEFAULT_SCHEME_PARAM,
        error_messages={
            "invalid_choice": format_lazy(
                gettext_lazy("Unknown LOR scheme. Allowed: {allowed}."),
                allowed=", ".join(SCHEME_PARAMS),
            )
        },
    )


SCHEME_PARAMETER = OpenApiParameter(
    "scheme",
    str,
    enum=list(SCHEME_PARAMS),
    description="LOR scheme: lor2021 (default) or lor2006 (until 2020); "
    "the same key names different areas in the two.",
)


class UnitListQuery(SchemeQuery):
    level = serializers.ChoiceField(choices=LEVEL_CHOICES, required=False)
    # The serializer's metaclass moves declared fields out of the class, so this
    # does not replace ``Serializer.parent``; the stubs cannot see that.
    parent = serializers.RegexField(r"^\d{2,8}$", required=False)  # type: ignore[assignment]


FEATURE_COLLECTION = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description=(
        "GeoJSON FeatureCollection (EPSG:4326); each feature has the properties "
        "`code`, `name`, `level`, `parent_code`, `area_m2`."
    ),
)


class LorUnitListApi(APIView):
    @extend_schema(
        operation_id="lor_units_list",
        summary="LOR units as GeoJSON",
        parameters=[
            OpenApiParameter("level", str, enum=LEVEL_CHOICES, description="LOR level"),
            OpenApiParameter("parent", str, description="Key of the parent unit"),
            SCHEME_PARAMETER,
        ],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request: Request) -> Response:
        query = UnitListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        units = lor_unit_list(
            level=query.validated_data.get("level"),
            parent_code=query.validated_data.get("parent"),
            scheme=SCHEME_PARAMS[query.validated_data["scheme"]],
        )
        return Response(lor_units_geojson(units=units))


class LorUnitDetailApi(APIView):
    @extend_schema(
        summary="One LOR unit as a GeoJSON Feature",
        parameters=[SCHEME_PARAMETER],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: None},
    )
    def get(self, request: Request, code: str) -> Response:
        query = SchemeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        scheme = SCHEME_PARAMS[query.validated_data["scheme"]]
        features = lor_units_geojson(
            units=lor_unit_list(scheme=scheme).filter(code=code)
        )["features"]
        if not features:
            raise Http404
        return Response(features[0])


class CustomAreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    area_m2 = serializers.FloatField()
    planungsraeume = serializers.SerializerMethodField()

    def get_planungsraeume(self, unit) -> list[str]:
        return sorted(m.planungsraum.code for m in unit.members.all())


class CustomAreaSetSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    level = serializers.CharField(source="level_key")
    name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    areas = CustomAreaSerializer(many=True)


class CustomAreaSetListApi(APIView):
    @extend_schema(
        summary="Custom area sets; use `level=custom:<id>` in /api/values/",
        responses={200: CustomAreaSetSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        sets = custom_area_set_list().prefetch_related("areas__members__planungsraum")
        return Response(CustomAreaSetSerializer(sets, many=True).data)


class CrosswalkPieceSerializer(serializers.ModelSerializer):
    old_code = serializers.CharField(source="old_unit.code")
    old_name = serializers.CharField(source="old_unit.name")
    new_code = serializers.CharField(source="new_unit.code")
    new_name = serializers.CharField(source="new_unit.name")

    class Meta:
        model = CrosswalkPiece
        fields = [
            "old_code",
            "old_name",
            "new_code",
            "new_name",
            "area_m2",
            "weight_area",
            "weight_population",
            "population",
            "method",
            "relation",
        ]


class CrosswalkQuery(serializers.Serializer):
    old = serializers.RegexField(r"^\d{8}$", required=False)  # type: ignore[assignment]
    new = serializers.RegexField(r"^\d{8}$", required=False)  # type: ignore[assignment]


class CrosswalkApi(APIView):
    @extend_schema(
        summary="Crosswalk LOR 2006 → LOR 2021 (Planungsräume)",
        description=(
            "One row per piece of the overlay of an old and a new Planungsraum. "
            "`weight_population` (population-calibrated, 31.12.2020) and "
            "`weight_area` are the old unit's shares; each old unit's weights sum "
            "to 1. `relation` says whether the new unit is the same area as one old "
            "unit (`1:1`), a `union` of whole old units, or `split`. Method and "
            "measured error: docs/crosswalk.md. Filter with `old=` or `new=` (key)."
        ),
        parameters=[
            OpenApiParameter("old", str, description="LOR 2006 Planungsraum key"),
            OpenApiParameter("new", str, description="LOR 2021 Planungsraum key"),
        ],
        responses={200: CrosswalkPieceSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        # Keys are 8 digits; anything else is the client's error (400), never a
        # query with odd bytes in it.
        query = CrosswalkQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        pieces = crosswalk_pieces()
        if old := query.validated_data.get("old"):
            pieces = pieces.filter(old_unit__code=old)
        if new := query.validated_data.get("new"):
            pieces = pieces.filter(new_unit__code=new)
        return Response(CrosswalkPieceSerializer(pieces, many=True).data)
