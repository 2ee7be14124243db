"""Import runs: create, queue, execute (read, validate, write), resolve keys, retry.

The states a run goes through and its heartbeat live in ``runs``.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.files.base import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit import audit_record
from core.models import AuditEvent
from datapool.access import require_import_run_edit
from lor import hierarchy
from lor.models import LorUnit

from ..models import Delivery, ImportRun, Observation, Variable
from ..parsers.contract import (
    EXAMPLES_PER_KIND,
    FOREIGN_KEY,
    FOREIGN_VARIABLE,
    NUMBER,
    OLD_SCHEME,
    SCHEME_OPTION,
    UNKNOWN_KEY,
    ImportValidationError,
    KeyDecisions,
    ParsedDelivery,
    Problem,
    ProblemList,
    UnknownKey,
    lor_codes,
    rows_building,
    scheme_of,
)
from ..parsers.detect import HEAD_BYTES, detect_kind_of_head
from ..parsers.registry import parser_for
from .aggregation import observations_aggregate
from .catalogue import supplier_get_or_create, variables_upsert
from .conversion import conversion_run_enqueue
from .facilities import facility_layer_replace
from .harmonisation import harmonised_sums_derive
from .indicators import indicator_run_enqueue
from .inspection import import_run_inspect_enqueue
from .observations import (
    coverage_refresh,
    observation_statistics_refresh,
    observations_replace,
)
from .runs import RunExecution, RunLost, run_execute, run_requeue

logger = logging.getLogger(__name__)


class ImportRunNotRetryable(Exception):
    pass


class ImportUploadRefused(Exception):
    """The upload cannot be imported this way; the message says why (German)."""


def import_run_create(
    *,
    kind: str,
    path: Path | None = None,
    upload=None,
    original_name: str,
    user=None,
    options: dict | None = None,
    district: LorUnit | None = None,
    status: str = ImportRun.Status.QUEUED,
) -> ImportRun:
    """Store the file (outside the web root) and record the run; nothing is read yet.

    With a ``user`` (uploads through UI or API) the roles apply: coordinators
    upload for their own district only (their district is the default), and
    Berlin-wide data is for administrators; ``PermissionDenied`` otherwise.
    Without a user (command line) the caller is trusted.
    """
    if user is not None:
        district = _upload_district(user=user, district=district)
    run = ImportRun(
        kind=kind,
        original_name=original_name,
        created_by=user if user and user.is_authenticated else None,
        options=options or {},
        district=district,
        status=status,
    )
    if upload is not None:
        run.file.save(Path(original_name).name, upload, save=False)
    else:
        with Path(path).open("rb") as fh:
            run.file.save(Path(original_name).name, File(fh), save=False)
    run.checksum = _sha256(run.file)
    run.full_clean(exclude=["file"])
    run.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.CREATE,
        obj=run,
        details={
            "file": original_name,
            "kind": kind,
            "district": district.code if district else None,
            "checksum": run.checksum,
        },
    )
    return run


def import_run_upload(
    *,
    user,
    upload: UploadedFile,
    kind: str | None = None,
    district: LorUnit | None = None,
    tables: bool = True,
) -> ImportRun:
    """Store an upload as an audited run and queue it; a table is inspected first.

    The kind is recognised from the file when not given. Roles apply as in
    ``import_run_create`` (``PermissionDenied``). With ``tables=False`` (the API,
    which has no mapping step) a table is refused before anything is stored.
    """
    district = _upload_district(user=user, district=district)
    if not kind:
        upload.seek(0)
        head = upload.read(HEAD_BYTES)
        upload.seek(0)
        kind = detect_kind_of_head(head, upload.name)
    if kind == ImportRun.Kind.TABLE and not tables:
        raise ImportUploadRefused(
            "Tabellen bitte über die Oberfläche importieren (Zuordnung der Spalten)."
        )
    run = import_run_create(
        kind=kind,
        upload=upload,
        original_name=upload.name,
        user=user,
        district=district,
        status=ImportRun.Status.DRAFT,
    )
    if run.kind == ImportRun.Kind.TABLE:
        # Read in the worker, within limits; the mapping page waits for it.
        import_run_inspect_enqueue(import_run=run)
    else:
        import_run_enqueue(import_run=run)
    run.refresh_from_db()
    return run


def _upload_district(*, user, district: LorUnit | None) -> LorUnit | None:
    from core.access import (
        Role,
        import_allowed,
        require_data_edit,
        user_bezirk_code,
        user_role,
    )

    if not import_allowed(user):
        raise PermissionDenied(
            _("Only data coordinators and administrators may upload data.")
        )
    own = user_bezirk_code(user)
    if district is None and own and user_role(user) == Role.COORDINATOR:
        district = LorUnit.objects.get(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=own
        )
    require_data_edit(user=user, bezirk_code=district.code if district else None)
    return district


def _sha256(field_file) -> str:
    digest = hashlib.sha256()
    field_file.open("rb")
    try:
        for chunk in field_file.chunks():
            digest.update(chunk)
    finally:
        field_file.close()
    return digest.hexdigest()


def import_run_enqueue(*, import_run: ImportRun) -> None:
    """Hand the run to the worker once the surrounding transaction commits."""
    if not run_requeue(run=import_run):
        raise ImportRunNotRetryable("Dieser Import läuft bereits oder ist fertig.")


def import_run_execute(*, import_run: ImportRun, echo=None) -> ImportRun:
    """Read, validate and write one run, all or nothing; the run records the outcome."""
    run = import_run
    return run_execute(
        run=run, work=lambda execution: _execute(run, execution), echo=echo
    )


def _execute(run: ImportRun, execution: RunExecution) -> None:
    try:
        parser = parser_for(run.kind)
        problems = ProblemList()
        try:
            with rows_building():
                delivery: ParsedDelivery = parser(
                    Path(run.file.path),
                    file_name=run.original_name,
                    options=run.options,
                    progress=execution.callback("read", "rows_read"),
                )
        except ImportValidationError as exc:
            if exc.delivery is None:  # the file could not be read through
                raise
            # The parser read every row: add the district's checks and the
            # unknown keys, so that one report names every kind of problem.
            delivery = exc.delivery
            problems.extend(exc.problems)
            problems.counts = dict(exc.counts)
        if not delivery.keys_resolved:
            _resolve_keys(run, delivery, problems)
        if run.district_id:
            _check_district_rows(run, delivery, problems)
        if problems:
            for problem in _unknown_key_problems(run, delivery):
                problems.add(problem)
            raise ImportValidationError(
                list(problems), counts=problems.counts, delivery=delivery
            )
        if delivery.unknown_keys:
            _needs_review(run, delivery, execution)
            return
        with transaction.atomic():
            summary = _write(run, delivery, execution)
            execution.succeed(
                rows_written=summary["values"],
                summary=summary,
                report=[w.as_dict() for w in delivery.warnings[:200]],
            )
            audit_record(
                user=run.created_by,
                action=AuditEvent.Action.IMPORT,
                obj=run,
                details={
                    key: summary.get(key)
                    for key in ("variables", "ref_dates", "values", "replaced")
                }
                | {"district": run.district.code if run.district else None},
            )
            if run.options.get("convert") and scheme_of(run.options) != (
                LorUnit.Scheme.LOR_2021
            ):
                conversion_run_enqueue(source_run=run, user=run.created_by)
        observation_statistics_refresh()
    except RunLost:
        # The sweep declared the run dead (or a retry took it over) meanwhile;
        # its writes rolled back and the recorded state stands.
        logger.warning("import run %s lost its run; nothing written", run.pk)
    except ImportValidationError as exc:
        groups = problem_groups(
            exc.problems, exc.counts, delivery=exc.delivery, district=run.district
        )
        execution.fail(
            "Die Datei wurde nicht importiert.",
            [p.as_dict() for p in exc.problems],
            # The file itself is at fault: running it again cannot help.
            summary={"problem_groups": groups, "validation": True},
        )
    except Exception as exc:
        logger.exception("import run %s failed", run.pk)
        execution.fail(
            "Beim Import ist ein unerwarteter Fehler aufgetreten; es wurde nichts "
            f"geändert. ({type(exc).__name__}: {exc})",
            [],
        )


def _resolve_keys(
    run: ImportRun, delivery: ParsedDelivery, problems: ProblemList
) -> None:
    """Turn the delivered keys of a scheme-neutral parser into keys of the run's
    scheme (LOR 2021, or LOR 2006 for a file in old keys).

    The run's decisions apply (``skip_keys``, ``key_map``); keys nobody decided
    on become the delivery's unknown keys for the review step. A target must
    be a unit of the level the file delivers.
    """
    scheme = scheme_of(run.options)
    levels = {hierarchy.level_of_key(key) for key in delivery.key_lines}
    known: dict[str, str] = {}
    for level in levels - {None, hierarchy.BERLIN}:
        known.update(lor_codes(level=level, scheme=scheme))
    decisions = KeyDecisions(
        known=known,
        options=run.options,
        delivery=delivery,
        problems=problems,
        file_name=run.original_name,
        column=delivery.key_column,
        not_a_target=f"keine Einheit dieser Ebene im {scheme}",
        scheme=scheme,
    )
    lines = delivery.key_lines
    resolved = {
        key: decisions.resolve(key, line)
        for key, line in sorted(lines.items(), key=lambda item: item[1])
    }
    targets: dict[str, str] = {}
    for key, target in resolved.items():
        if target is None:
            continue
        if target in targets:
            problems.add(
                Problem(
                    f"Schlüssel {key} und {targets[target]} stehen beide für {target}",
                    run.original_name,
                    line=lines[key],
                    column=delivery.key_column or None,
                    value=key,
                )
            )
        targets[target] = key
    delivery.rows = [
        row
        if resolved.get(row.unit_code) == row.unit_code
        # ObservationRow is a NamedTuple: _replace is its public copy-with.
        else row._replace(unit_code=resolved[row.unit_code])
        for row in delivery.rows
        if resolved.get(row.unit_code)
    ]
    delivery.key_lines = {target: lines[key] for target, key in targets.items()}
    delivery.unknown_keys = decisions.unknown_keys(set(targets))
    delivery.keys_resolved = True


def _check_district_rows(
    run: ImportRun, delivery: ParsedDelivery, problems: ProblemList
) -> None:
    """A district's upload holds only its own units and its own variables."""
    district = run.district

    def inside(code: str) -> bool:
        return hierarchy.key_prefix(code, hierarchy.BEZIRK) == district.code

    if run.kind == ImportRun.Kind.POINTS:
        # A point layer counts every Planungsraum of Berlin; outside the district
        # those are zeros that say nothing. Points outside it are still refused.
        delivery.rows = [
            row for row in delivery.rows if inside(row.unit_code) or row.value
        ]
    keys = {row.unit_code for row in delivery.rows} | set(delivery.key_lines)
    lines = delivery.key_lines
    outside = sorted(
        (code for code in keys if not inside(code)),
        key=lambda code: (lines.get(code, 0), code),
    )
    for code in outside:
        problems.add(
            Problem(
                f"Der Schlüssel {code} liegt nicht im Bezirk {district.code} "
                f"{district.name}; ein Bezirk darf nur Daten seines eigenen "
                "Bezirks hochladen.",
                run.original_name,
                line=lines.get(code),
                value=code,
                kind=FOREIGN_KEY,
            )
        )
    foreign = Variable.objects.filter(
        key__in=[spec.key for spec in delivery.variables]
    ).exclude(district=district)
    for variable in foreign.order_by("key")[:20]:
        owner = (
            f"des Bezirks {variable.district.code}"
            if variable.district_id
            else "berlinweit (nur Administration)"
        )
        problems.add(
            Problem(
                f"Die Variable {variable.key} gehört nicht diesem Bezirk, sondern "
                f"ist {owner} geführt; bitte einen eigenen Variablenschlüssel "
                "verwenden.",
                run.original_name,
                column=variable.key,
                kind=FOREIGN_VARIABLE,
            )
        )


