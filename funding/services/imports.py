"""Importing project files (the template of ``funding.template``), all or nothing.

The whole file is read and checked first; every problem is collected with file,
line, column and value and grouped by kind with counts. Only a file without
problems is written, in one transaction: projects are matched by district and
project number (a re-import updates them) and get exactly the file's years.
The upload runs as a Celery task whose state (``FundingImport``) the page polls.
It lives the life of the Datenpool's runs, through their lifecycle
(``datapool/services/runs.py``): compare-and-set states per attempt, a heartbeat
and the sweep that fails silent imports, progress on the progress connection,
and imports the broker missed sent again by the sweep.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import Point
from django.db import DatabaseError, transaction

from core.access import require_funding_edit
from core.audit import Action, audit_record
from datapool.parsers.contract import (
    EXAMPLES_PER_KIND,
    ImportValidationError,
    Problem,
    ProblemList,
)
from datapool.services.runs import (
    RunExecution,
    RunLost,
    run_execute,
    run_send_on_commit,
    runs_fail_stale,
    runs_send_queued,
)
from lor import hierarchy
from lor.models import LorUnit

from .. import template as tpl
from ..models import FundingArea, FundingImport, Programme, Project, ProjectAmount

logger = logging.getLogger(__name__)

# Problem kinds, in the order the report shows them.
MISSING_COLUMN = "missing_column"
REQUIRED = "required"
NUMBER = "number"
DATE = "date"
UNKNOWN_PROGRAMME = "unknown_programme"
UNKNOWN_AREA = "unknown_area"
UNKNOWN_KEY = "unknown_key"
FOREIGN = "foreign"
PLACE = "place"
CONFLICT = "conflict"
STATUS = "status"
KIND_ORDER = (
    MISSING_COLUMN,
    REQUIRED,
    NUMBER,
    DATE,
    STATUS,
    UNKNOWN_PROGRAMME,
    UNKNOWN_AREA,
    UNKNOWN_KEY,
    FOREIGN,
    PLACE,
    CONFLICT,
)
KIND_TITLES = {
    MISSING_COLUMN: (
        "%(count)d Pflichtspalte fehlt",
        "%(count)d Pflichtspalten fehlen",
    ),
    REQUIRED: ("%(count)d Pflichtangabe fehlt", "%(count)d Pflichtangaben fehlen"),
    NUMBER: (
        "%(count)d Betrag ist keine gültige Zahl",
        "%(count)d Beträge sind keine gültigen Zahlen",
    ),
    DATE: (
        "%(count)d Datum oder Jahr ist ungültig",
        "%(count)d Daten oder Jahre sind ungültig",
    ),
    STATUS: ("%(count)d Status ist unbekannt", "%(count)d Status sind unbekannt"),
    UNKNOWN_PROGRAMME: (
        "%(count)d Programm ist unbekannt",
        "%(count)d Programme sind unbekannt",
    ),
    UNKNOWN_AREA: (
        "%(count)d Fördergebiet ist unbekannt",
        "%(count)d Fördergebiete sind unbekannt",
    ),
    UNKNOWN_KEY: (
        "%(count)d Planungsraumschlüssel ist unbekannt",
        "%(count)d Planungsraumschlüssel sind unbekannt",
    ),
    FOREIGN: (
        "%(count)d Ort liegt außerhalb des Bezirks",
        "%(count)d Orte liegen außerhalb des Bezirks",
    ),
    PLACE: ("%(count)d Zeile ohne gültigen Ort", "%(count)d Zeilen ohne gültigen Ort"),
    CONFLICT: (
        "%(count)d widersprüchliche Angabe",
        "%(count)d widersprüchliche Angaben",
    ),
}

MONEY = re.compile(r"^(\d+|\d{1,3}(\.\d{3})+)(,\d{1,2})?$")
MONEY_POINT = re.compile(r"^\d+(\.\d{1,2})?$")
DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
PLR_KEY = re.compile(r"^\d{8}$")
MAX_ROWS = 20_000

Progress = Callable[[int, int], None]


@dataclass
class ParsedProject:
    """One project of the file with its amounts per year (first line kept)."""

    number: str
    line: int
    fields: dict[str, Any]
    amounts: dict[int, tuple[Decimal, Decimal]] = field(default_factory=dict)


# --- reading -------------------------------------------------------------------


def _table_rows(
    path: Path, file_name: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, cells) of a CSV (``;`` or ``,``) or XLSX file."""
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise ImportValidationError(
                [Problem("Die Datei ist keine lesbare XLSX-Datei.", file_name)]
            ) from exc
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[str]]] = []
        header: list[str] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if number == 1:
                header = [c.strip() for c in cells]
                continue
            if any(c.strip() for c in cells):
                rows.append((number, cells))
        book.close()
        return header, rows
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # German Excel saves CSV in Windows-1252 unless told otherwise.
        text = raw.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise ImportValidationError(
            [Problem("Die Datei enthält NUL-Zeichen; keine Textdatei.", file_name)]
        )
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = []
    rows = []
    for cells in reader:
        if reader.line_num == 1 and not header:
            header = [c.strip() for c in cells]
            continue
        if any(c.strip() for c in cells):
            rows.append((reader.line_num, cells))
    return header, rows


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float | int | Decimal):
        # XLSX numbers arrive as numbers: written with a decimal comma.
        return str(value).replace(".", ",")
    return str(value)


