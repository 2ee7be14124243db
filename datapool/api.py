"""REST endpoints of the Datenpool: the catalogue and values per level and date."""

from __future__ import annotations

import json

from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Role
from core.permissions import CanImport, RolePermission
from datapool.response_cache import CachedReadMixin
from lor.models import LorUnit

from .api_params import (
    LEVEL_HELP,
    SCHEME_HELP,
    series_query_answer,
    values_query_answer,
)
from .forms import ImportUploadForm
from .models import ImportRun, Variable
from .selectors import (
    facility_layer_counts,
    facility_layer_list,
    facility_list,
    import_run_get,
    indicator_list,
    variable_get,
    variable_list,
)
from .services.catalogue import variable_release, variable_update
from .services.imports import ImportUploadRefused, import_run_upload


class VariableSerializer(serializers.ModelSerializer):
    supplier = serializers.StringRelatedField()
    numerator = serializers.SlugRelatedField(slug_field="key", read_only=True)
    denominator = serializers.SlugRelatedField(slug_field="key", read_only=True)
    weight = serializers.SlugRelatedField(slug_field="key", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    theme_label = serializers.CharField(source="get_theme_display", read_only=True)

    class Meta:
        model = Variable
        fields = [
            "key",
            "name",
            "description",
            "theme",
            "theme_label",
            "definition",
            "unit",
            "source",
            "license",
            "notes",
            "time_reference",
            "value_type",
            "lowest_level",
            "aggregation",
            "numerator",
            "denominator",
            "weight",
            "factor",
            "supplier",
            "delivery_cycle",
            "last_delivery",
            "metadata_complete",
            "district",
        ]


class VariableQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    theme = serializers.ChoiceField(
        choices=Variable._meta.get_field("theme").choices, required=False
    )
    level = serializers.ChoiceField(choices=LorUnit.Level.choices, required=False)


class VariableListApi(ListAPIView):
    serializer_class = VariableSerializer
    pagination_class = None

    @extend_schema(
        summary="Variable catalogue with metadata",
        parameters=[
            OpenApiParameter("q", str, description="Search in key, name, description"),
            OpenApiParameter(
                "theme",
                str,
                enum=[c[0] for c in Variable._meta.get_field("theme").choices],
            ),
            OpenApiParameter(
                "level",
                str,
                enum=LorUnit.Level.values,
                description="Only variables with values at this level",
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        query = VariableQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return variable_list(user=self.request.user, **query.validated_data)


class VariableEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    theme = serializers.ChoiceField(
        choices=Variable._meta.get_field("theme").choices, required=False
    )
    definition = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.CharField(max_length=40, required=False, allow_blank=True)
    source = serializers.CharField(max_length=300, required=False, allow_blank=True)
    license = serializers.CharField(max_length=120, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    delivery_cycle = serializers.ChoiceField(
        choices=Variable.DeliveryCycle.choices, required=False
    )
    metadata_complete = serializers.BooleanField(required=False)
    released = serializers.BooleanField(required=False)


class VariableDetailApi(RetrieveAPIView):
    """GET one variable; PATCH its documentation or release (owners only)."""

    serializer_class = VariableSerializer
    lookup_field = "key"
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        try:
            return variable_get(key=self.kwargs["key"], user=self.request.user)
        except Variable.DoesNotExist as exc:
            raise NotFound("Variable unbekannt.") from exc

    @extend_schema(
        summary="Edit a variable's documentation or release it",
        request=VariableEditSerializer,
        responses={200: VariableSerializer, 403: None, 404: None},
    )
    def patch(self, request: Request, key: str) -> Response:
        variable = self.get_object()
        data = VariableEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        released = fields.pop("released", None)
        try:
            variable = variable_update(
                user=request.user, variable=variable, data=fields
            )
            if released is not None:
                variable = variable_release(
                    user=request.user, variable=variable, released=released
                )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from exc
        return Response(VariableSerializer(variable).data)


VALUE_ROWS = inline_serializer(
    "ValueRow",
    many=True,
    fields={
        "code": serializers.CharField(),
        "name": serializers.CharField(),
        "value": serializers.FloatField(allow_null=True),
        "status": serializers.ChoiceField(
            choices=["ok", "suppressed", "missing", "estimated"]
        ),
        "estimated": serializers.BooleanField(
            help_text="The value is estimated (e.g. converted from LOR 2006 by the "
            "crosswalk); a change is estimated when either of its ends is."
        ),
        "incomplete": serializers.BooleanField(),
        "aggregate": serializers.BooleanField(),
        "contains_suppressed": serializers.BooleanField(
            help_text="A shown total over values suppressed for confidentiality."
        ),
        "note": serializers.CharField(),
    },
)


class ValuesApi(CachedReadMixin, APIView):
    @extend_schema(
        summary="Values of one variable for every unit of a level",
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
                description=(
                    "Earlier reference date YYYY-MM-DD: return the change since then "
                    "(percentage points for shares and rates, per cent otherwise)"
                ),
            ),
            OpenApiParameter(
                "scheme", str, enum=["lor2021", "lor2006"], description=SCHEME_HELP
            ),
        ],
        responses={
            200: inline_serializer(
                "Values",
                {
                    "variable": serializers.CharField(),
                    "level": serializers.CharField(),
                    "scheme": serializers.CharField(),
                    "date": serializers.DateField(allow_null=True),
                    "dates": serializers.ListField(child=serializers.DateField()),
                    "notes": serializers.ListField(
                        child=serializers.CharField(),
                        help_text=(
                            "Footnotes, e.g. naming the crosswalk when values are "
                            "estimated (converted from LOR 2006)."
                        ),
                    ),
                    "results": VALUE_ROWS,
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            values_query_answer(user=request.user, params=request.query_params)
        )


SERIES_POINT = inline_serializer(
    "SeriesPoint",
    many=True,
    fields={
        "date": serializers.DateField(),
        "value": serializers.FloatField(allow_null=True),
        "status": serializers.ChoiceField(
            choices=["ok", "suppressed", "missing", "estimated"]
        ),
        "estimated": serializers.BooleanField(),
    },
)


class ValueSeriesApi(CachedReadMixin, APIView):
    @extend_schema(
        summary="Time series of one variable for up to five units",
        description=(
            "Every reference date of the level with a value, oldest first; each "
            "point says whether it is estimated (before 2021: converted from LOR "
            "2006 onto LOR 2021 units by the crosswalk). `reform` gives the last "
            "date of LOR 2006 and the first day of LOR 2021."
        ),
        parameters=[
            OpenApiParameter(
                "variable", str, required=True, description="Variable key"
            ),
            OpenApiParameter("level", str, required=True, description=LEVEL_HELP),
            OpenApiParameter(
                "units", str, required=True, description="Up to five keys: a,b,c"
            ),
            OpenApiParameter(
                "scheme", str, enum=["lor2021", "lor2006"], description=SCHEME_HELP
            ),
        ],
        responses={
            200: inline_serializer(
                "ValueSeries",
                {
                    "variable": serializers.CharField(),
                    "name": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "level": serializers.CharField(),
                    "scheme": serializers.CharField(),
                    "dates": serializers.ListField(child=serializers.DateField()),
                    "sources": serializers.CharField(
                        help_text="Sources and licences of the values"
                    ),
                    "reform": serializers.DictField(
                        help_text="last_old, first_new (dates), label, estimated_label"
                    ),
                    "series": inline_serializer(
                        "UnitSeries",
                        many=True,
                        fields={
                            "code": serializers.CharField(),
                            "name": serializers.CharField(),
                            "points": SERIES_POINT,
                        },
                    ),
                },
            ),
            400: None,
            404: None,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(
            series_query_answer(user=request.user, params=request.query_params)
        )


class IndicatorSerializer(serializers.Serializer):
    key = serializers.CharField(source="variable.key")
    name = serializers.CharField(source="variable.name")
    theme = serializers.CharField()
    theme_label = serializers.CharField(source="get_theme_display")
    formula = serializers.CharField()
    unit = serializers.CharField(source="variable.unit")
    kind = serializers.CharField()
    direction = serializers.CharField()
    denominator = serializers.CharField(source="denominator.key", allow_null=True)
    min_denominator = serializers.FloatField()
    max_input_age_days = serializers.IntegerField()
    documentation = serializers.CharField()
    dates = serializers.ListField(
        child=serializers.DateField(), source="coverage_dates"
    )
    levels = serializers.ListField(
        child=serializers.CharField(), source="coverage_levels"
    )


class IndicatorListApi(APIView):
    @extend_schema(
        summary="Indicators with their definitions and coverage",
        description=(
            "Values of an indicator are served by /api/values/ under its key, "
            "exactly like a variable."
        ),
        responses={200: IndicatorSerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(IndicatorSerializer(indicator_list(), many=True).data)


class ImportRunStatusSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "kind",
            "status",
            "status_label",
            "phase",
            "percent",
            "rows_total",
            "rows_read",
            "rows_written",
            "error",
            "report",
            "summary",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ImportRunStatusApi(RetrieveAPIView):
    serializer_class = ImportRunStatusSerializer
    permission_classes = [RolePermission]
    allowed_roles = (Role.ADMIN, Role.COORDINATOR, Role.PLANNER)

    def get_object(self):
        try:
            return import_run_get(pk=self.kwargs["pk"], user=self.request.user)
        except ImportRun.DoesNotExist as exc:
            raise NotFound("Import unbekannt.") from exc


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(
        choices=[
            c
            for c in ImportRun.Kind.choices
            if c[0] not in (ImportRun.Kind.TABLE, ImportRun.Kind.COMPUTATION)
        ],
        required=False,
    )
    district = serializers.RegexField(r"^\d{2}$", required=False)


class ImportRunCreateApi(APIView):
    """Upload a file for import (AfS matrix, MSS table, point data).

    Coordinators upload for their own district (the default); Berlin-wide data
    (no district) only administrators. Tables need the column mapping of the UI.
    """

    permission_classes = [IsAuthenticated, CanImport]

    @extend_schema(
        summary="Upload a file for import",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportRunStatusSerializer, 400: None, 403: None},
    )
    def post(self, request: Request) -> Response:
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        district = None
        if code := data.validated_data.get("district"):
            district = LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=code
            ).first()
            if district is None:
                raise ValidationError({"district": "Diesen Bezirk gibt es nicht."})
        form = ImportUploadForm(files={"file": data.validated_data["file"]}, data={})
        if not form.is_valid():
            raise ValidationError(form.errors.get_json_data())
        try:
            run = import_run_upload(
                user=request.user,
                upload=form.cleaned_data["file"],
                kind=data.validated_data.get("kind"),
                district=district,
                tables=False,
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc
        except ImportUploadRefused as exc:
            raise ValidationError({"file": str(exc)}) from exc
        return Response(ImportRunStatusSerializer(run).data, status=201)


class FacilityLayerListApi(APIView):
    @extend_schema(
        operation_id="facilities_list",
        summary="Facility layers (Kitas, schools, youth facilities …)",
        description=(
            "The layers the caller may see. `points` is false where single "
            "facilities are withheld (location confidential, or confidential "
            "counts): such a layer gives counts per Planungsraum only."
        ),
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT)},
    )
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "key": layer.key,
                    "name": layer.name,
                    "ref_date": layer.ref_date,
                    "source": layer.source,
                    "license": layer.license,
                    "points": layer.points_visible,
                    "count_variable": layer.count_variable_key,
                }
                for layer in facility_layer_list(user=request.user)
            ]
        )


class FacilityLayerPointsApi(APIView):
    @extend_schema(
        summary="The points of one facility layer as GeoJSON (EPSG:4326)",
        description=(
            "Where single facilities are withheld from the caller, `features` "
            "is empty and `counts` holds the facilities per Planungsraum, "
            "suppressed like the values of the layer's count variable."
        ),
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: None},
    )
    def get(self, request: Request, key: str) -> Response:
        layer = facility_layer_list(user=request.user).filter(key=key).first()
        if layer is None:
            # Hidden layers look like unknown ones.
            raise NotFound("Diese Einrichtungsebene gibt es nicht.")
        if not layer.points_visible:
            return Response(
                {
                    "type": "FeatureCollection",
                    "features": [],
                    "points": False,
                    "count_variable": layer.count_variable_key,
                    "counts": [
                        {"code": r.code, "value": r.value, "status": r.status}
                        for r in facility_layer_counts(user=request.user, layer=layer)
                    ],
                }
            )
        facilities = facility_list(user=request.user, layer=layer).annotate(
            lonlat=AsGeoJSON(Transform("geom", 4326), precision=6)
        )
        features = [
            {
                "type": "Feature",
                "geometry": json.loads(f.lonlat),
                "properties": {"name": f.name, "plr": f.unit.code if f.unit else None},
            }
            for f in facilities
        ]
        return Response(
            {"type": "FeatureCollection", "features": features, "points": True}
        )
