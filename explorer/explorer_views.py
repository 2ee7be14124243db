"""The explorer page: thematic map, table and unit panel of one selection."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from datapool.themes import Theme
from datapool.timeline import ESTIMATED_LABEL
from explorer.maps.classify import METHOD_LABELS, PALETTES, palette_colors
from explorer.page_config import page_config
from lor.models import LorUnit


class ExplorerView(LoginRequiredMixin, TemplateView):
    template_name = "explorer/explorer.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["explorer_config"] = page_config(
            urls={
                "mapValues": reverse("maps:values"),
                "values": reverse("datapool-api:values"),
                "series": reverse("datapool-api:value-series"),
                "seriesChart": reverse(
                    "analysis:chart", kwargs={"kind": "timeseries", "fmt": "svg"}
                ),
                "facilities": reverse("datapool-api:facility-layers"),
                "unitPage": reverse("lor:unit-detail", kwargs={"code": "CODE"}),
            },
            # A permalink or a saved query opens the explorer in this state.
            initial={
                "variable": self.request.GET.get("variable", "E_E"),
                "level": self.request.GET.get("level", LorUnit.Level.PLANUNGSRAUM),
                "date": self.request.GET.get("date", ""),
                "method": self.request.GET.get("method", ""),
                "k": self.request.GET.get("k", ""),
                "palette": self.request.GET.get("palette", ""),
                "bezirk": self.request.GET.get("bezirk", ""),
            },
            bezirke=list(
                LorUnit.objects.filter(
                    level=LorUnit.Level.BEZIRK, scheme=LorUnit.Scheme.LOR_2021
                )
                .order_by("code")
                .values_list("code", "name")
            ),
            # Five colours per palette draw its ramp in the palette chooser.
            ramps={p: palette_colors(p, 5) for p in PALETTES},
            themes={t.value: str(t.label) for t in Theme},
            methods={k: str(v) for k, v in METHOD_LABELS.items()},
            palettes=list(PALETTES),
            text={
                "allThemes": _("all themes"),
                "missing": _("no data"),
                "rankBerlin": _("Rank in Berlin"),
                "rankBezirk": _("Rank in its Bezirk"),
                "parent": _("Parent unit"),
                "berlin": _("Berlin"),
                "value": _("Value"),
                "key": _("Key"),
                "name": _("Name"),
                "units": _("units"),
                "change": _("Change since"),
                "noChange": _("– no comparison –"),
                "details": _("Details of this unit"),
                "of": _("of"),
                "rankOf": _("Rank {rank} of {n} in the Bezirk"),
                "rankOfBerlin": _("Rank {rank} of {n} in Berlin"),
                "allBerlin": _("all of Berlin"),
                "facilities": _("Facilities"),
                "facilityCountsOnly": _("location confidential: counts only"),
                "estimated": str(ESTIMATED_LABEL),
                "estimatedLabel": str(ESTIMATED_LABEL),
                "seriesValues": _("Values over time"),
                "seriesChart": _("Time series as a chart (SVG)"),
                "breaksHint": _(
                    "Class bounds, separated by semicolons, e.g. 3000; 6000; 9000"
                ),
            },
        )
        return context