def problem_groups(
    problems: list[Problem],
    counts: dict[str, int],
    *,
    delivery: ParsedDelivery | None = None,
    district: LorUnit | None = None,
) -> list[dict]:
    """The problems of a report grouped by kind: a headline with the count, and
    the first examples (line, column, value) of each kind."""
    by_kind: dict[str, list[Problem]] = {}
    for problem in problems:
        by_kind.setdefault(problem.kind, []).append(problem)
    keys_total = (
        len(
            set(delivery.key_lines)
            | {row.unit_code for row in delivery.rows}
            | {k.key for k in delivery.unknown_keys}
        )
        if delivery
        else None
    )
    groups = []
    for kind, items in by_kind.items():
        count = max(counts.get(kind, 0), len(items))
        groups.append(
            {
                "kind": kind or "other",
                "count": count,
                "title": _group_title(kind, count, keys_total, district),
                "examples": [
                    _example(p) for p in items[: EXAMPLES_PER_KIND if kind else 50]
                ],
            }
        )
    order = [NUMBER, UNKNOWN_KEY, FOREIGN_KEY, FOREIGN_VARIABLE, "other"]
    groups.sort(key=lambda g: order.index(g["kind"]) if g["kind"] in order else 9)
    return groups


def _group_title(
    kind: str, count: int, keys_total: int | None, district: LorUnit | None
) -> str:
    if kind == NUMBER:
        return ngettext(
            "%(count)d value is not a valid number",
            "%(count)d values are not valid numbers",
            count,
        ) % {"count": count}
    if kind == UNKNOWN_KEY:
        return ngettext(
            "%(count)d key does not exist in LOR 2021",
            "%(count)d keys do not exist in LOR 2021",
            count,
        ) % {"count": count}
    if kind == FOREIGN_KEY:
        name = district.name if district else ""
        return _("%(count)d of %(total)d keys lie outside %(district)s") % {
            "count": count,
            "total": keys_total or count,
            "district": name,
        }
    if kind == FOREIGN_VARIABLE:
        return ngettext(
            "%(count)d variable belongs to another district",
            "%(count)d variables belong to another district",
            count,
        ) % {"count": count}
    return ngettext(
        "%(count)d further problem", "%(count)d further problems", count
    ) % {"count": count}


