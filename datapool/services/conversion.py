"""Conversion of values delivered in LOR 2006 keys to the LOR 2021 Planungsräume.

A delivery in old keys is imported onto the LOR 2006 units (the two schemes'
keys are never mixed); a conversion run then writes its LOR 2021 values with
the crosswalk (``lor.selectors.crosswalk_targets``; method and measured error in
docs/crosswalk.md). The rules, per the variable's aggregation rule:

* **Counts and amounts** (``sum``): each old value is spread by the pieces'
  population weights and added up per new unit (the Berlin total is kept).
* **Ratios** (``ratio``) are never converted: they are recomputed from the
  converted numerator and denominator by the aggregation, at every level. A
  ratio whose numerator or denominator is not in the delivery is not
  convertible.
* **Indices, means, shares without numerator, classes** (``weighted_mean``,
  ``none``): only where the new unit maps 1:1 to an old one (its value is
  taken) or is a union of whole old units (their mean weighted by the residents
  of 31.12.2020 in the crosswalk; a class only where all of them agree).
  Elsewhere the new unit gets no value: ``missing`` with the note
  "nicht umrechenbar".
* **Status**: a value of a unit that maps 1:1 is ``ok``, every other converted
  value ``estimated`` (aggregates over it and indicators computed from it are
  estimated too: ``aggregation``, ``indicators``). A value that draws on a
  suppressed old cell is suppressed, one that draws on a missing cell missing:
  never a silent 0.
* Values delivered natively in LOR 2021 keys win: a variable and date that has
  them is not converted (the run's summary names it).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from lor import hierarchy
from lor.models import CrosswalkPiece, LorUnit
from lor.selectors import CrosswalkTarget, crosswalk_targets

from ..models import Delivery, ImportRun, Observation, Variable
from ..parsers.contract import ObservationRow
from .aggregation import observations_aggregate
from .harmonisation import harmonised_sums_derive
from .indicators import indicator_run_enqueue
from .observations import coverage_refresh, observations_replace
from .runs import RunExecution, RunLost, run_execute, run_send_on_commit

logger = logging.getLogger(__name__)

# The marker every estimated converted value carries (shown beside "geschätzt").
CONVERTED_NOTE = "umgerechnet aus LOR 2006"
SAME_AREA_NOTE = "aus LOR 2006 übernommen (gleiche Fläche)"
NOT_CONVERTIBLE_NOTE = "nicht umrechenbar"
# Where a value comes from that is shown with converted values (exports, pages).
CROSSWALK_CREDIT = (
    "Umschlüsselung LOR 2006 → LOR 2021 (PRISMA: Flächenverschneidung, "
    "kalibriert auf die Einwohner vom 31.12.2020; Methode und Fehler: "
    "docs/crosswalk.md)"
)
# A piece whose weight is below this carries nobody (it lies in an uninhabited
# new unit): it draws nothing from the old value, not even its suppression.
NO_WEIGHT = 1e-9


class ConversionError(Exception):
    """The run cannot be converted; nothing was changed (the message says why)."""


@dataclass
class _Old:
    value: float | None
    status: str


def conversion_run_create(*, source_run: ImportRun, user=None) -> ImportRun:
    """Record a queued conversion of a LOR 2006 import; nothing is converted yet."""
    run = ImportRun(
        kind=ImportRun.Kind.CONVERSION,
        original_name=f"{source_run.original_name} (LOR 2006 → LOR 2021)"[:255],
        options={"source_run": source_run.pk},
        created_by=user if user is not None and user.is_authenticated else None,
        district=source_run.district,
        supplier=source_run.supplier,
        status=ImportRun.Status.QUEUED,
    )
    run.full_clean(exclude=["file"])
    run.save()
    return run


def conversion_run_enqueue(*, source_run: ImportRun, user=None) -> ImportRun:
    """Create the conversion run and hand it to the worker once the caller commits."""
    run = conversion_run_create(source_run=source_run, user=user)
    run_send_on_commit(run=run)
    return run


def conversion_run_execute(*, run: ImportRun, echo=None) -> ImportRun:
    """Convert the run's source import, all or nothing; the run records the outcome."""
    return run_execute(run=run, work=lambda execution: _work(run, execution), echo=echo)


