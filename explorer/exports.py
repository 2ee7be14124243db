"""Exports of an explorer selection: tables, geodata, maps and charts as files.

Every function takes a ``SelectionResult`` and a title and returns
``(content, content_type, filename)``. Every file carries the title (naming the
restriction of the units, e.g. „Planungsräume in Mitte“), the sources and
licences of its columns by lineage (``datapool.lineage``: the inputs of an
indicator, the LOR units' Geoportal credit, then PRISMA) and their reference
dates. Layout decisions:

- ``csv`` (German Excel): UTF-8 with BOM, ``;``, decimal comma; metadata as
  ``Titel;…``, ``Quelle;…``, ``Lizenz;…``, ``Stichtag;…``, ``Erstellt;…`` rows,
  one empty row, then the table (Excel opens it with one double click). Keys
  start with an invisible WORD JOINER (U+2060) so that Excel keeps them as text
  with their leading zeros.
- ``csv-plain`` (file name ``…-plain.csv``): UTF-8 without BOM, ``,``, decimal
  point; metadata as ``# Key: …`` comment lines before the header (pandas:
  ``read_csv(..., comment="#")``); keys as they are.
- ``xlsx``: sheet "Daten" with the metadata rows, an empty row, then the table
  (keys as text cells formatted ``@``, numbers as numbers, suppressed cells
  empty, status "gesperrt"); sheet
  "Spalten" documents each column.
- ``geojson``: EPSG:4326, metadata in a top-level ``metadata`` member.
- ``gpkg``: EPSG:25833, layer ``auswahl`` (description = title) and a
  non-spatial table ``metadaten`` (key/value).
- ``shp``: zip of .shp/.shx/.dbf/.prj/.cpg (UTF-8, EPSG:25833) and README.txt with
  metadata and the mapping of the ≤ 10-character field names.
- ``png``/``svg``/``pdf``: choropleth of one column; ``chart-png``/``chart-svg``:
  bar chart ranking the units by one column. The source line names each source
  with its licence; the file's own metadata carries title and sources too.

A change selection (``selection_change_evaluate``: the change map's values)
exports the changes in every format: the title, the column headers and the map
legend say „Veränderung <Stichtag> gegenüber <Vergleichsstichtag>“, the
metadata name the comparison date, and the sources are those of the variable
(computed in PRISMA) plus the crosswalk where either date was converted.

Text cells of CSV and XLSX that begin with ``= + - @`` (or tab/CR) get a leading
apostrophe (OWASP CSV injection); numbers are never changed. This happens where
cells are written, not per field: every CSV row goes through ``_CsvRows`` and
every workbook through ``_xlsx_bytes``, so a new column or sheet cannot miss it.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from datapool.lineage import (
    CROSSWALK_SOURCE,
    ESTIMATED_MARK,
    PRISMA,
    Attribution,
    attribution,
    estimated_footnote,
)
from datapool.numbers import german_label
from lor.selectors import lor_unit_geometries

from . import graphics
from .selection import Cell, Column, SelectionResult, selection_scope

# Translated when a file is written: the export speaks the user's language.
STATUS_LABELS = {
    "ok": "ok",
    "suppressed": gettext_lazy("suppressed"),
    "missing": gettext_lazy("no data"),
    "estimated": ESTIMATED_MARK,
}
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CLASS_METHODS = ("quantiles", "equal_interval", "natural_breaks", "std_mean", "manual")
MAP_SIZE_PX = (1600, 1200)
# Excel converts digits to a number even when quoted, dropping a key's leading
# zero; ="01…" would be a formula and a leading apostrophe or tab is neutralised
# or shown. An invisible WORD JOINER before the digits makes the cell text.
EXCEL_TEXT_MARK = "\u2060"

Export = tuple[bytes, str, str]


class ExportError(ValueError):
    """The export cannot be produced; the message says why, in the UI language."""


@dataclass
class ExportMeta:
    title: str
    attribution: Attribution  # sources and licences by lineage
    dates: dict[str, date | None]  # column key → reference date
    created: str = field(
        default_factory=lambda: timezone.localtime().strftime("%d.%m.%Y %H:%M")
    )
    labels: dict[str, str] = field(default_factory=dict)  # column key → label
    derived: frozenset[str] = frozenset()  # keys of derived columns
    # Further (label, text) rows after the title, e.g. a saved query's reference.
    notes: tuple[tuple[str, str], ...] = ()
    # Some values are estimated (converted from LOR 2006): the crosswalk is a
    # source of theirs, named in the source rows and lines.
    estimated: bool = False
    compare: date | None = None  # the earlier date of a change selection

    @property
    def source_text(self) -> str:
        sources = self.attribution.sources
        if self.estimated:
            sources = [*sources, str(CROSSWALK_SOURCE)]
        return "; ".join(sources)

    @property
    def license_text(self) -> str:
        return "; ".join(self.attribution.licenses) or _("not specified")

    @property
    def source_line(self) -> str:
        """The line under a map or chart: each source with its licence."""
        line = self.attribution.line()
        return f"{line} · {estimated_footnote()}" if self.estimated else line

    @property
    def credit_text(self) -> str:
        """Each source with its licence, in full (geodata metadata)."""
        return self.attribution.line(short=False)

    @property
    def date_text(self) -> str:
        """One date if all delivered columns share it, else each column's by label."""
        dates = {k: d for k, d in self.dates.items() if k not in self.derived}
        if len(set(dates.values())) <= 1:
            return _german_date(next(iter(dates.values()), None))
        return "; ".join(
            f"{self.labels.get(key, key)}: {_german_date(d)}"
            for key, d in dates.items()
        )

    def pairs(self) -> list[tuple[str, str]]:
        return [
            (_("Title"), self.title),
            *self.notes,
            (_("Source"), self.source_text),
            (_("License"), self.license_text),
            (_("Reference date"), self.date_text),
            *(
                [(_("Comparison date"), _german_date(self.compare))]
                if self.compare
                else []
            ),
            (_("Created"), self.created),
        ]


