"""Read API of the Bezirksregionenprofile: editions and their documents as JSON."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lor.models import LorUnit

from .models import ProfileEdition
from .selectors import (
    document_for_viewer,
    profile_document,
    profile_document_for_region,
    profile_edition_get,
    profile_edition_list,
    profile_region_get,
)


class EditionQuery(serializers.Serializer):
    bezirk = serializers.RegexField(r"^\d{2}$", required=False)
    status = serializers.ChoiceField(
        choices=ProfileEdition.Status.choices, required=False
    )


class ProfileEditionListApi(APIView):
    @extend_schema(
        summary="Profile editions, filtered by district and status",
        parameters=[
            OpenApiParameter("bezirk", str, description="2-digit district key"),
            OpenApiParameter("status", str, enum=ProfileEdition.Status.values),
        ],
        responses={
            200: inline_serializer(
                "ProfileEdition",
                many=True,
                fields={
                    "id": serializers.IntegerField(),
                    "region": serializers.CharField(),
                    "region_name": serializers.CharField(),
                    "number": serializers.IntegerField(),
                    "status": serializers.CharField(),
                    "ref_date": serializers.DateField(allow_null=True),
                    "adopted_on": serializers.DateField(allow_null=True),
                    "decision_reference": serializers.CharField(),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        query = EditionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        editions = profile_edition_list(
            bezirk_code=query.validated_data.get("bezirk", ""),
            status=query.validated_data.get("status", ""),
        )
        return Response(
            [
                {
                    "id": e.pk,
                    "region": e.profile.region.code,
                    "region_name": e.profile.region.name,
                    "number": e.number,
                    "status": e.status,
                    "ref_date": e.ref_date,
                    "adopted_on": e.adopted_on,
                    "decision_reference": e.decision_reference,
                }
                for e in editions
            ]
        )


class ProfileEditionDocumentApi(APIView):
    @extend_schema(
        summary="One edition: its analysis (frozen once adopted), goals, assessments",
        responses={200: OpenApiTypes.OBJECT, 404: None},
    )
    def get(self, request: Request, pk: int) -> Response:
        try:
            edition = profile_edition_get(pk=pk)
        except ProfileEdition.DoesNotExist as exc:
            raise NotFound("Profilfassung unbekannt.") from exc
        return Response(
            document_for_viewer(
                document=profile_document(edition=edition), user=request.user
            )
        )


class ProfileRegionDocumentApi(APIView):
    @extend_schema(
        summary="A Bezirksregion's profile: latest adopted edition or generated",
        parameters=[
            OpenApiParameter(
                "code", str, OpenApiParameter.PATH, description="6-digit LOR key"
            )
        ],
        responses={200: OpenApiTypes.OBJECT, 404: None},
    )
    def get(self, request: Request, code: str) -> Response:
        try:
            region = profile_region_get(code=code)
        except LorUnit.DoesNotExist as exc:
            raise NotFound("Bezirksregion unbekannt.") from exc
        return Response(
            document_for_viewer(
                document=profile_document_for_region(region=region), user=request.user
            )
        )