def _example(problem: Problem) -> dict:
    where = []
    if problem.line is not None:
        where.append(_("line %(line)d") % {"line": problem.line})
    if problem.column:
        where.append(_("column “%(column)s”") % {"column": problem.column})
    return {
        "where": ", ".join(where),
        "value": problem.value,
        "message": problem.message,
        "text": str(problem),
    }


def _write(run: ImportRun, delivery: ParsedDelivery, execution: RunExecution) -> dict:
    supplier = supplier_get_or_create(code=delivery.supplier, district=run.district)
    extra = (
        facility_layer_replace(import_run=run, layer=delivery.facility_layer)
        if delivery.facility_layer
        else {}
    )
    scheme = scheme_of(run.options)
    old_scheme = scheme != LorUnit.Scheme.LOR_2021
    levels = dict(LorUnit.objects.filter(scheme=scheme).values_list("code", "level"))
    delivered_levels = {levels[row.unit_code] for row in delivery.rows}
    finest = hierarchy.finest_level(delivered_levels) or hierarchy.PLANUNGSRAUM
    variables = variables_upsert(
        specs=delivery.variables,
        supplier=supplier,
        lowest_level=finest,
        district=run.district,
    )
    result = observations_replace(
        import_run=run,
        rows=delivery.rows,
        variables=variables,
        progress=execution.callback("write", "rows_written"),
        scheme=scheme,
    )
    execution.progress("aggregate", 0, 1)
    touched = list(variables.values())
    # Values in old keys are not aggregated, counted or used by indicators: what
    # the maps show of them are their converted values (a conversion run).
    aggregated = (
        0
        if old_scheme
        else observations_aggregate(
            variables=touched, ref_dates=delivery.ref_dates, import_run=run
        )
    )
    # Sums over the delivered variables (E_EU6 = E_EU1 + E_E1U6 …) for the
    # delivered dates, so that indicators over them cover this delivery too.
    # Old-scheme values get theirs after conversion, on the LOR 2021 units.
    derived = (
        []
        if old_scheme
        else harmonised_sums_derive(
            import_run=run,
            variable_ids=[v.id for v in touched],
            ref_dates=delivery.ref_dates,
        )
    )
    suppressed: dict[tuple[int, object], int] = {}
    counts: dict[tuple[int, object], int] = {}
    var_ids = {k: v.id for k, v in variables.items()}
    for row in delivery.rows:
        pair = (var_ids[row.variable_key], row.ref_date)
        counts[pair] = counts.get(pair, 0) + 1
        if row.status == Observation.Status.SUPPRESSED:
            suppressed[pair] = suppressed.get(pair, 0) + 1
    Delivery.objects.bulk_create(
        [
            Delivery(
                import_run=run,
                variable_id=variable_id,
                ref_date=ref_date,
                level=result.levels[(variable_id, ref_date)],
                values=n,
                suppressed=suppressed.get((variable_id, ref_date), 0),
                replaced=result.replaced.get((variable_id, ref_date), 0),
            )
            for (variable_id, ref_date), n in counts.items()
        ]
    )
    if not old_scheme:
        today = timezone.localdate()
        Variable.objects.filter(id__in=var_ids.values()).update(last_delivery=today)
        coverage_refresh(
            variable_ids=_with_dependants([*var_ids.values(), *derived]),
            ref_dates=delivery.ref_dates,
        )
        # Only the delivered dates: the work per delivery must not grow with
        # history.
        indicator_run_enqueue(
            variable_ids=[*var_ids.values(), *derived],
            ref_dates=delivery.ref_dates,
            user=run.created_by,
        )
    execution.progress("aggregate", 1, 1)
    return {
        "variables": len(variables),
        "incomplete_metadata": sorted(
            k for k, v in variables.items() if not v.metadata_complete
        ),
        "ref_dates": sorted(d.isoformat() for d in delivery.ref_dates),
        "values": result.written,
        "suppressed": sum(suppressed.values()),
        "replaced": sum(result.replaced.values()),
        "aggregates": aggregated,
        "derived_sums": sorted(
            Variable.objects.filter(id__in=derived).values_list("key", flat=True)
        ),
        "units": len({row.unit_code for row in delivery.rows}),
        "scheme": scheme,
        "skipped_or_mapped": [w.as_dict() for w in delivery.warnings[:20]],
        **delivery.extra,
        **extra,
    }