def _money(text: str) -> Decimal | None:
    text = text.replace("€", "").replace(" ", "").strip()
    if MONEY.match(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    if MONEY_POINT.match(text):
        return Decimal(text)
    return None


def _day(text: str) -> date | None:
    match = DAY.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    else:
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


class _Lookup:
    """Programmes, areas and Planungsräume the file may name, loaded once."""

    def __init__(self, district: LorUnit):
        self.district = district
        self.programmes: dict[str, Programme] = {}
        for programme in Programme.objects.all():
            self.programmes[programme.key.lower()] = programme
            self.programmes[programme.name.lower()] = programme
        self.areas: dict[str, FundingArea] = {}
        self.foreign_areas: set[str] = set()
        for area in FundingArea.objects.select_related("district"):
            names = (area.key.lower(), area.name.lower())
            for name in names:
                if area.district_id == district.pk:
                    self.areas[name] = area
                else:
                    self.foreign_areas.add(name)
        self.units = dict(
            LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
            ).values_list("code", "id")
        )

    def unit_at(self, point: Point) -> tuple[int, str] | None:
        found = (
            LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021,
                level=LorUnit.Level.PLANUNGSRAUM,
                geom__intersects=point,
            )
            .values_list("id", "code")
            .first()
        )
        return found


def projects_read(
    *,
    path: Path,
    file_name: str,
    district: LorUnit,
    progress: Progress | None = None,
) -> list[ParsedProject]:
    """The projects of a template file; ``ImportValidationError`` lists all problems."""
    header, rows = _table_rows(Path(path), file_name)
    problems = ProblemList()
    missing = [c.name for c in tpl.COLUMNS if c.required and c.name not in header]
    for name in missing:
        problems.add(
            Problem(
                "Die Pflichtspalte fehlt in der Kopfzeile (Vorlage verwenden).",
                file_name,
                line=1,
                column=name,
                kind=MISSING_COLUMN,
            )
        )
    problems.raise_if_any()
    if len(rows) > MAX_ROWS:
        problems.add(
            Problem(
                f"Die Datei hat mehr als {MAX_ROWS} Zeilen; bitte aufteilen.", file_name
            )
        )
        problems.raise_if_any()
    index = {name: header.index(name) for name in tpl.COLUMN_NAMES if name in header}
    lookup = _Lookup(district)
    district_code = district.code
    projects: dict[str, ParsedProject] = {}
    total = len(rows)

    for done, (line, cells) in enumerate(rows, start=1):

        def cell(name: str, cells: list[str] = cells) -> str:
            position = index.get(name)
            if position is None or position >= len(cells):
                return ""
            return cells[position].strip()

        def problem(
            message: str,
            column: str,
            value: str | None,
            kind: str,
            line: int = line,
        ) -> None:
            problems.add(
                Problem(
                    message, file_name, line=line, column=column, value=value, kind=kind
                )
            )

        for name in (tpl.NUMBER, tpl.TITLE, tpl.PROGRAMME, tpl.YEAR, tpl.APPROVED):
            if not cell(name):
                problem("Pflichtangabe fehlt.", name, None, REQUIRED)
        number = cell(tpl.NUMBER)[:40]
        fields: dict[str, Any] = {"title": cell(tpl.TITLE)[:300]}
        programme_text = cell(tpl.PROGRAMME)
        if programme_text:
            programme = lookup.programmes.get(programme_text.lower())
            if programme is None:
                problem(
                    "Kein Programm in PRISMA hat diesen Schlüssel oder Namen.",
                    tpl.PROGRAMME,
                    programme_text,
                    UNKNOWN_PROGRAMME,
                )
            fields["programme_id"] = programme.pk if programme else None
        area_text = cell(tpl.AREA)
        fields["area_id"] = None
        if area_text:
            area = lookup.areas.get(area_text.lower())
            if area is not None:
                fields["area_id"] = area.pk
            elif area_text.lower() in lookup.foreign_areas:
                problem(
                    "Das Fördergebiet liegt in einem anderen Bezirk.",
                    tpl.AREA,
                    area_text,
                    FOREIGN,
                )
            else:
                problem(
                    "Kein Fördergebiet in PRISMA hat diesen Schlüssel oder Namen.",
                    tpl.AREA,
                    area_text,
                    UNKNOWN_AREA,
                )
        unit_text = cell(tpl.UNIT)
        fields["unit_id"] = None
        if unit_text:
            if not PLR_KEY.match(unit_text) or unit_text not in lookup.units:
                problem(
                    "Kein Planungsraum in LOR 2021 (acht Ziffern erwartet).",
                    tpl.UNIT,
                    unit_text,
                    UNKNOWN_KEY,
                )
            elif hierarchy.key_prefix(unit_text, hierarchy.BEZIRK) != district_code:
                problem(
                    f"Der Planungsraum liegt nicht im Bezirk {district.name}.",
                    tpl.UNIT,
                    unit_text,
                    FOREIGN,
                )
            else:
                fields["unit_id"] = lookup.units[unit_text]
        east, north = cell(tpl.EAST), cell(tpl.NORTH)
        fields["location"] = None
        if east or north:
            try:
                x = float(east.replace(",", "."))
                y = float(north.replace(",", "."))
            except ValueError:
                column = tpl.EAST if not _is_float(east) else tpl.NORTH
                problem(
                    "Koordinaten als Zahlen in Metern (EPSG:25833) erwartet, "
                    "Rechts- und Hochwert zusammen.",
                    column,
                    east if column == tpl.EAST else north,
                    PLACE,
                )
            else:
                point = Point(x, y, srid=25833)
                found = lookup.unit_at(point)
                if found is None:
                    problem(
                        "Die Koordinaten liegen nicht in Berlin (EPSG:25833 erwartet).",
                        tpl.EAST,
                        f"{east} / {north}",
                        PLACE,
                    )
                elif hierarchy.key_prefix(found[1], hierarchy.BEZIRK) != district_code:
                    problem(
                        f"Der Ort liegt nicht im Bezirk {district.name}.",
                        tpl.EAST,
                        f"{east} / {north}",
                        FOREIGN,
                    )
                else:
                    fields["location"] = point
                    if fields["unit_id"] is None:
                        fields["unit_id"] = found[0]
        if not (area_text or unit_text or east or north):
            problem(
                "Fördergebiet, Planungsraum oder Koordinaten angeben.",
                tpl.AREA,
                None,
                PLACE,
            )
        fields["sponsor"] = cell(tpl.SPONSOR)[:300]
        fields["field_of_action"] = cell(tpl.FIELD)[:200]
        for name, key in ((tpl.START, "start"), (tpl.END, "end")):
            text = cell(name)
            fields[key] = None
            if text:
                fields[key] = _day(text)
                if fields[key] is None:
                    problem("Datum als TT.MM.JJJJ erwartet.", name, text, DATE)
        if fields["start"] and fields["end"] and fields["end"] < fields["start"]:
            problem("Das Ende liegt vor dem Beginn.", tpl.END, cell(tpl.END), DATE)
        status_text = cell(tpl.STATUS).lower()
        fields["status"] = Project.Status.PLANNED
        if status_text:
            if status_text in tpl.STATUS_WORDS:
                fields["status"] = tpl.STATUS_WORDS[status_text]
            else:
                problem(
                    "Status: geplant, bewilligt, laufend oder abgeschlossen.",
                    tpl.STATUS,
                    cell(tpl.STATUS),
                    STATUS,
                )
        year_text = cell(tpl.YEAR)
        year = None
        if year_text:
            if re.fullmatch(r"(19|20)\d\d", year_text):
                year = int(year_text)
            else:
                problem("Jahr als JJJJ erwartet.", tpl.YEAR, year_text, DATE)
        amounts = []
        for name in (tpl.APPROVED, tpl.PAID):
            text = cell(name)
            value = Decimal(0)
            if text:
                parsed = _money(text)
                if parsed is None:
                    problem(
                        "Betrag in Euro erwartet (z. B. 12.500,00), nicht negativ.",
                        name,
                        text,
                        NUMBER,
                    )
                else:
                    value = parsed
            amounts.append(value)
        area = lookup.areas.get(area_text.lower()) if area_text else None
        if year is not None and area is not None and not _area_valid_in(area, year):
            problem(
                f"Das Fördergebiet „{area.name}“ gilt in diesem Jahr nicht "
                f"({_validity(area)}).",
                tpl.YEAR,
                year_text,
                DATE,
            )
        if number:
            known = projects.get(number)
            if known is None:
                projects[number] = ParsedProject(
                    number=number, line=line, fields=fields
                )
            else:
                for key, value in fields.items():
                    if key in ("location",):
                        continue
                    if value != known.fields.get(key) and value not in (None, ""):
                        problem(
                            f"Andere Angabe als in Zeile {known.line} derselben "
                            "Projektnummer.",
                            _field_column(key),
                            _shown(value, cell, key),
                            CONFLICT,
                        )
                        break
            if year is not None:
                target = projects[number]
                if year in target.amounts:
                    problem(
                        f"Das Jahr steht für Projektnummer {number} schon in einer "
                        "früheren Zeile.",
                        tpl.YEAR,
                        year_text,
                        CONFLICT,
                    )
                else:
                    target.amounts[year] = (amounts[0], amounts[1])
        if progress and (done % 50 == 0 or done == total):
            progress(done, total)
    if not rows:
        problems.add(Problem("Die Datei enthält keine Datenzeilen.", file_name, line=2))
    problems.raise_if_any()
    return list(projects.values())


