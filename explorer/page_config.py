"""What the explorer page and the analysis page both hand their script."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from datapool.lineage import ESTIMATED_MARK
from lor import hierarchy
from lor.models import LorUnit


def page_config(*, urls: dict[str, str], text: dict[str, str], **rest: Any) -> dict:
    """A selection page's script configuration: shared addresses, levels, texts.

    ``urls`` and ``text`` add the page's own entries, further keywords own keys.
    """
    return {
        "urls": {
            "variables": reverse("datapool-api:variable-list"),
            "areas": reverse("api-area-sets"),
            "table": reverse("api-selection-table"),
            "export": reverse("analysis:selection-export"),
            **urls,
        },
        "levels": [
            {"value": lvl.value, "label": str(lvl.label)}
            for lvl in map(LorUnit.Level, hierarchy.LEVELS_BELOW_BERLIN)
        ],
        "text": {
            "loading": _("Loading…"),
            "error": _("The data could not be loaded."),
            "suppressed": _("suppressed"),
            "estimated": str(ESTIMATED_MARK),
            **text,
        },
        **rest,
    }
