"""REST endpoints of saved queries: list, create, read, change, delete, result."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datapool.access import variables_require_visible
from explorer.selection import SelectionError
from lor.models import LorUnit
from queries.models import SavedQuery

from .selectors import saved_query_get, saved_query_list, saved_query_result
from .services import saved_query_create, saved_query_delete, saved_query_update


class SavedQuerySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.get_username", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = SavedQuery
        fields = [
            "id",
            "title",
            "description",
            "inquiry_reference",
            "owner",
            "sharing",
            "district",
            "selection",
            "presentation",
            "pinned",
            "pinned_at",
            "created_at",
            "updated_at",
            "url",
        ]


class SavedQueryInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    inquiry_reference = serializers.CharField(
        max_length=120, required=False, allow_blank=True, default=""
    )
    sharing = serializers.ChoiceField(
        choices=SavedQuery.Sharing.choices, default=SavedQuery.Sharing.PRIVATE
    )
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=LorUnit.objects.filter(
            level=LorUnit.Level.BEZIRK, scheme=LorUnit.Scheme.LOR_2021
        ),
        required=False,
        allow_null=True,
        default=None,
    )
    selection = serializers.DictField(
        help_text="Selection.as_dict(): level, columns, date (null: latest), "
        "derived, conditions, within"
    )
    presentation = serializers.DictField(required=False, default=dict)


RESULT = inline_serializer(
    "SavedQueryResult",
    fields={
        "source": serializers.ChoiceField(choices=["snapshot", "current"]),
        "pinned": serializers.BooleanField(),
        "pinned_at": serializers.DateTimeField(allow_null=True),
        "evaluated_at": serializers.DateTimeField(),
        "columns": serializers.ListField(child=serializers.DictField()),
        "rows": serializers.ListField(
            child=serializers.DictField(),
            help_text="code, name, match, then <column> value and "
            "<column>__status per column",
        ),
        "matches": serializers.IntegerField(),
        "import_runs": serializers.ListField(child=serializers.DictField()),
    },
)


def _get(request: Request, pk: int) -> SavedQuery:
    try:
        return saved_query_get(pk=pk, user=request.user)
    except SavedQuery.DoesNotExist as exc:
        raise NotFound("Abfrage unbekannt.") from exc


def _input(request: Request) -> dict:
    serializer = SavedQueryInput(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _bad_request(exc: DjangoValidationError) -> ValidationError:
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return ValidationError(detail)


class SavedQueryListApi(APIView):
    @extend_schema(
        summary="Saved queries visible to the user",
        parameters=[
            OpenApiParameter(
                "q", str, description="Search in title, description, reference"
            )
        ],
        responses=SavedQuerySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        # PostgreSQL text cannot hold NUL; a search for it matches nothing anyway.
        q = str(request.query_params.get("q", "")).replace("\x00", "")[:100]
        queries = saved_query_list(user=request.user, q=q)
        return Response(SavedQuerySerializer(queries, many=True).data)

    @extend_schema(
        summary="Save a query of one's own",
        request=SavedQueryInput,
        responses={201: SavedQuerySerializer},
    )
    def post(self, request: Request) -> Response:
        try:
            query = saved_query_create(owner=request.user, **_input(request))
        except DjangoValidationError as exc:
            raise _bad_request(exc) from exc
        return Response(
            SavedQuerySerializer(query).data, status=status.HTTP_201_CREATED
        )


class SavedQueryDetailApi(APIView):
    @extend_schema(summary="One saved query", responses=SavedQuerySerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(SavedQuerySerializer(_get(request, pk)).data)

    @extend_schema(
        summary="Replace a saved query (owner only)",
        request=SavedQueryInput,
        responses=SavedQuerySerializer,
    )
    def put(self, request: Request, pk: int) -> Response:
        query = _get(request, pk)
        try:
            query = saved_query_update(
                query=query, user=request.user, **_input(request)
            )
        except DjangoValidationError as exc:
            raise _bad_request(exc) from exc
        return Response(SavedQuerySerializer(query).data)

    @extend_schema(summary="Delete a saved query (owner only)", responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        saved_query_delete(query=_get(request, pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedQueryResultApi(APIView):
    @extend_schema(
        summary="The answer of a saved query",
        description="A pinned query answers from its snapshot; ?current=1 re-runs "
        "it on current data.",
        parameters=[OpenApiParameter("current", bool)],
        responses=RESULT,
    )
    def get(self, request: Request, pk: int) -> Response:
        query = _get(request, pk)
        variables_require_visible(
            user=request.user, keys=query.selection.get("columns") or []
        )
        current = request.query_params.get("current", "") in {"1", "true", "yes"}
        try:
            answer = saved_query_result(query=query, current=current)
        except SelectionError as exc:
            raise ValidationError({"selection": str(exc)}) from exc
        return Response(
            {
                **answer,
                "pinned": query.pinned,
                "pinned_at": query.pinned_at,
            }
        )
