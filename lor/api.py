"""REST endpoints for LOR units (GeoJSON in EPSG:4326)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import LorUnit
from .selectors import custom_area_set_list, lor_unit_list, lor_units_geojson

LEVEL_CHOICES = [level.value for level in LorUnit.Level]


class UnitListQuery(serializers.Serializer):
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
        ],
        responses={200: FEATURE_COLLECTION},
    )
    def get(self, request: Request) -> Response:
        query = UnitListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        units = lor_unit_list(
            level=query.validated_data.get("level"),
            parent_code=query.validated_data.get("parent"),
        )
        return Response(lor_units_geojson(units=units))


class LorUnitDetailApi(APIView):
    @extend_schema(
        summary="One LOR unit as a GeoJSON Feature",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: None},
    )
    def get(self, request: Request, code: str) -> Response:
        features = lor_units_geojson(units=lor_unit_list().filter(code=code))[
            "features"
        ]
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
