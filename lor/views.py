from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from . import hierarchy
from .models import LorUnit
from .selectors import (
    lor_unit_ancestors,
    lor_unit_child_level,
    lor_unit_children,
    lor_unit_get,
)

MAP_LEVELS = [LorUnit.Level(level) for level in hierarchy.LEVELS_BELOW_BERLIN]


class LorMapView(LoginRequiredMixin, TemplateView):
    template_name = "lor/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        level = self.request.GET.get("level")
        context["levels"] = [
            {"value": lvl.value, "label": lvl.label} for lvl in MAP_LEVELS
        ]
        context["initial_level"] = (
            level
            if level in {lvl.value for lvl in MAP_LEVELS}
            else LorUnit.Level.BEZIRK
        )
        context["map_config"] = {
            "unitsUrl": reverse("lor-api:unit-list"),
            "unitPageUrl": reverse("lor:unit-detail", kwargs={"code": "CODE"}),
            "initialLevel": context["initial_level"],
            "initialUnit": self.request.GET.get("unit", ""),
            "basemapUrl": settings.PRISMA_BASEMAP_URL,
            "basemapAttribution": settings.PRISMA_BASEMAP_ATTRIBUTION,
            "levels": {lvl.value: str(lvl.label) for lvl in LorUnit.Level},
            "text": {
                "loading": _("Loading…"),
                "loadError": _(
                    "The units could not be loaded. Please reload the page."
                ),
                "units": _("units"),
                "km2": "km²",
            },
        }
        return context


class LorUnitDetailView(LoginRequiredMixin, TemplateView):
    template_name = "lor/unit_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        try:
            unit = lor_unit_get(code=kwargs["code"])
        except LorUnit.DoesNotExist as exc:
            raise Http404 from exc
        child_level = lor_unit_child_level(level=unit.level)
        context.update(
            unit=unit,
            ancestors=lor_unit_ancestors(unit=unit),
            children=lor_unit_children(unit=unit),
            child_level_label=LorUnit.Level(child_level).label if child_level else None,
        )
        return context
