"""Facility uploads: a table or GIS file checked whole, then written all or nothing.

Documented columns (lower or upper case; German names in brackets):

- ``name`` (``bezeichnung``) — required
- ``type`` (``typ``) — facility type key or name; empty: the type chosen on upload
- ``capacity`` (``kapazitaet``) — number in the type's unit, decimal comma or point
- ``operator`` (``traeger``), ``status`` (``open``/``planned``/``closed`` or
  ``offen``/``geplant``/``geschlossen``; default open)
- ``valid_from`` (``gueltig_ab``), ``valid_to`` (``gueltig_bis``) — ``YYYY-MM-DD``
  or ``TT.MM.JJJJ``
- the location, one of: ``x``/``y`` (EPSG:25833, metres), ``lon``/``lat``
  (WGS 84), ``planungsraum`` (``plr``, 8-digit LOR 2021 key); a GIS file
  brings its geometry (point or polygon)
- ``key`` (``schluessel``) — optional key of the source: a row whose type and
  key match a facility of the register updates it instead of adding one.

Every problem of the file is reported at once (file, line, column, value),
grouped by column and message with counts; nothing is written while any remains.
The upload runs as a Celery task living the life of the Datenpool's runs
(``datapool/services/runs.py``; see ``facility_upload_execute``).
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.access import require_facility_maintenance, user_bezirk_code, user_is_admin
from core.audit import Action, audit_record
from datapool.parsers.contract import ImportValidationError, Problem
from datapool.services.runs import (
    RunExecution,
    run_execute,
    runs_fail_stale,
    task_publish,
)
from lor.models import LorUnit

from .files import GIS_SUFFIXES, TABLE_SUFFIXES, RawRow, cell, read_gis, read_table
from .maintenance import facility_layer_publish
from .models import Facility, FacilityType, FacilityUpload
from .selectors import planungsraum_codes

ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "bezeichnung"),
    "type": ("type", "typ"),
    "capacity": ("capacity", "kapazitaet", "kapazität"),
    "operator": ("operator", "traeger", "träger"),
    "status": ("status",),
    "valid_from": ("valid_from", "gueltig_ab", "gültig_ab"),
    "valid_to": ("valid_to", "gueltig_bis", "gültig_bis"),
    "x": ("x",),
    "y": ("y",),
    "lon": ("lon", "laenge", "länge"),
    "lat": ("lat", "breite"),
    "planungsraum": ("planungsraum", "plr"),
    "key": ("key", "schluessel", "schlüssel"),
}
STATUS_WORDS = {
    "open": Facility.Status.OPEN,
    "offen": Facility.Status.OPEN,
    "geöffnet": Facility.Status.OPEN,
    "planned": Facility.Status.PLANNED,
    "geplant": Facility.Status.PLANNED,
    "closed": Facility.Status.CLOSED,
    "geschlossen": Facility.Status.CLOSED,
}
GERMAN_NUMBER = re.compile(r"^-?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$")
POINT_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
PLR_KEY = re.compile(r"^\d{8}$")
MAX_EXAMPLES = 50

logger = logging.getLogger(__name__)


@dataclass
class _Row:
    line: int
    fields: dict[str, Any]
    geom: GEOSGeometry | None
    unit_code: str | None = None
    unit_column: str = "planungsraum"


def upload_kind(file_name: str) -> str:
    """``table`` or ``gis`` by the file's suffix; ``""`` if neither."""
    suffix = Path(file_name).suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return "table"
    if suffix in GIS_SUFFIXES:
        return "gis"
    return ""


def _column(row: RawRow, field: str) -> tuple[str, str]:
    """The column the row uses for ``field`` and its text ("" if none)."""
    for name in ALIASES[field]:
        if name in row.values:
            return name, cell(row, name)
    return ALIASES[field][0], ""


def _number(text: str) -> Decimal | None:
    if GERMAN_NUMBER.match(text) and ("," in text or text.count(".") > 1):
        text = text.replace(".", "").replace(",", ".")
    elif not POINT_NUMBER.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _date(text: str) -> date | None:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _types(district: LorUnit | None) -> dict[str, FacilityType]:
    """Types by key and by lower-case name that an upload of ``district`` may use."""
    types = FacilityType.objects.all()
    if district is not None:
        types = types.filter(Q(district__isnull=True) | Q(district=district))
    lookup: dict[str, FacilityType] = {}
    for t in types:
        lookup[t.key.lower()] = t
        lookup[t.name.lower()] = t
    return lookup