def _work(run: ImportRun, execution: RunExecution) -> None:
    try:
        source = ImportRun.objects.filter(pk=run.options.get("source_run")).first()
        if source is None or source.status != ImportRun.Status.SUCCEEDED:
            raise ConversionError(
                "Der Import in LOR-2006-Schlüsseln, der umgerechnet werden soll, "
                "ist nicht (mehr) vorhanden oder nicht abgeschlossen."
            )
        with transaction.atomic():
            summary = observations_convert(
                source_run=source, run=run, execution=execution
            )
            execution.succeed(rows_written=summary["values"], summary=summary)
    except RunLost:
        logger.warning("conversion run %s lost its run; nothing written", run.pk)
    except ConversionError as exc:
        execution.fail(f"{exc} Es wurde nichts geändert.", [])
    except Exception as exc:
        logger.exception("conversion run %s failed", run.pk)
        execution.fail(
            "Bei der Umrechnung ist ein unerwarteter Fehler aufgetreten; es wurde "
            f"nichts geändert. ({type(exc).__name__}: {exc})",
            [],
        )


def observations_convert(
    *,
    source_run: ImportRun,
    run: ImportRun,
    execution: RunExecution | None = None,
) -> dict:
    """Write the LOR 2021 values of ``source_run``'s LOR 2006 values as ``run``'s.

    The caller is atomic. Returns the run's summary (counts per status, the
    variables and dates converted, those left to native LOR 2021 values).
    """
    targets = crosswalk_targets()
    if not targets:
        raise ConversionError(
            "Die Umschlüsselung LOR 2006 → LOR 2021 ist nicht berechnet "
            "(manage.py lor_crosswalk)."
        )
    old: dict[tuple[int, date], dict[str, _Old]] = defaultdict(dict)
    for variable_id, code, ref_date, value, status in Observation.objects.filter(
        import_run=source_run,
        is_aggregate=False,
        unit__scheme=LorUnit.Scheme.LOR_2006,
        unit__level=hierarchy.PLANUNGSRAUM,
    ).values_list("variable_id", "unit__code", "ref_date", "value", "status"):
        old[(variable_id, ref_date)][code] = _Old(value, status)
    if not old:
        raise ConversionError(
            f"Import #{source_run.pk} enthält keine Werte auf LOR-2006-Planungsräumen."
        )
    variables = Variable.objects.in_bulk({variable_id for variable_id, _ in old})
    native = _natively_delivered(list(old))

    rows: list[ObservationRow] = []
    ratios: set[int] = set()
    kept_native: list[str] = []
    statuses: dict[str, int] = defaultdict(int)
    for (variable_id, ref_date), values in sorted(
        old.items(), key=lambda item: (variables[item[0][0]].key, item[0][1])
    ):
        variable = variables[variable_id]
        if (variable_id, ref_date) in native:
            kept_native.append(f"{variable.key} {ref_date.isoformat()}")
            continue
        if variable.aggregation == Variable.Aggregation.RATIO:
            parts = {variable.numerator_id, variable.denominator_id}
            if all((part, ref_date) in old for part in parts):
                ratios.add(variable_id)  # recomputed by the aggregation below
                continue
            convert = _not_convertible_ratio
        elif variable.aggregation == Variable.Aggregation.SUM:
            convert = _convert_count
        else:
            convert = _convert_index
        for code, target in targets.items():
            if not any(old in values for old, *_rest in target.pieces):
                # Nothing delivered for this unit (e.g. a district's upload and
                # a unit of another district): no value rather than "missing".
                continue
            value, status, note = convert(
                target, values, is_class=variable.value_type == "class"
            )
            statuses[status] += 1
            rows.append(
                ObservationRow(variable.key, code, ref_date, value, status, note)
            )
    progress = execution.callback("write", "rows_written") if execution else None
    by_key = {variables[vid].key: variables[vid] for vid, _ in old}
    result = observations_replace(
        import_run=run, rows=rows, variables=by_key, progress=progress
    )
    if execution:
        execution.progress("aggregate", 0, 1)
    dates = {ref_date for _, ref_date in old}
    written = {variables[vid] for vid, d in old if (vid, d) not in native}
    aggregated = observations_aggregate(
        variables=sorted(written, key=lambda v: v.key), ref_dates=dates, import_run=run
    )
    _record_deliveries(run, rows, by_key, result.replaced)
    touched = {v.id for v in written}
    # Sums over the converted variables (E_EU18 = E_EU6 + …) on the new units,
    # estimated where a component is, so indicators cover the old dates too.
    derived = harmonised_sums_derive(
        import_run=run, variable_ids=sorted(touched), ref_dates=sorted(dates)
    )
    Variable.objects.filter(id__in=touched).update(last_delivery=timezone.localdate())
    coverage_refresh(variable_ids=_with_ratios(touched | set(derived)), ref_dates=dates)
    indicator_run_enqueue(
        variable_ids=sorted(touched | set(derived)),
        ref_dates=sorted(dates),
        user=run.created_by,
    )
    if execution:
        execution.progress("aggregate", 1, 1)
    return {
        "source_run": source_run.pk,
        "variables": len(written),
        "ref_dates": sorted(d.isoformat() for d in dates),
        "values": len(rows),
        "ok_same_area": statuses["ok"],
        "estimated": statuses["estimated"],
        "suppressed": statuses["suppressed"],
        "missing": statuses["missing"],
        "ratios_recomputed": sorted(variables[v].key for v in ratios),
        "kept_native": kept_native,
        "aggregates": aggregated,
        "units": len({row.unit_code for row in rows}),
        "replaced": sum(result.replaced.values()),
        "crosswalk": CROSSWALK_CREDIT,
    }


