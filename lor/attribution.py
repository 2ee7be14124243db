"""Where the LOR units come from and under which licence: the one home of that credit.

Keys, names and geometries of the LOR 2021 units are the Geoportal Berlin's
(SenStadt, WFS "LOR Planungsräume 01.01.2021", exported with its key table);
custom areas are unions of those Planungsräume. Every file, map or chart that
shows values per unit therefore names this source beside the data's own, as
the Datenlizenz Deutschland – Namensnennung 2.0 asks ("Data sources and
licences" in README.md).
"""

from __future__ import annotations

from typing import Final

# The attribution text the Geoportal asks for.
LOR_SOURCE: Final = (
    "Geoportal Berlin / Lebensweltlich orientierte Räume (LOR) 01.01.2021"
)
# The same, short enough for the source line under a map or chart.
LOR_SOURCE_SHORT: Final = "Geoportal Berlin / LOR 01.01.2021"
LOR_LICENSE: Final = "dl-de/by-2-0"
LOR_LICENSE_URL: Final = "https://www.govdata.de/dl-de/by-2-0"