def _with_dependants(variable_ids) -> list[int]:
    ids = set(variable_ids)
    for v in Variable.objects.filter(
        aggregation__in=[Variable.Aggregation.RATIO, Variable.Aggregation.WEIGHTED_MEAN]
    ):
        if {v.numerator_id, v.denominator_id, v.weight_id} & ids:
            ids.add(v.id)
    return sorted(ids)


def _unknown_key_problems(run: ImportRun, delivery: ParsedDelivery) -> list[Problem]:
    scheme = scheme_of(run.options)
    return [
        Problem(
            f"Schlüssel {k.key} gibt es im {scheme} nicht" + _key_hint(k),
            run.original_name,
            line=k.line,
            column="RAUMID"
            if run.kind == ImportRun.Kind.EWR
            else delivery.key_column or None,
            value=k.key,
            kind=UNKNOWN_KEY,
        )
        for k in delivery.unknown_keys
    ]


def _key_hint(key: UnknownKey) -> str:
    if key.suggestion:
        return (
            f"; Vorschlag: {key.suggestion} ({key.suggestion_name}) – derselbe "
            "Planungsraum, dokumentierte Umbenennung"
        )
    if key.old_scheme_name:
        return (
            f"; es ist ein Schlüssel des LOR-Schemas 2006 ({key.old_scheme_name}), "
            "umzurechnen über die Umschlüsselung"
        )
    return ""