def _area_valid_in(area: FundingArea, year: int) -> bool:
    """Whether the area is valid on some day of ``year`` (valid_to is exclusive)."""
    if area.valid_from and year < area.valid_from.year:
        return False
    return not (area.valid_to and date(year, 1, 1) >= area.valid_to)


def _validity(area: FundingArea) -> str:
    start = area.valid_from.strftime("%d.%m.%Y") if area.valid_from else "…"
    end = area.valid_to.strftime("%d.%m.%Y") if area.valid_to else "…"
    return f"gültig {start} bis {end}"


def _is_float(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


FIELD_COLUMNS = {
    "title": tpl.TITLE,
    "programme_id": tpl.PROGRAMME,
    "area_id": tpl.AREA,
    "unit_id": tpl.UNIT,
    "sponsor": tpl.SPONSOR,
    "field_of_action": tpl.FIELD,
    "start": tpl.START,
    "end": tpl.END,
    "status": tpl.STATUS,
}


def _field_column(key: str) -> str:
    return FIELD_COLUMNS.get(key, key)


def _shown(value: Any, cell: Callable[[str], str], key: str) -> str:
    return cell(_field_column(key)) or str(value)


def problem_groups(problems: list[Problem], counts: dict[str, int]) -> list[dict]:
    """The report of a failed file: per kind a headline with count and examples."""
    by_kind: dict[str, list[Problem]] = {}
    for item in problems:
        by_kind.setdefault(item.kind, []).append(item)
    groups = []
    for kind, items in by_kind.items():
        count = max(counts.get(kind, 0), len(items))
        singular, plural = KIND_TITLES.get(
            kind, ("%(count)d Problem", "%(count)d Probleme")
        )
        groups.append(
            {
                "kind": kind or "other",
                "count": count,
                "title": (singular if count == 1 else plural) % {"count": count},
                "examples": [
                    {
                        "where": ", ".join(
                            part
                            for part in (
                                item.file,
                                f"Zeile {item.line}" if item.line else "",
                                f"Spalte „{item.column}“" if item.column else "",
                            )
                            if part
                        ),
                        "line": item.line,
                        "column": item.column,
                        "value": item.value,
                        "message": item.message,
                        "text": str(item),
                    }
                    for item in items[: EXAMPLES_PER_KIND if kind else 50]
                ],
            }
        )
    groups.sort(
        key=lambda g: KIND_ORDER.index(g["kind"]) if g["kind"] in KIND_ORDER else 99
    )
    return groups


# --- writing -------------------------------------------------------------------


@transaction.atomic
def projects_write(
    *,
    projects: list[ParsedProject],
    district: LorUnit,
    source: str,
    licence: str,
    is_example: bool = False,
    source_import: FundingImport | None = None,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Create or update the parsed projects of ``district``; each gets the file's years.

    Projects not in the file stay as they are.
    """
    existing = {
        p.number: p
        for p in Project.objects.filter(
            district=district, number__in=[p.number for p in projects]
        )
    }
    created = updated = amounts = 0
    for done, parsed in enumerate(projects, start=1):
        project = existing.get(parsed.number) or Project(
            district=district, number=parsed.number
        )
        wanted = {
            **parsed.fields,
            "source": source[:300],
            "licence": licence[:200],
            "is_example": is_example,
        }
        if project.pk and _unchanged(project, wanted, parsed.amounts):
            # Loading the same file again changes nothing, not even timestamps.
            continue
        if project.pk:
            updated += 1
        else:
            created += 1
        for key, value in parsed.fields.items():
            setattr(project, key, value)
        project.source = source[:300]
        project.licence = licence[:200]
        project.is_example = is_example
        project.source_import = source_import
        project.full_clean(exclude=["source_import"])
        project.save()
        ProjectAmount.objects.filter(project=project).delete()
        ProjectAmount.objects.bulk_create(
            ProjectAmount(project=project, year=year, approved=a, paid=p)
            for year, (a, p) in sorted(parsed.amounts.items())
        )
        amounts += len(parsed.amounts)
        if progress and (done % 20 == 0 or done == len(projects)):
            progress(done, len(projects))
    return {
        "projects": len(projects),
        "unchanged": len(projects) - created - updated,
        "created": created,
        "updated": updated,
        "amounts": amounts,
    }


def _unchanged(
    project: Project,
    wanted: dict[str, Any],
    amounts: dict[int, tuple[Decimal, Decimal]],
) -> bool:
    for key, value in wanted.items():
        current = getattr(project, key)
        if key == "location":
            if (current is None) != (value is None) or (
                current is not None and not current.equals_exact(value, 0.001)
            ):
                return False
        elif current != value:
            return False
    stored = {
        year: (approved, paid)
        for year, approved, paid in project.amounts.values_list(
            "year", "approved", "paid"
        )
    }
    return stored == amounts


# --- the run -------------------------------------------------------------------

# The lifecycle (compare-and-set states, heartbeat, stale sweep, sending) is the
# Datenpool's runs' (datapool/services/runs.py); an import here has its phases,
# its task and its German messages.
STARTABLE = (FundingImport.Status.QUEUED, FundingImport.Status.FAILED)
PHASES = {"read": (0, 60), "write": (60, 100)}
STALE_MESSAGE = (
    "Der Import wurde unterbrochen (Verarbeitung beendet); es wurde nichts "
    "geändert. Bitte die Datei erneut hochladen."
)
UNSENT_MESSAGE = (
    "Die Hintergrundverarbeitung ist gerade nicht erreichbar. Die Datei ist "
    "gespeichert; der Import startet, sobald sie wieder erreichbar ist."
)


def _counter(execution: RunExecution, phase: str, field_name: str) -> Progress:
    """A (done, total) callback that publishes the phase and its row counter."""

    def report(done: int, total: int) -> None:
        execution.progress(phase, done, total, **{field_name: done})

    return report


def _work(run: FundingImport, execution: RunExecution) -> None:
    district = run.district
    try:
        projects = projects_read(
            path=Path(run.file.path),
            file_name=run.original_name,
            district=district,
            progress=_counter(execution, "read", "rows_read"),
        )
        with transaction.atomic():
            summary = projects_write(
                projects=projects,
                district=district,
                source=run.source or f"Upload {run.original_name} ({district.name})",
                licence=run.licence,
                source_import=run,
                progress=_counter(execution, "write", "rows_written"),
            )
            audit_record(
                user=run.created_by,
                action=Action.IMPORT,
                obj=run,
                details={"district": district.code, **summary},
            )
            # Raises RunLost if the run left this attempt's hands: the writes
            # roll back.
            execution.succeed(rows_written=summary["projects"], summary=summary)
    except ImportValidationError as exc:
        groups = problem_groups(exc.problems, exc.counts)
        total = sum(g["count"] for g in groups)
        execution.fail(
            # Stored in German, as the Datenpool's run messages: the worker
            # has no request language.
            f"Die Datei hat {total} Problem; es wurde nichts importiert."
            if total == 1
            else f"Die Datei hat {total} Probleme; es wurde nichts importiert.",
            [p.as_dict() for p in exc.problems],
            summary={"validation": True, "problem_groups": groups},
        )
    except (DatabaseError, OSError, RunLost) as exc:
        logger.exception("funding import %s failed", run.pk)
        execution.fail(
            "Der Import konnte nicht abgeschlossen werden; es wurde nichts "
            f"geändert ({type(exc).__name__}).",
            [],
        )


def funding_import_execute(*, run: FundingImport) -> FundingImport:
    """Read, check and (only if the file is clean) write one upload; record it."""
    return run_execute(
        run=run,
        work=lambda execution: _work(run, execution),
        startable=STARTABLE,
        phases=PHASES,
        reset={"summary": {}, "phase": "read"},
    )


def funding_import_upload(
    *,
    user: Any,
    upload: Any,
    district: LorUnit,
    source: str = "",
    licence: str = "",
) -> FundingImport:
    """Store an uploaded project file and queue its import after commit."""
    require_funding_edit(user=user, bezirk_code=district.code)
    run = FundingImport(
        original_name=Path(upload.name).name[:255],
        district=district,
        source=source[:300],
        licence=licence[:200],
        created_by=user,
    )
    run.file.save(Path(upload.name).name, upload, save=False)
    run.full_clean()
    run.save()
    audit_record(
        user=user,
        action=Action.CREATE,
        obj=run,
        details={"district": district.code, "file": run.original_name},
    )
    run_send_on_commit(run=run, task=_task(), unsent_message=UNSENT_MESSAGE)
    return run


def _task(run: FundingImport | None = None) -> Any:
    """The Celery task that executes an import."""
    # Tasks import the services at their top; services reach the task here.
    from ..tasks import funding_import_execute_task

    return funding_import_execute_task


def funding_imports_fail_stale(*, now: datetime | None = None) -> int:
    """Fail running imports whose worker went silent; their writes rolled back."""
    return runs_fail_stale(model=FundingImport, message=STALE_MESSAGE, now=now)


def funding_imports_send_queued() -> int:
    """Send queued imports that never reached the broker; returns how many."""
    return runs_send_queued(
        model=FundingImport, task_for=_task, unsent_message=UNSENT_MESSAGE
    )
