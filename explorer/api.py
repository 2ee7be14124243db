"""The explorer's table data: a selection evaluated, with ranks and context values."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datapool.access import variables_require_visible

from .context import selection_context
from .selection import Selection, SelectionError, selection_evaluate


class SelectionTableApi(APIView):
    @extend_schema(
        summary="Evaluate an explorer selection (table with ranks and context)",
        parameters=[
            OpenApiParameter(
                "selection",
                str,
                required=True,
                description=(
                    'JSON: {"level": "planungsraum", "columns": ["E_E"], '
                    '"date": null, "derived": [{"key", "label", "formula"}], '
                    '"conditions": [{"column", "op", "value"}], "within": ""}'
                ),
            )
        ],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 400: None},
    )
    def get(self, request: Request) -> Response:
        try:
            selection = Selection.parse(request.query_params.get("selection"))
        except SelectionError as exc:
            raise ValidationError({"selection": str(exc)}) from exc
        variables_require_visible(user=request.user, keys=selection.columns)
        try:
            result = selection_evaluate(selection=selection, viewer=request.user)
        except SelectionError as exc:
            raise ValidationError({"selection": str(exc)}) from exc
        context = selection_context(result=result)
        return Response(
            {
                "selection": selection.as_dict(),
                "columns": [
                    {
                        "key": c.key,
                        "label": c.label,
                        "unit": c.unit,
                        "date": c.date,
                        "derived": c.derived,
                        "berlin": context["columns"][c.key]["berlin"],
                    }
                    for c in result.columns
                ],
                "parent_level": context["parent_level"],
                "rows": [
                    {
                        **row,
                        **{
                            f"{c.key}__rank_berlin": context["columns"][c.key][
                                "rank_berlin"
                            ].get(row["code"])
                            for c in result.columns
                        },
                        **{
                            f"{c.key}__rank_bezirk": context["columns"][c.key][
                                "rank_bezirk"
                            ].get(row["code"])
                            for c in result.columns
                        },
                        **{
                            f"{c.key}__parent": context["columns"][c.key]["parent"].get(
                                row["code"]
                            )
                            for c in result.columns
                        },
                    }
                    for row in result.rows()
                ],
                "matches": result.matches,
            }
        )