def upload_validate(
    *, rows: list[RawRow], file_name: str, upload: FacilityUpload
) -> list[_Row]:
    """The rows as facility fields; raises with every problem of the file."""
    problems: list[Problem] = []
    types = _types(upload.district)
    checked: list[_Row] = []

    def problem(message: str, line: int, column: str, value: str | None) -> None:
        problems.append(
            Problem(message, file_name, line=line, column=column, value=value)
        )

    if not rows:
        raise ImportValidationError(
            [Problem("Die Datei enthält keine Zeilen.", file_name)]
        )
    for row in rows:
        fields: dict[str, Any] = {}
        column, name = _column(row, "name")
        if not name:
            problem("Der Name fehlt.", row.line, column, None)
        fields["name"] = name[:300]
        column, type_text = _column(row, "type")
        facility_type = (
            types.get(type_text.lower()) if type_text else upload.facility_type
        )
        if facility_type is None:
            problem(
                "Unbekannter Einrichtungstyp (Schlüssel oder Name eines Typs, z. B. "
                "kita, schule, jfe, spielplatz)."
                if type_text
                else "Kein Einrichtungstyp: Spalte „type“ füllen oder beim "
                "Hochladen einen Typ wählen.",
                row.line,
                column,
                type_text or None,
            )
        fields["facility_type"] = facility_type
        column, raw = _column(row, "capacity")
        fields["capacity"] = None
        if raw:
            fields["capacity"] = _number(raw)
            if fields["capacity"] is None or fields["capacity"] < 0:
                problem(
                    "Keine gültige Kapazität (nicht negative Zahl mit Dezimalkomma "
                    "oder -punkt erwartet).",
                    row.line,
                    column,
                    raw,
                )
        fields["operator"] = _column(row, "operator")[1][:200]
        column, raw = _column(row, "status")
        fields["status"] = STATUS_WORDS.get(raw.lower()) if raw else "open"
        if fields["status"] is None:
            problem(
                "Unbekannter Status (offen, geplant oder geschlossen erwartet).",
                row.line,
                column,
                raw,
            )
        for field in ("valid_from", "valid_to"):
            column, raw = _column(row, field)
            fields[field] = _date(raw) if raw else None
            if raw and fields[field] is None:
                problem(
                    "Kein gültiges Datum (JJJJ-MM-TT oder TT.MM.JJJJ erwartet).",
                    row.line,
                    column,
                    raw,
                )
        if (
            fields["valid_from"]
            and fields["valid_to"]
            and fields["valid_to"] <= fields["valid_from"]
        ):
            problem(
                "Das Ende der Gültigkeit liegt nicht nach ihrem Beginn.",
                row.line,
                _column(row, "valid_to")[0],
                _column(row, "valid_to")[1],
            )
        fields["source_key"] = _column(row, "key")[1][:80]
        geom = row.geom
        unit_code = None
        if geom is None:
            geom, unit_code = _location(row, problem)
        checked.append(
            _Row(
                line=row.line,
                fields=fields,
                geom=geom,
                unit_code=unit_code,
                unit_column=_column(row, "planungsraum")[0],
            )
        )
    # The Planungsraum of every location in one PostGIS query.
    located = [r for r in checked if r.geom is not None]
    for r, code in zip(
        located, planungsraum_codes(geoms=[r.geom for r in located]), strict=True
    ):
        r.unit_code = code
        if code is None:
            problem(
                "Der Ort liegt in keinem Planungsraum (außerhalb Berlins; stimmt "
                "das Koordinatensystem?).",
                r.line,
                "geometrie" if upload_kind(file_name) == "gis" else "x/y, lon/lat",
                r.geom.wkt[:80],
            )
    known = set(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", flat=True)
    )
    for r in checked:
        if r.geom is None and r.unit_code and r.unit_code not in known:
            problem(
                "Dieser Planungsraum existiert in LOR 2021 nicht.",
                r.line,
                r.unit_column,
                r.unit_code,
            )
            r.unit_code = None
        code = r.unit_code
        if (
            code
            and upload.district is not None
            and not code.startswith(upload.district.code)
        ):
            problem(
                f"Die Einrichtung liegt nicht im Bezirk {upload.district.name}; "
                "Sie können nur Einrichtungen Ihres Bezirks hochladen.",
                r.line,
                r.unit_column if r.geom is None else "x/y, lon/lat",
                code,
            )
        district = getattr(r.fields["facility_type"], "district", None)
        if code and district is not None and not code.startswith(district.code):
            problem(
                f"Der Typ „{r.fields['facility_type'].name}“ gehört dem Bezirk "
                f"{district.name}; die Einrichtung liegt nicht dort.",
                r.line,
                "type",
                r.fields["facility_type"].key,
            )
    if problems:
        raise ImportValidationError(problems)
    return checked


