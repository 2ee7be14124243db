"""How values across the LOR reform are named wherever they are shown.

The reform's dates are ``lor.hierarchy``'s; values of before 2021 shown on LOR
2021 units are converted by the crosswalk and have status ``estimated``. Charts
(``explorer.graphics``), the series API and the pages' scripts use these labels,
so the legend says the same everywhere.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from lor import hierarchy

REFORM_LABEL = gettext_lazy("LOR reform 2021")
ESTIMATED_LABEL = gettext_lazy("estimated (converted from LOR 2006)")


def reform_answer() -> dict[str, Any]:
    """The reform as APIs give it: the last old date, the first new day, labels."""
    return {
        "last_old": hierarchy.LOR_2006_LAST_DATE,
        "first_new": hierarchy.LOR_REFORM_DATE,
        "label": str(REFORM_LABEL),
        "estimated_label": str(ESTIMATED_LABEL),
    }
