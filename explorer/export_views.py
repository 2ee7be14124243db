"""Download of an explorer selection in one of the export formats."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from django.views import View

from core.audit import audit_record
from core.models import AuditEvent
from core.throttle import heavy_export_refused, heavy_export_throttle
from datapool.access import variables_require_visible
from datapool.api_params import ParamError, date_parse, number_parse, texts_check

from . import exports
from .maps.classify import DEFAULT_CHANGE_PALETTE, DEFAULT_PALETTE
from .selection import (
    Selection,
    SelectionError,
    selection_change_evaluate,
    selection_evaluate,
)

DEFAULT_TITLE = "PRISMA Berlin – Auswahl"
MAX_TITLE = 200
FORMATS = (
    "csv",
    "csv-plain",
    "xlsx",
    "geojson",
    "gpkg",
    "shp",
    "png",
    "svg",
    "pdf",
    "chart-png",
    "chart-svg",
)
# Formats that occupy the web process for a second or more: limited per user.
HEAVY_FORMATS = frozenset({"xlsx", "gpkg", "shp", "png", "svg", "pdf"})


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(
        _("Export not possible: %(message)s") % {"message": message},
        content_type="text/plain; charset=utf-8",
    )


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise exports.ExportError(f"„{name}“ muss eine ganze Zahl sein.") from exc


def _breaks(value: str) -> list[float] | None:
    if not value:
        return None
    try:
        return [number_parse(part.replace(",", ".")) for part in value.split(";")]
    except ParamError as exc:
        raise exports.ExportError(
            f"{exc.message} Klassengrenzen bitte als Zahlen mit „;“ getrennt angeben."
        ) from exc


class SelectionExportView(LoginRequiredMixin, View):
    """GET ?format=…&selection=<JSON of Selection.as_dict()>&title=… → a file.

    With ``compare=YYYY-MM-DD`` (as ``/api/maps/values/``) the file holds each
    column's change since that date: the change map's values.
    """

    def get(self, request):
        params = request.GET
        try:
            texts_check(params)
        except ParamError as exc:
            return _bad_request(exc.message)
        fmt = params.get("format", "")
        if fmt not in FORMATS:
            return _bad_request(f"unbekanntes Format „{fmt[:20]}“.")
        if fmt in HEAVY_FORMATS and (wait := heavy_export_throttle(user=request.user)):
            return heavy_export_refused(request, retry_after=wait)
        title = (params.get("title") or DEFAULT_TITLE).strip()[:MAX_TITLE]
        try:
            # The parser of /api/values/: a bad date gets the same German message.
            compare = (
                date_parse(params["compare"], field="compare")
                if params.get("compare")
                else None
            )
        except ParamError as exc:
            return _bad_request(exc.message)
        try:
            selection = Selection.parse(params.get("selection", ""))
            variables_require_visible(
                user=request.user, keys=[*selection.columns, params.get("column")]
            )
            if compare:
                result = selection_change_evaluate(
                    selection=selection, compare=compare, viewer=request.user
                )
            else:
                result = selection_evaluate(selection=selection, viewer=request.user)
            if not result.units:
                raise exports.ExportError(_("The selection contains no units."))
            content, content_type, filename = self._export(result, fmt, title, params)
        except (SelectionError, exports.ExportError) as exc:
            return _bad_request(str(exc))
        audit_record(
            user=request.user,
            action=AuditEvent.Action.EXPORT,
            object_type="export",
            object_label=filename,
            details={
                "format": fmt,
                "title": title,
                "selection": selection.as_dict(),
                "parameters": {
                    k: params.get(k)
                    for k in ("column", "method", "k", "palette", "breaks", "compare")
                    if params.get(k) is not None
                },
                "units": len(result.units),
            },
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _export(self, result, fmt: str, title: str, params):
        if fmt in ("csv", "csv-plain"):
            return exports.export_csv(result=result, title=title, german=fmt == "csv")
        if fmt == "xlsx":
            return exports.export_xlsx(result=result, title=title)
        if fmt == "geojson":
            return exports.export_geojson(result=result, title=title)
        if fmt == "gpkg":
            return exports.export_gpkg(result=result, title=title)
        if fmt == "shp":
            return exports.export_shapefile(result=result, title=title)
        column = params.get("column") or None
        if fmt.startswith("chart-"):
            return exports.export_chart(
                result=result, title=title, fmt=fmt[6:], column=column
            )
        return exports.export_map(
            result=result,
            title=title,
            fmt=fmt,
            column=column,
            method=params.get("method", "quantiles"),
            k=_int(params.get("k", "5"), "k"),
            palette=params.get("palette")
            or (DEFAULT_CHANGE_PALETTE if result.compare else DEFAULT_PALETTE),
            breaks=_breaks(params.get("breaks", "")),
        )