# A file is of the old scheme when more of its keys are LOR 2006 keys than LOR
# 2021 keys (the two schemes share no Planungsraum key).
def key_scheme_counts(keys: set[str]) -> dict[str, int]:
    """How many of these keys each scheme knows (and how many neither)."""
    known = dict(
        LorUnit.objects.filter(
            code__in=keys,
            scheme__in=[LorUnit.Scheme.LOR_2021, LorUnit.Scheme.LOR_2006],
        ).values_list("code", "scheme")
    )
    new = sum(1 for key in keys if known.get(key) == LorUnit.Scheme.LOR_2021)
    old = sum(1 for key in keys if known.get(key) == LorUnit.Scheme.LOR_2006)
    return {"lor2021": new, "lor2006": old, "none": len(keys) - new - old}


def _needs_review(
    run: ImportRun, delivery: ParsedDelivery, execution: RunExecution
) -> None:
    keys = [k.as_dict() for k in delivery.unknown_keys]
    problems = [p.as_dict() for p in _unknown_key_problems(run, delivery)]
    file_keys = {row.unit_code for row in delivery.rows} | {
        k.key for k in delivery.unknown_keys
    }
    counts = key_scheme_counts(file_keys)
    old_scheme = scheme_of(run.options) == LorUnit.Scheme.LOR_2021 and (
        counts["lor2006"] > counts["lor2021"]
    )
    if old_scheme:
        error = (
            "Schlüssel des LOR-Schemas 2006: "
            f"{counts['lor2006']} von {len(file_keys)} Schlüsseln sind "
            f"LOR-2006-Planungsräume, {counts['lor2021']} LOR-2021-Planungsräume. "
            "Sie können die Datei in LOR 2006 importieren und nach LOR 2021 "
            "umrechnen. Es wurde noch nichts importiert."
        )
    else:
        error = (
            f"{len(keys)} unbekannte(r) Schlüssel: bitte zuordnen oder überspringen. "
            "Es wurde noch nichts importiert."
        )
    execution.review(
        summary={
            "unknown_keys": keys,
            "scheme_counts": counts | {"total": len(file_keys)},
            "old_scheme": old_scheme,
        },
        report=problems,
        error=error,
    )


