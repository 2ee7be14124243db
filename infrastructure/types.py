"""The facility types PRISMA knows from the start, and the files that fill them.

A district may add further types in the admin; these are created on first import.
"""

from __future__ import annotations

from dataclasses import dataclass

GEOPORTAL = "Geoportal Berlin, Grünflächeninformationssystem (SenMVKU)"
DL_DE = "dl-de/by-2-0 (Geoportal Berlin)"

DEFAULT_TYPES: dict[str, dict[str, str]] = {
    "kita": {
        "name": "Kindertagesstätte",
        "capacity_unit": "Plätze",
        "demand_group": "Kinder unter 6 Jahren",
    },
    "schule": {
        "name": "Schule",
        "capacity_unit": "Plätze",
        "demand_group": "Kinder und Jugendliche im Schulalter",
    },
    "jfe": {
        "name": "Jugendfreizeiteinrichtung",
        "capacity_unit": "Plätze",
        "demand_group": "Einwohner von 6 bis unter 25 Jahren",
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
