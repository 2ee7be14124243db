"""The "join and analyse" page and its server-rendered charts."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseBadRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from datapool.access import variables_require_visible
from datapool.api_params import ParamError, date_parse, texts_check
from datapool.models import Variable
from lor.models import LorUnit

from . import charts
from .page_config import page_config
from .selection import Selection, SelectionError, selection_evaluate

KINDS = ("scatter", "ranking", "timeseries", "agestructure")


class AnalyseView(LoginRequiredMixin, TemplateView):
    template_name = "explorer/analyse.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["analyse_config"] = page_config(
            urls={
                "chart": reverse(
                    "analysis:chart", kwargs={"kind": "KIND", "fmt": "FMT"}
                ),
                "saveQuery": reverse("queries:create"),
                "geometry": reverse("maps:geometry", kwargs={"level": "LEVEL"}),
            },
            bezirke=list(
                LorUnit.objects.filter(
                    level=LorUnit.Level.BEZIRK, scheme=LorUnit.Scheme.LOR_2021
                )
                .order_by("code")
                .values_list("code", "name")
            ),
            text={
                "remove": _("Remove"),
                "matchCount": _("{n} of {m} units meet all conditions"),
                "noColumns": _("Add at least one variable or indicator."),
                "correlation": _("Correlation"),
                "title": _("Analysis"),
                "key": _("Key"),
                "name": _("Name"),
                "unknownVariable": _(
                    "No variable or indicator is called „{name}“; pick one from "
                    "the list."
                ),
                "shareLabel": _("Share of {parts} in {total}"),
            },
        )
        return context


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(
        _("Chart not possible: %(message)s") % {"message": message},
        content_type="text/plain; charset=utf-8",
    )


class ChartView(LoginRequiredMixin, View):
    """GET /analysis/charts/<kind>.<svg|png>?selection=…&x=&y=&column=&units=&unit=

    The age structure takes ``unit`` and an optional ``date`` (YYYY-MM-DD).
    """

    def get(self, request, kind: str, fmt: str):
        if kind not in KINDS:
            return _bad_request(f"unbekannte Diagrammart „{kind[:20]}“.")
        try:
            texts_check(request.GET)
            chart = self._chart(kind, fmt, request.GET, request.user)
        except (
            ParamError,
            SelectionError,
            charts.ChartError,
            charts.ExportError,
        ) as exc:
            return _bad_request(str(exc))
        response = HttpResponse(chart.content, content_type=chart.content_type)
        disposition = "attachment" if request.GET.get("download") else "inline"
        response["Content-Disposition"] = f'{disposition}; filename="{chart.filename}"'
        if kind == "scatter":
            r = chart.figures["r"]
            response["X-Correlation"] = "" if r is None else f"{r:.6f}"
            response["X-Pairs"] = str(chart.figures["n"])
        return response

    def _chart(self, kind: str, fmt: str, params, viewer) -> charts.Chart:
        if kind == "agestructure":
            raw_date = params.get("date", "").strip()
            return charts.chart_age_structure(
                unit_code=params.get("unit", "").strip(),
                fmt=fmt,
                viewer=viewer,
                ref_date=date_parse(raw_date) if raw_date else None,
            )
        selection = Selection.parse(params.get("selection", ""))
        variables_require_visible(
            user=self.request.user, keys=[*selection.columns, params.get("column")]
        )
        if kind == "timeseries":
            key = params.get("column") or (selection.columns or [""])[0]
            variable = Variable.objects.filter(key=key).first()
            if variable is None:
                raise charts.ChartError(
                    _("Time series exist only for variables, not for “%(key)s”.")
                    % {"key": key[:40]}
                )
            units = [u.strip() for u in params.get("units", "").split(",")]
            return charts.chart_timeseries(
                variable=variable,
                level=selection.level,
                units=[u for u in units if u],
                fmt=fmt,
                viewer=viewer,
            )
        result = selection_evaluate(selection=selection, viewer=viewer)
        if not result.units:
            raise charts.ChartError(_("The selection contains no units."))
        if kind == "scatter":
            return charts.chart_scatter(
                result=result, x=params.get("x", ""), y=params.get("y", ""), fmt=fmt
            )
        return charts.chart_ranking(
            result=result, column=params.get("column", ""), fmt=fmt
        )