def _german_date(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else _("derived")


def change_text(*, ref_date: date | None, compare: date) -> str:
    """„Veränderung 31.12.2024 gegenüber 31.12.2023“: what a change column holds."""
    if ref_date is None:
        return _("Change since %(compare)s") % {"compare": _german_date(compare)}
    return _("Change %(date)s compared with %(compare)s") % {
        "date": _german_date(ref_date),
        "compare": _german_date(compare),
    }


def _result_change_text(result: SelectionResult) -> str:
    """The change of a change selection, one date pair if all columns share it."""
    if result.compare is None:
        return ""
    dates = {c.date for c in result.columns if c.date}
    ref_date = next(iter(dates)) if len(dates) == 1 else None
    return change_text(ref_date=ref_date, compare=result.compare)


def _column_label(column: Column) -> str:
    """The column's label; for a change, with the dates it spans."""
    if column.compare is None:
        return column.label
    change = change_text(ref_date=column.date, compare=column.compare)
    return f"{column.label} – {change}"


def export_title(*, title: str, result: SelectionResult) -> str:
    """The title, naming the restriction of the units and a change's dates if the
    title does not."""
    for part in (
        selection_scope(selection=result.selection),
        _result_change_text(result),
    ):
        if part and part not in title:
            title = f"{title} – {part}" if title else part
    return title


def export_meta(
    *, result: SelectionResult, title: str, notes: tuple[tuple[str, str], ...] = ()
) -> ExportMeta:
    """Title, sources and licences by lineage, and reference dates of the columns."""
    delivered = [c.key for c in result.columns if not c.derived]
    # A change is computed in PRISMA from the values of both dates, as on the map.
    credits = attribution(
        variables=delivered,
        computed=result.compare is not None or any(c.derived for c in result.columns),
    )
    estimated = any(
        cell.status == "estimated"
        for column in result.cells.values()
        for cell in column.values()
    )
    if estimated:
        notes = (*notes, (_("Note"), estimated_footnote()))
    return ExportMeta(
        title=export_title(title=title, result=result),
        attribution=credits,
        dates={c.key: c.date for c in result.columns},
        labels={c.key: c.label for c in result.columns},
        derived=frozenset(c.key for c in result.columns if c.derived),
        notes=notes,
        estimated=estimated,
        compare=result.compare,
    )


def neutralise(text: str) -> str:
    """Text that a spreadsheet would run as a formula, made inert with a quote."""
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _filename(title: str, ext: str) -> str:
    return f"{slugify(title)[:60] or 'auswahl'}.{ext}"


def _status_text(cell: Cell) -> str:
    text = str(STATUS_LABELS.get(cell.status, cell.status))
    if cell.contains_suppressed:
        # A shown total over cells hidden for confidentiality (issue 7).
        text = f"{text}, {_('contains suppressed values')}"
    return f"{text}, {_('incomplete')}" if cell.incomplete else text


def _header(result: SelectionResult) -> list[str]:
    header = [_("Key"), _("Name")]
    for column in result.columns:
        unit = f" [{column.unit}]" if column.unit else ""
        header += [
            f"{_column_label(column)}{unit}",
            _("Status %(column)s") % {"column": column.label},
        ]
    if result.selection.conditions:
        header.append(_("meets the conditions"))
    return header


def _table(result: SelectionResult) -> list[list[Any]]:
    """One row per unit: key, name, then value (float or None) and status text."""
    rows = []
    for code, name in result.units:
        row: list[Any] = [code, name]
        for column in result.columns:
            cell = result.cells[column.key].get(code) or Cell(None, "missing")
            row += [cell.value, _status_text(cell)]
        if result.selection.conditions:
            row.append(_("yes") if code in result.matches else _("no"))
        rows.append(row)
    return rows


def _number(value: float, decimal: str) -> str:
    text = str(int(value)) if float(value).is_integer() else repr(round(value, 6))
    return text.replace(".", decimal)


def _csv_cell(value: Any, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return _number(value, decimal)
    return neutralise(str(value))


class _CsvRows:
    """A csv writer that formats numbers and neutralises every text cell."""

    def __init__(self, writer: Any, decimal: str) -> None:
        self._writer = writer
        self._decimal = decimal

    def writerow(self, row: list[Any]) -> None:
        self._writer.writerow([_csv_cell(v, self._decimal) for v in row])


def _comment(value: str) -> str:
    """A metadata value on one ``#`` line: line breaks would start a new row."""
    return " ".join(str(value).splitlines())


def excel_text_key(code: str) -> str:
    """A unit key that German Excel opens as text, leading zeros and all."""
    return f"{EXCEL_TEXT_MARK}{code}" if code.isdigit() else code


def export_csv(
    *,
    result: SelectionResult,
    title: str,
    german: bool = True,
    notes: tuple[tuple[str, str], ...] = (),
) -> Export:
    """CSV for German Excel (BOM, ';', decimal comma) or plain CSV (',', '.')."""
    meta = export_meta(result=result, title=title, notes=notes)
    buffer = io.StringIO()
    if german:
        writer = _CsvRows(csv.writer(buffer, delimiter=";", lineterminator="\r\n"), ",")
        for key, value in meta.pairs():
            writer.writerow([key, value])
        writer.writerow([])
    else:
        writer = _CsvRows(csv.writer(buffer, delimiter=",", lineterminator="\n"), ".")
        for key, value in meta.pairs():
            buffer.write(f"# {key}: {_comment(value)}\n")
    writer.writerow(_header(result))
    for row in _table(result):
        if german:
            row[0] = excel_text_key(row[0])
        writer.writerow(row)
    encoding = "utf-8-sig" if german else "utf-8"
    # Both variants end in .csv; the plain one is named so that a download of
    # each does not overwrite the other.
    name = meta.title if german else f"{meta.title}-plain"
    return (
        buffer.getvalue().encode(encoding),
        "text/csv; charset=utf-8",
        _filename(name, "csv"),
    )


def export_xlsx(
    *, result: SelectionResult, title: str, notes: tuple[tuple[str, str], ...] = ()
) -> Export:
    """Workbook: metadata rows, an empty row, the table with numbers as numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    meta = export_meta(result=result, title=title, notes=notes)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Data")
    for key, value in meta.pairs():
        sheet.append([key, value])
        sheet.cell(row=sheet.max_row, column=1).font = Font(bold=True)
    sheet.append([])
    sheet.append(_header(result))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in _table(result):
        sheet.append(row)
        # Keys are text: "@" keeps a key typed over in the cell text as well.
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    sheet.column_dimensions["B"].width = 32
    columns_sheet = workbook.create_sheet(_("Columns"))
    columns_sheet.append(
        [_("Column"), _("Label"), _("Unit"), _("Reference date"), _("Formula")]
    )
    formulas = {d.key: d.formula for d in result.selection.derived}
    for column in result.columns:
        columns_sheet.append(
            [
                column.key,
                _column_label(column),
                column.unit,
                column.date,
                formulas.get(column.key, ""),
            ]
        )
    return (
        _xlsx_bytes(workbook),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _filename(meta.title, "xlsx"),
    )


def _xlsx_bytes(workbook: Any) -> bytes:
    """The saved workbook, every text cell of every sheet neutralised first."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # openpyxl stores a string starting with "=" as a formula ("f").
                if isinstance(cell.value, str):
                    cell.value = neutralise(cell.value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- geodata -----------------------------------------------------------------


def _geodataframe(result: SelectionResult, names: dict[str, str] | None = None):
    """The result as a GeoDataFrame in EPSG:25833, value and status per column."""
    import geopandas as gpd
    from shapely import wkb

    geometries = lor_unit_geometries(level=result.selection.level)
    names = names or {}
    data: dict[str, list] = {"code": [], "name": []}
    for column in result.columns:
        data[names.get(column.key, column.key)] = []
        data[names.get(f"{column.key}_status", f"{column.key}_status")] = []
    geoms = []
    for code, name in result.units:
        data["code"].append(code)
        data["name"].append(name)
        for column in result.columns:
            cell = result.cells[column.key].get(code) or Cell(None, "missing")
            data[names.get(column.key, column.key)].append(
                np.nan if cell.value is None else float(cell.value)
            )
            status_key = f"{column.key}_status"
            data[names.get(status_key, status_key)].append(_status_text(cell))
        geom = geometries.get(code)
        geoms.append(wkb.loads(bytes(geom.wkb)) if geom is not None else None)
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:25833")


def _meta_dict(meta: ExportMeta, result: SelectionResult) -> dict[str, Any]:
    return {
        "title": meta.title,
        "source": meta.source_text,
        "license": meta.license_text,
        "credits": [
            {"source": c.source, "license": c.license} for c in meta.attribution.credits
        ],
        "reference_dates": {
            k: d.isoformat() if d else None for k, d in meta.dates.items()
        },
        "compare_date": meta.compare.isoformat() if meta.compare else None,
        "created": meta.created,
        "columns": [
            {
                "key": c.key,
                "label": _column_label(c),
                "unit": c.unit,
                "derived": c.derived,
            }
            for c in result.columns
        ],
        "selection": result.selection.as_dict(),
    }


def export_geojson(*, result: SelectionResult, title: str) -> Export:
    """FeatureCollection in EPSG:4326 with a top-level ``metadata`` member."""
    meta = export_meta(result=result, title=title)
    frame = _geodataframe(result).to_crs(4326)
    collection = json.loads(frame.to_json(na="null", drop_id=True))
    collection["metadata"] = {**_meta_dict(meta, result), "crs": "EPSG:4326"}
    return (
        json.dumps(collection, ensure_ascii=False).encode("utf-8"),
        "application/geo+json",
        _filename(meta.title, "geojson"),
    )


def export_gpkg(*, result: SelectionResult, title: str) -> Export:
    """GeoPackage in EPSG:25833: layer ``auswahl`` plus a table ``metadaten``."""
    import pandas as pd
    import pyogrio

    meta = export_meta(result=result, title=title)
    frame = _geodataframe(result)
    rows = [*meta.pairs(), (_("Credits"), meta.credit_text)]
    rows += [
        (
            _("Column %(key)s") % {"key": c.key},
            f"{_column_label(c)} [{c.unit}]" if c.unit else _column_label(c),
        )
        for c in result.columns
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(
            frame,
            path,
            layer="auswahl",
            driver="GPKG",
            layer_options={"DESCRIPTION": meta.title[:250], "IDENTIFIER": "auswahl"},
        )
        pyogrio.write_dataframe(
            pd.DataFrame(rows, columns=["schluessel", "wert"]),
            path,
            layer="metadaten",
            driver="GPKG",
            append=False,
        )
        content = path.read_bytes()
    return content, "application/geopackage+sqlite3", _filename(meta.title, "gpkg")


def shapefile_field_names(result: SelectionResult) -> dict[str, str]:
    """Column key (and ``<key>_status``) → a unique dBase field name ≤ 10 chars."""
    used = {"code", "name"}
    names: dict[str, str] = {}

    def unique(base: str) -> str:
        base = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in base)[:10]
        candidate, n = base, 1
        while candidate.lower() in used:
            suffix = str(n)
            candidate = base[: 10 - len(suffix)] + suffix
            n += 1
        used.add(candidate.lower())
        return candidate

    for column in result.columns:
        names[column.key] = unique(column.key)
        names[f"{column.key}_status"] = unique(f"S_{column.key}")
    return names


def export_shapefile(*, result: SelectionResult, title: str) -> Export:
    """Zipped Shapefile (EPSG:25833, UTF-8 .cpg) with a README.txt."""
    import pyogrio

    meta = export_meta(result=result, title=title)
    names = shapefile_field_names(result)
    frame = _geodataframe(result, names)
    labels = {c.key: _column_label(c) for c in result.columns}
    readme = [f"{key}: {value}" for key, value in meta.pairs()]
    readme.append(_("Credits") + f": {meta.credit_text}")
    readme += [_("Coordinate reference system") + ": EPSG:25833 (ETRS89 / UTM 33N)", ""]
    readme += [
        _("Field names") + ":",
        "code: " + _("key of the unit"),
        "name: " + _("name of the unit"),
    ]
    for key, field_name in names.items():
        if key.endswith("_status") and key[:-7] in labels:
            readme.append(
                f"{field_name}: "
                + _("status of %(column)s") % {"column": labels[key[:-7]]}
            )
        else:
            readme.append(f"{field_name}: {labels.get(key, key)} ({key})")
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "auswahl.shp"
        pyogrio.write_dataframe(frame, path, driver="ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for part in sorted(Path(tmp).iterdir()):
                archive.write(part, part.name)
            archive.writestr("README.txt", "\r\n".join(readme) + "\r\n")
    return buffer.getvalue(), "application/zip", _filename(meta.title, "zip")


# --- map and chart -------------------------------------------------------------


def class_breaks(
    values: np.ndarray,
    *,
    method: str,
    k: int,
    breaks: list[float] | None = None,
) -> list[float]:
    """Upper class bounds (the last is the maximum) by mapclassify or numpy."""
    if method not in CLASS_METHODS:
        raise ExportError(
            _("Unknown classification “%(method)s”.") % {"method": method}
        )
    if not 3 <= k <= 9 and method != "manual":
        raise ExportError(_("The number of classes must be between 3 and 9."))
    if method == "manual":
        if not breaks:
            raise ExportError(_("Please give class breaks."))
        bounds = sorted(float(b) for b in breaks)
        return [*bounds, float(values.max())] if values.max() > bounds[-1] else bounds
    try:
        import mapclassify
    except ImportError:
        mapclassify = None
    if mapclassify is not None:
        classifier = {
            "quantiles": lambda: mapclassify.Quantiles(values, k=k),
            "equal_interval": lambda: mapclassify.EqualInterval(values, k=k),
            "natural_breaks": lambda: mapclassify.FisherJenks(values, k=k),
            "std_mean": lambda: mapclassify.StdMean(values),
        }[method]()
        return [float(b) for b in classifier.bins]
    # Without mapclassify natural breaks fall back to quantiles.
    if method == "equal_interval":
        bounds = np.linspace(values.min(), values.max(), k + 1)[1:]
    elif method == "std_mean":
        mean, std = values.mean(), values.std()
        bounds = np.array([mean + m * std for m in (-2, -1, 1, 2)])
        bounds = np.append(bounds[bounds < values.max()], values.max())
    else:
        bounds = np.quantile(values, np.linspace(0, 1, k + 1)[1:])
    return sorted({float(b) for b in bounds})


def _column_of(result: SelectionResult, column: str | None):
    key = column or result.columns[0].key
    for candidate in result.columns:
        if candidate.key == key:
            return candidate
    raise ExportError(_("Column “%(key)s” is not in the selection.") % {"key": key})


def export_map(
    *,
    result: SelectionResult,
    title: str,
    fmt: str = "png",
    column: str | None = None,
    method: str = "quantiles",
    k: int = 5,
    palette: str = "YlOrRd",
    breaks: list[float] | None = None,
) -> Export:
    """Choropleth of one column with legend, scale bar, north arrow and source."""
    if fmt not in graphics.CONTENT_TYPES:
        raise ExportError(_("Unknown image format “%(fmt)s”.") % {"fmt": fmt})
    try:
        cmap = graphics.colormap(palette)
    except KeyError as exc:
        raise ExportError(
            _("Unknown colour palette “%(palette)s”.") % {"palette": palette}
        ) from exc
    meta = export_meta(result=result, title=title)
    col = _column_of(result, column)
    frame = _geodataframe(result)
    status = frame[f"{col.key}_status"]
    values = frame[col.key]
    has_value = values.notna()
    suppressed = status.str.startswith(str(STATUS_LABELS["suppressed"]))
    handles = []
    figure = graphics.figure_px(*MAP_SIZE_PX)
    ax = figure.add_axes((0.02, 0.08, 0.66, 0.8))
    ax.set_axis_off()
    if has_value.any():
        bounds = class_breaks(
            values[has_value].to_numpy(dtype=float), method=method, k=k, breaks=breaks
        )
        classes = np.searchsorted(bounds, values[has_value].to_numpy(), side="left")
        classes = np.minimum(classes, len(bounds) - 1)
        colors = graphics.ramp_colors(cmap, len(bounds))
        graphics.draw_units(
            ax,
            frame.geometry[has_value],
            facecolors=[colors[c] for c in classes],
            edgecolors="white",
            linewidths=0.3,
        )
        lower = float(values[has_value].min())
        for i, upper in enumerate(bounds):
            count = int((classes == i).sum())
            lower = min(lower, upper)
            label = f"{german_label(lower)} – {german_label(upper)} ({count})"
            handles.append(graphics.legend_patch(colors[i], label))
            lower = upper
    estimated = status.str.startswith(str(STATUS_LABELS["estimated"]))
    if estimated.any():
        # Converted from LOR 2006: the class colour stays, the outline is dashed.
        graphics.draw_units(
            ax,
            frame.geometry[estimated],
            facecolors="none",
            edgecolors=graphics.ESTIMATED_EDGE,
            linewidths=0.9,
            linestyles=(0, (3, 2)),
        )
        handles.append(
            graphics.legend_patch(
                "white",
                f"{STATUS_LABELS['estimated']} ({int(estimated.sum())})",
                edgecolor=graphics.ESTIMATED_EDGE,
                linestyle="--",
            )
        )
    missing = ~has_value & ~suppressed
    for units, color, label, hatch in (
        (suppressed, graphics.SUPPRESSED_COLOR, STATUS_LABELS["suppressed"], "///"),
        (missing, graphics.MISSING_COLOR, STATUS_LABELS["missing"], None),
    ):
        if units.any():
            graphics.draw_units(
                ax,
                frame.geometry[units],
                facecolors=color,
                edgecolors="grey",
                linewidths=0.3,
                hatch=hatch,
            )
            handles.append(
                graphics.legend_patch(
                    color, f"{label} ({int(units.sum())})", hatch=hatch
                )
            )
    ax.autoscale_view()
    ax.set_aspect("equal")
    graphics.scale_bar(ax, frame.total_bounds, style=graphics.EXPORT_MAP)
    graphics.north_arrow(ax, style=graphics.EXPORT_MAP)
    unit = f" [{col.unit}]" if col.unit else ""
    date_text = f", {col.date.strftime('%d.%m.%Y')}" if col.date else ""
    if col.compare:
        date_text = f", {change_text(ref_date=col.date, compare=col.compare)}"
    graphics.figure_legend(
        figure,
        handles,
        anchor=(0.69, 0.86),
        title=f"{col.label}{unit}{date_text}",
        fontsize=6,
    )
    figure.suptitle(meta.title, fontsize=10, x=0.02, ha="left")
    graphics.source_line(figure, meta.source_line, y=0.02, wrap=True)
    return (
        graphics.figure_save(figure, fmt, metadata=_figure_metadata(meta, fmt)),
        graphics.CONTENT_TYPES[fmt],
        _filename(meta.title, fmt),
    )


def _figure_metadata(meta: ExportMeta, fmt: str) -> dict[str, str]:
    """Title, sources and licences under the metadata keys of the image format."""
    line = meta.source_line
    if fmt == "pdf":
        return {"Title": meta.title, "Subject": line, "Creator": PRISMA}
    if fmt == "svg":
        return {
            "Title": meta.title,
            "Description": line,
            "Source": meta.source_text,
            "Rights": meta.license_text,
        }
    return {
        "Title": meta.title,
        "Description": line,
        "Source": meta.source_text,
        "Copyright": meta.license_text,
    }


class _Bar(NamedTuple):
    name: str
    value: float


def export_chart(
    *,
    result: SelectionResult,
    title: str,
    fmt: str = "png",
    column: str | None = None,
    limit: int = 30,
) -> Export:
    """Horizontal bar chart ranking the units by one column (largest first)."""
    if fmt not in ("png", "svg"):
        raise ExportError(_("Unknown chart format “%(fmt)s”.") % {"fmt": fmt})
    meta = export_meta(result=result, title=title)
    col = _column_of(result, column)
    cells = result.cells[col.key]
    pairs = [
        _Bar(unit.name, cells[unit.code].value)
        for unit in result.units
        if unit.code in cells and cells[unit.code].value is not None
    ]
    pairs.sort(key=lambda bar: bar.value, reverse=True)
    shown = pairs[:limit]
    height = 300 + 36 * max(len(shown), 1)
    figure = graphics.figure_px(1600, height)
    # Fixed margins in pixels so that tick labels and the source line never overlap.
    bottom, top = 170 / height, 80 / height
    ax = figure.add_axes((0.3, bottom, 0.65, 1 - bottom - top))
    ax.barh(
        [bar.name for bar in shown][::-1],
        [bar.value for bar in shown][::-1],
        color=graphics.BAR_COLOR,
    )
    ax.tick_params(labelsize=5)
    ax.xaxis.set_major_formatter(graphics.german_formatter())
    unit = f" [{col.unit}]" if col.unit else ""
    more = (
        " ("
        + _("the %(limit)d highest of %(count)d")
        % {"limit": limit, "count": len(pairs)}
        + ")"
        if len(pairs) > limit
        else ""
    )
    date_text = f", {col.date.strftime('%d.%m.%Y')}" if col.date else ""
    if col.compare:
        date_text = f", {change_text(ref_date=col.date, compare=col.compare)}"
    ax.set_xlabel(f"{col.label}{unit}{date_text}{more}", fontsize=6)
    figure.suptitle(meta.title, fontsize=9, x=0.02, ha="left")
    graphics.source_line(figure, meta.source_line)
    return (
        graphics.figure_save(figure, fmt, metadata=_figure_metadata(meta, fmt)),
        graphics.CONTENT_TYPES[fmt],
        _filename(f"{meta.title}-diagramm", fmt),
    )