def _location(row: RawRow, problem) -> tuple[GEOSGeometry | None, str | None]:
    """A point from x/y (EPSG:25833) or lon/lat (WGS 84), or a Planungsraum key."""
    for first, second, srid in (("x", "y", 25833), ("lon", "lat", 4326)):
        (col_a, a), (col_b, b) = _column(row, first), _column(row, second)
        if not a and not b:
            continue
        numbers = []
        for column, text in ((col_a, a), (col_b, b)):
            value = _number(text) if text else None
            if value is None:
                problem("Keine gültige Koordinate.", row.line, column, text or None)
            numbers.append(value)
        if None in numbers:
            return None, None
        point = Point(float(numbers[0]), float(numbers[1]), srid=srid)
        if srid != 25833:
            point.transform(25833)
        return point, None
    column, key = _column(row, "planungsraum")
    if key:
        if not PLR_KEY.match(key):
            problem(
                "Kein Planungsraumschlüssel (acht Ziffern erwartet).",
                row.line,
                column,
                key,
            )
            return None, None
        return None, key
    problem(
        "Kein Ort: x/y, lon/lat oder planungsraum angeben.",
        row.line,
        "x/y, lon/lat, planungsraum",
        None,
    )
    return None, None


def problem_report(problems: list[Problem]) -> list[dict]:
    """Problems grouped by column and message, each group with count and lines."""
    groups: OrderedDict[tuple[str, str], dict] = OrderedDict()
    for p in problems:
        group = groups.setdefault(
            (p.column or "", p.message),
            {
                "file": p.file,
                "column": p.column or "",
                "message": p.message,
                "count": 0,
                "examples": [],
            },
        )
        group["count"] += 1
        if len(group["examples"]) < MAX_EXAMPLES:
            group["examples"].append({"line": p.line, "value": p.value})
    return list(groups.values())


def _set(upload: FacilityUpload, **fields: Any) -> None:
    """Store fields on the upload's row and on the instance."""
    FacilityUpload.objects.filter(pk=upload.pk).update(**fields)
    for key, value in fields.items():
        setattr(upload, key, value)


# The lifecycle (compare-and-set states, heartbeat, stale sweep) is the
# Datenpool's runs' (datapool/services/runs.py); an upload has its phases and
# German messages, and starts only from queued: a failed upload is uploaded
# again, not retried.
STARTABLE = (FacilityUpload.Status.QUEUED,)
PHASES = {"read": (0, 30), "check": (30, 60), "write": (60, 100)}
STALE_MESSAGE = (
    "Die Verarbeitung wurde unterbrochen; es wurde nichts geändert. "
    "Bitte die Datei erneut hochladen."
)


def _work(upload: FacilityUpload, execution: RunExecution) -> None:
    file_name = upload.original_name
    try:
        path = Path(upload.file.path)
        kind = upload_kind(file_name)
        rows = (
            read_gis(path, file_name) if kind == "gis" else read_table(path, file_name)
        )
        execution.progress("read", 1, 1, rows_read=len(rows))
        checked = upload_validate(rows=rows, file_name=file_name, upload=upload)
        execution.progress("check", 1, 1)
        with transaction.atomic():
            summary = _write(upload=upload, rows=checked)
            # Raises RunLost if the sweep failed the upload meanwhile: the
            # writes roll back.
            execution.succeed(summary=summary, rows_written=summary["written"])
    except ImportValidationError as exc:
        count = len(exc.problems)
        execution.fail(
            # Stored in German: the worker has no request language.
            f"Die Datei hat {count} Problem; es wurde nichts geändert."
            if count == 1
            else f"Die Datei hat {count} Probleme; es wurde nichts geändert.",
            [],
            summary={"problems": count, "written": 0},
            problems=problem_report(exc.problems),
            percent=100,
        )
    except Exception as exc:  # a broken file must not leave the upload running
        logger.exception("facility upload %s failed", upload.pk)
        message = f"Die Datei konnte nicht verarbeitet werden ({exc})."
        # After RunLost this changes nothing: the upload is no longer this attempt's.
        execution.fail(
            message,
            [],
            problems=problem_report([Problem(message, file_name)]),
            percent=100,
        )