@transaction.atomic
def import_run_map_columns(*, import_run: ImportRun, mapping: dict) -> ImportRun:
    """Store the column mapping of a table run and queue the run."""
    if import_run.kind != ImportRun.Kind.TABLE or import_run.status not in {
        ImportRun.Status.DRAFT,
        ImportRun.Status.FAILED,
    }:
        raise ImportRunNotRetryable(
            "Die Spalten dieses Imports lassen sich nicht mehr zuordnen."
        )
    if not import_run.is_inspected:
        raise ImportRunNotRetryable("Die Tabelle ist noch nicht geprüft.")
    options = {
        key: value
        for key, value in import_run.options.items()
        if key in ("key_map", "skip_keys")
    }
    options.update(mapping)
    ImportRun.objects.filter(pk=import_run.pk).update(options=options)
    import_run.refresh_from_db()
    import_run_enqueue(import_run=import_run)
    return import_run


def import_run_resolve_keys(
    *,
    import_run: ImportRun,
    key_map: dict[str, str],
    skip_keys: list[str],
    user=None,
) -> ImportRun:
    """Record the user's decisions on unknown keys and queue the run again."""
    if user is not None:
        require_import_run_edit(user=user, import_run=import_run)
    if import_run.status != ImportRun.Status.REVIEW:
        raise ImportRunNotRetryable("Dieser Import wartet auf keine Entscheidung.")
    options = dict(import_run.options)
    options["key_map"] = {**options.get("key_map", {}), **key_map}
    options["skip_keys"] = sorted(set(options.get("skip_keys", [])) | set(skip_keys))
    ImportRun.objects.filter(pk=import_run.pk).update(options=options)
    import_run.refresh_from_db()
    import_run_enqueue(import_run=import_run)
    return import_run


def import_run_convert_old_scheme(*, import_run: ImportRun, user=None) -> ImportRun:
    """Import a run waiting on its keys into LOR 2006 and convert it to LOR 2021.

    The user's earlier decisions on single keys are dropped: the keys are now
    read as the old scheme's (datapool.services.conversion converts afterwards).
    """
    if user is not None:
        require_import_run_edit(user=user, import_run=import_run)
    if import_run.status != ImportRun.Status.REVIEW:
        raise ImportRunNotRetryable("Dieser Import wartet auf keine Entscheidung.")
    options = {
        key: value
        for key, value in import_run.options.items()
        if key not in ("key_map", "skip_keys")
    }
    options.update({SCHEME_OPTION: OLD_SCHEME, "convert": True})
    ImportRun.objects.filter(pk=import_run.pk).update(options=options)
    import_run.refresh_from_db()
    import_run_enqueue(import_run=import_run)
    return import_run


def import_run_retry(*, import_run: ImportRun, user=None) -> ImportRun:
    """Queue a failed run again with the same file and options."""
    if user is not None:
        require_import_run_edit(user=user, import_run=import_run)
    if import_run.status != ImportRun.Status.FAILED:
        raise ImportRunNotRetryable(
            "Nur fehlgeschlagene Importe können wiederholt werden."
        )
    import_run_enqueue(import_run=import_run)
    import_run.refresh_from_db()
    return import_run
