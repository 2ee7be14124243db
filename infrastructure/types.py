"""The facility types PRISMA knows from the start, and the files that fill them.

A district may add further types in the admin; these are created on first import.
"""

from __future__ import annotations

from dataclasses import dataclass

GEOPORTAL = "Geoportal Berlin, Grünflächeninformationssystem (SenMVKU)"
DL_DE = "dl-de/by-2-0 (Geoportal Berlin)"

FIS_BROKER = "Geoportal Berlin / FIS-Broker"

DEFAULT_TYPES: dict[str, dict[str, str]] = {
    "kita": {
        "name": "Kindertagesstätte",
        "capacity_unit": "Plätze",
        "demand_group": "Kinder unter 6 Jahren",
        "source": FIS_BROKER + ", WFS Kindertagesstätten (Stand 12/2022)",
        "license": DL_DE,
        "layer_key": "kitas",
    },
    "schule": {
        "name": "Schule",
        "capacity_unit": "Plätze",
        "demand_group": "Kinder und Jugendliche im Schulalter",
        "source": FIS_BROKER + ", WFS Schulen (Stand 10/2023)",
        "license": DL_DE,
        "layer_key": "schulen",
    },
    "jfe": {
        "name": "Jugendfreizeiteinrichtung",
        "capacity_unit": "Plätze",
        "demand_group": "Einwohner von 6 bis unter 25 Jahren",
        "source": FIS_BROKER + ", WFS Jugendfreizeiteinrichtungen (Stand 12/2022)",
        "license": DL_DE,
        "layer_key": "jfe",
    },
    "spielplatz": {
        "name": "Spielplatz",
        "capacity_unit": "m² Nettospielfläche",
        "demand_group": "alle Einwohner (Kernindikator KI_SPIELPLATZ)",
        "supply_variable": "INF_SPIELPLATZ_M2",
        "source": GEOPORTAL + ", Spielplatzbestand",
        "license": DL_DE,
    },
    "gruenanlage": {
        "name": "Öffentliche Grünanlage",
        "capacity_unit": "m²",
        "demand_group": "alle Einwohner (Kernindikator KI_GRUEN)",
        "supply_variable": "INF_GRUEN_M2",
        "source": GEOPORTAL + ", Grünanlagenbestand",
        "license": DL_DE,
    },
}


@dataclass(frozen=True)
class TableFormat:
    """How one delivered table is written: separators and the columns we read."""

    type_key: str
    delimiter: str
    decimal: str  # "," or "."
    capacity_column: str
    key_column: str = "Technischer Schlüssel"
    name_column: str = ""
    unit_column: str = "Nummer des Planungsraumes"
    operator_column: str = ""


# The Geoportal exports (SOURCES.md): the green spaces with `;` and decimal
# commas, the playgrounds with `,` and decimal points; `-` = not recorded.
FORMATS: dict[str, TableFormat] = {
    "gruenanlage": TableFormat(
        type_key="gruenanlage",
        delimiter=";",
        decimal=",",
        capacity_column="Größe in m² (Kataster)",
        name_column="Name der Grünanlage",
    ),
    "spielplatz": TableFormat(
        type_key="spielplatz",
        delimiter=",",
        decimal=".",
        capacity_column="Nettospielfläche in m²",
        name_column="Name des Spielplatzes",
    ),
}


@dataclass(frozen=True)
class GisFormat:
    """Which attributes of a delivered point layer fill which register fields."""

    type_key: str
    key_attribute: str
    name_attribute: str
    capacity_attribute: str = ""  # empty: the layer records no capacity
    operator_attribute: str = ""


# The FIS-Broker layers (SOURCES.md): Kitas and youth centres share the `e_*`
# (Einrichtung) and `t_*` (Träger) scheme, places in `e_platz` as text; the
# school layer names the school and its public/private Träger but records no
# pupils or places, so a school's capacity stays empty.
GIS_FORMATS: dict[str, GisFormat] = {
    "kita": GisFormat(
        type_key="kita",
        key_attribute="e_nr",
        name_attribute="e_name",
        capacity_attribute="e_platz",
        operator_attribute="t_name",
    ),
    "schule": GisFormat(
        type_key="schule",
        key_attribute="bsn",
        name_attribute="name",
        operator_attribute="traeger",
    ),
    "jfe": GisFormat(
        type_key="jfe",
        key_attribute="e_nr",
        name_attribute="e_name",
        capacity_attribute="e_platz",
        operator_attribute="t_name",
    ),
}
