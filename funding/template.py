"""The project template: its columns, what each means, and the file to download.

One row per project and year: the project's fields repeat on each of its rows,
the amounts are those of the row's year. The upload page lists these columns
and offers the template as CSV (semicolon, UTF-8 with BOM, for German Excel)
and as XLSX; the import (``funding.services.imports``) reads exactly these.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .models import Project


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    description: str
    example: str


STATUS_WORDS: dict[str, str] = {
    "geplant": Project.Status.PLANNED,
    "bewilligt": Project.Status.APPROVED,
    "laufend": Project.Status.RUNNING,
    "abgeschlossen": Project.Status.COMPLETED,
}

NUMBER = "Projektnummer"
TITLE = "Maßnahme"
PROGRAMME = "Programm"
AREA = "Fördergebiet"
UNIT = "Planungsraum"
EAST = "Rechtswert"
NORTH = "Hochwert"
SPONSOR = "Träger"
FIELD = "Handlungsfeld"
START = "Beginn"
END = "Ende"
STATUS = "Status"
YEAR = "Jahr"
APPROVED = "Bewilligt (EUR)"
PAID = "Ausgezahlt (EUR)"

COLUMNS: tuple[Column, ...] = (
    Column(
        NUMBER,
        True,
        "Kennung der Maßnahme im Bezirk; dieselbe Nummer in einer späteren Datei "
        "aktualisiert die Maßnahme.",
        "FK-2024-017",
    ),
    Column(TITLE, True, "Bezeichnung der Maßnahme.", "Nachbarschaftsgarten"),
    Column(
        PROGRAMME,
        True,
        "Schlüssel oder Name eines Förderprogramms in PRISMA (Liste unten).",
        "sozialer-zusammenhalt",
    ),
    Column(
        AREA,
        False,
        "Schlüssel oder Name eines Fördergebiets im Bezirk (Liste unten). "
        "Fördergebiet, Planungsraum oder Koordinaten: mindestens eins.",
        "qm-mehringplatz",
    ),
    Column(
        UNIT,
        False,
        "Achtstelliger LOR-2021-Schlüssel des Planungsraums im Bezirk, in dem die "
        "Maßnahme stattfindet.",
        "02100102",
    ),
    Column(
        EAST,
        False,
        "Ort als Rechtswert in ETRS89 / UTM Zone 33N (EPSG:25833), in Metern; "
        "nur zusammen mit Hochwert.",
        "390950",
    ),
    Column(NORTH, False, "Ort als Hochwert (EPSG:25833), in Metern.", "5818200"),
    Column(SPONSOR, False, "Träger der Maßnahme.", "Nachbarschaftshaus e. V."),
    Column(FIELD, False, "Handlungsfeld.", "Nachbarschaft"),
    Column(START, False, "Beginn als TT.MM.JJJJ.", "01.03.2024"),
    Column(END, False, "Ende als TT.MM.JJJJ (nicht vor dem Beginn).", "31.12.2025"),
    Column(
        STATUS,
        False,
        "geplant, bewilligt, laufend oder abgeschlossen (leer: geplant).",
        "laufend",
    ),
    Column(YEAR, True, "Haushaltsjahr der Beträge dieser Zeile (JJJJ).", "2024"),
    Column(
        APPROVED,
        True,
        "Im Jahr bewilligte Mittel in Euro (Dezimalkomma, Tausenderpunkte erlaubt).",
        "12.500,00",
    ),
    Column(
        PAID,
        False,
        "Im Jahr ausgezahlte Mittel in Euro (leer: 0).",
        "8.000,00",
    ),
)
COLUMN_NAMES = tuple(c.name for c in COLUMNS)


def template_csv() -> bytes:
    """The template as CSV for German Excel: header and one example row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    writer.writerow([c.example for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The template as XLSX: the table sheet and a sheet documenting each column."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Maßnahmen"
    sheet.append(list(COLUMN_NAMES))
    # Text cells: Excel must not turn keys into numbers or dates.
    sheet.append([c.example for c in COLUMNS])
    for cell in sheet[2]:
        cell.number_format = "@"
    doc = book.create_sheet("Erläuterung")
    doc.append(["Spalte", "Pflicht", "Bedeutung", "Beispiel"])
    for column in COLUMNS:
        doc.append(
            [
                column.name,
                "ja" if column.required else "nein",
                column.description,
                column.example,
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