def facility_upload_execute(*, upload: FacilityUpload) -> FacilityUpload:
    """Read, check and write an upload; on any problem nothing is written.

    It lives the life of the Datenpool's runs (datapool/services/runs.py): one
    attempt, started by compare-and-set from queued, writing under a heartbeat
    and succeeding inside its own transaction, so an upload whose worker died
    is failed by the sweep (``facility_uploads_fail_stale``, from Celery beat)
    with ``STALE_MESSAGE`` and its writes roll back. Its outcome and grouped
    ``problems`` are what the upload page polls. An upload the broker cannot
    take fails at once (``_send``); a new upload is the retry.
    """
    return run_execute(
        run=upload,
        work=lambda execution: _work(upload, execution),
        startable=STARTABLE,
        phases=PHASES,
        reset={"summary": {}, "problems": [], "phase": "read"},
    )


def facility_uploads_fail_stale(*, now: datetime | None = None) -> int:
    """Fail running uploads whose worker went silent; their writes rolled back."""
    return runs_fail_stale(model=FacilityUpload, message=STALE_MESSAGE, now=now)


@transaction.atomic
def _write(*, upload: FacilityUpload, rows: list[_Row]) -> dict:
    units = dict(
        LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.PLANUNGSRAUM
        ).values_list("code", "id")
    )
    created = updated = 0
    touched: dict[int, FacilityType] = {}
    for row in rows:
        fields = dict(row.fields)
        facility_type = fields.pop("facility_type")
        touched[facility_type.pk] = facility_type
        existing = None
        if fields["source_key"]:
            existing = Facility.objects.filter(
                facility_type=facility_type, source_key=fields["source_key"]
            ).first()
        facility = existing or Facility(facility_type=facility_type)
        for key, value in fields.items():
            setattr(facility, key, value)
        facility.geom = row.geom
        facility.unit_id = units[row.unit_code]
        facility.full_clean()
        facility.save()
        if existing:
            updated += 1
        else:
            created += 1
    summary = {"created": created, "updated": updated, "written": created + updated}
    audit_record(
        user=upload.created_by,
        action=Action.IMPORT,
        obj=upload,
        details={
            **summary,
            "types": sorted(t.key for t in touched.values()),
            "district": upload.district.code if upload.district else None,
        },
    )
    for facility_type in touched.values():
        facility_layer_publish(facility_type=facility_type)
    return summary


@transaction.atomic
def facility_upload_create(
    *, user, file, facility_type: FacilityType | None = None
) -> FacilityUpload:
    """Store the file and queue its check and import (a Celery task)."""
    require_facility_maintenance(user)
    if not upload_kind(file.name):
        raise ValidationError(
            {
                "file": "Bitte eine Tabelle (CSV, XLSX) oder Geodaten (GeoJSON, "
                "GeoPackage, Shapefile als ZIP) hochladen."
            }
        )
    own = user_bezirk_code(user)
    district = (
        LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=own
        )
        if own and not user_is_admin(user)
        else None
    )
    if facility_type is not None and facility_type.district_id not in (
        None,
        getattr(district, "pk", facility_type.district_id),
    ):
        raise ValidationError(
            {"facility_type": "Dieser Typ gehört einem anderen Bezirk."}
        )
    upload = FacilityUpload(
        original_name=Path(file.name).name[:255],
        facility_type=facility_type,
        district=district,
        created_by=user,
    )
    upload.file.save(upload.original_name, file, save=False)
    upload.full_clean()
    upload.save()
    transaction.on_commit(lambda: _send(upload))
    return upload


def _send(upload: FacilityUpload) -> None:
    """Queue the upload's task; without a broker it fails and says so."""
    # Tasks import this module at their top; the service reaches its task here.
    from .tasks import facility_upload_execute_task

    # The Datenpool's runs' hand-off: one quick attempt, no reconnect loop. The
    # user is told at once and uploads again later, rather than waiting on a
    # queued upload (see facility_upload_execute).
    if task_publish(task=facility_upload_execute_task, run_id=upload.pk) is None:
        message = (
            "Die Hintergrundverarbeitung ist gerade nicht erreichbar; "
            "es wurde nichts geändert. Bitte später erneut hochladen."
        )
        _set(
            upload,
            status=FacilityUpload.Status.FAILED,
            percent=100,
            phase="failed",
            error=message,
            problems=problem_report([Problem(message, upload.original_name)]),
            finished_at=timezone.now(),
        )