def _natively_delivered(pairs: list[tuple[int, date]]) -> set[tuple[int, date]]:
    """The (variable, date) pairs with values delivered in LOR 2021 keys."""
    found = set()
    for variable_id, ref_date in pairs:
        if (
            Observation.objects.filter(
                variable_id=variable_id,
                ref_date=ref_date,
                is_aggregate=False,
                unit__scheme=LorUnit.Scheme.LOR_2021,
            )
            .exclude(import_run__kind=ImportRun.Kind.CONVERSION)
            .exists()
        ):
            found.add((variable_id, ref_date))
    return found


def _convert_count(
    target: CrosswalkTarget, values: dict[str, _Old], *, is_class: bool = False
) -> tuple[float | None, str, str]:
    """The sum of the old values by the pieces' population weights."""
    total = 0.0
    blocked: list[tuple[str, str]] = []
    for old, weight, _persons, _share in target.pieces:
        if weight < NO_WEIGHT:
            continue
        cell = values.get(old)
        if cell is None or cell.value is None:
            blocked.append((old, cell.status if cell else "missing"))
            continue
        total += cell.value * weight
    if blocked:
        return _blocked(blocked)
    if target.relation == CrosswalkPiece.Relation.ONE_TO_ONE:
        return total, "ok", SAME_AREA_NOTE
    return total, "estimated", CONVERTED_NOTE


def _convert_index(
    target: CrosswalkTarget, values: dict[str, _Old], *, is_class: bool = False
) -> tuple[float | None, str, str]:
    """1:1: the old value; union: mean weighted by residents; split: none."""
    if target.relation == CrosswalkPiece.Relation.SPLIT:
        return (
            None,
            "missing",
            f"{NOT_CONVERTIBLE_NOTE} (Planungsraum aus Teilen von "
            "LOR-2006-Planungsräumen; Indizes und Mittelwerte lassen sich nicht "
            "aufteilen)",
        )
    members = target.whole_old_units
    persons = {old: p for old, _w, p, _s in target.pieces}
    cells = {old: values.get(old) or _Old(None, "missing") for old in members}
    if target.relation == CrosswalkPiece.Relation.ONE_TO_ONE:
        (cell,) = cells.values()
        if cell.value is None:
            return None, cell.status, ""
        return cell.value, "ok", SAME_AREA_NOTE
    # A union: a member without a value (uninhabited, or too few residents for
    # the index) or without residents drops out of the mean; a suppressed one
    # makes the mean unknown.
    blocked = [(old, c.status) for old, c in cells.items() if c.status == "suppressed"]
    if blocked:
        return _blocked(blocked)
    inhabited = {
        old: cell
        for old, cell in cells.items()
        if persons[old] > 0 and cell.value is not None
    }
    if not inhabited:
        return None, "missing", ""
    if is_class:
        classes = {cell.value for cell in inhabited.values()}
        if len(classes) > 1:
            return (
                None,
                "missing",
                f"{NOT_CONVERTIBLE_NOTE} (die zusammengelegten "
                "LOR-2006-Planungsräume haben verschiedene Klassen)",
            )
        return classes.pop(), "estimated", CONVERTED_NOTE
    weight = sum(persons[old] for old in inhabited)
    mean = sum(c.value * persons[old] for old, c in inhabited.items()) / weight
    if len(inhabited) == 1:
        note = f"{CONVERTED_NOTE} (Wert von {next(iter(inhabited))}"
    else:
        note = (
            f"{CONVERTED_NOTE} (Mittel von {len(inhabited)} Planungsräumen, "
            "gewichtet mit den Einwohnern vom 31.12.2020"
        )
    if without := sorted(set(cells) - set(inhabited)):
        note += f"; ohne Wert: {', '.join(without)}"
    return mean, "estimated", note + ")"


def _not_convertible_ratio(
    target: CrosswalkTarget, values: dict[str, _Old], *, is_class: bool = False
) -> tuple[float | None, str, str]:
    return (
        None,
        "missing",
        f"{NOT_CONVERTIBLE_NOTE} (Zähler oder Nenner nicht geliefert; Anteile "
        "werden nur aus umgerechneten Zählern und Nennern neu berechnet)",
    )


def _blocked(blocked: list[tuple[str, str]]) -> tuple[None, str, str]:
    """No value: some old cell drawn on is suppressed (or missing)."""
    keys = ", ".join(old for old, _ in blocked[:3]) + (" …" if len(blocked) > 3 else "")
    if any(status == "suppressed" for _, status in blocked):
        return None, "suppressed", f"enthält gesperrten LOR-2006-Wert ({keys})"
    return None, "missing", f"LOR-2006-Wert fehlt ({keys})"


def _record_deliveries(
    run: ImportRun,
    rows: list[ObservationRow],
    variables: dict[str, Variable],
    replaced,
) -> None:
    counts: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        pair = (variables[row.variable_key].id, row.ref_date)
        counts[pair][0] += 1
        counts[pair][1] += row.status == "suppressed"
    Delivery.objects.bulk_create(
        [
            Delivery(
                import_run=run,
                variable_id=variable_id,
                ref_date=ref_date,
                level=hierarchy.PLANUNGSRAUM,
                values=n,
                suppressed=suppressed,
                replaced=replaced.get((variable_id, ref_date), 0),
            )
            for (variable_id, ref_date), (n, suppressed) in counts.items()
        ]
    )


def _with_ratios(variable_ids: set[int]) -> list[int]:
    ids = set(variable_ids)
    for v in Variable.objects.filter(
        aggregation__in=[Variable.Aggregation.RATIO, Variable.Aggregation.WEIGHTED_MEAN]
    ):
        if {v.numerator_id, v.denominator_id, v.weight_id} & ids:
            ids.add(v.id)
    return sorted(ids)
