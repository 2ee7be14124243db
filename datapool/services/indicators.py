"""Indicator values: formulas over Datenpool variables, computed set-based in SQL.

Each indicator is evaluated per unit and reference date on the values of its
inputs at that unit. Inputs that are counts carry aggregates at every level, so a
share for a Bezirksregion is its summed numerator over its summed denominator —
never an average of Planungsraum shares. Values whose denominator is below the
indicator's minimum are not shown; suppressed inputs give a suppressed result.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.db import connection, transaction

from lor import hierarchy
from lor.models import LorUnit

from ..formula import formula_to_sql, formula_variables
from ..models import Coverage, ImportRun, Indicator, Observation, Variable
from ..mss_index import mss_index_compute
from ..themes import Theme, catalogue_theme
from .aggregation import observations_aggregate_custom
from .harmonisation import harmonised_sums_derive, variable_components_load
from .observations import coverage_refresh, observation_statistics_refresh
from .runs import RunExecution, RunLost, run_execute, run_send_on_commit

logger = logging.getLogger(__name__)
OBS = Observation._meta.db_table
UNIT = LorUnit._meta.db_table


def indicators_for_variables(*, variable_ids: Iterable[int]) -> list[Indicator]:
    """Indicators that use any of these variables as an input."""
    keys = set(
        Variable.objects.filter(id__in=list(variable_ids)).values_list("key", flat=True)
    )
    return [
        ind
        for ind in Indicator.objects.select_related("variable", "denominator")
        if keys & set(formula_variables(ind.formula))
        or (ind.denominator and ind.denominator.key in keys)
    ]


def indicator_inputs(*, indicator: Indicator) -> tuple[dict[str, Variable], list[str]]:
    """The input variables the catalogue has, and the keys it lacks."""
    keys = formula_variables(indicator.formula)
    found = {v.key: v for v in Variable.objects.filter(key__in=keys)}
    return found, [k for k in keys if k not in found]


def indicator_compute(
    *, indicator: Indicator, run: ImportRun, ref_dates: Iterable[date] | None = None
) -> int:
    """(Re)compute one indicator for every unit and the given (or all) dates."""
    inputs, missing = indicator_inputs(indicator=indicator)
    base = indicator.denominator or (next(iter(inputs.values())) if inputs else None)
    with connection.cursor() as cursor:
        if missing or base is None:
            # Defined but without data until a delivery brings the inputs.
            cursor.execute(
                f"DELETE FROM {OBS} WHERE variable_id = %s", [indicator.variable_id]
            )
            return 0
        dates = (
            _dates_using(indicator=indicator, base=base, ref_dates=ref_dates)
            if ref_dates is not None
            else None
        )
        if dates == []:
            return 0
        date_filter = "AND b.ref_date = ANY(%(dates)s)" if dates is not None else ""
        cursor.execute(
            f"DELETE FROM {OBS} WHERE variable_id = %(ind)s "
            + ("AND ref_date = ANY(%(dates)s)" if dates is not None else ""),
            {"ind": indicator.variable_id, "dates": dates},
        )
        aliases = {key: f"i{n}" for n, key in enumerate(inputs)}
        joins = []
        for key, alias in aliases.items():
            if indicator.max_input_age_days:
                joins.append(
                    f"""LEFT JOIN LATERAL (
                        SELECT value, status, incomplete FROM {OBS}
                        WHERE variable_id = {inputs[key].id} AND unit_id = b.unit_id
                          AND ref_date <= b.ref_date
                          AND ref_date >= b.ref_date - %(age)s
                        ORDER BY ref_date DESC LIMIT 1) {alias} ON true"""
                )
            else:
                joins.append(
                    f"LEFT JOIN {OBS} {alias} "
                    f"ON {alias}.variable_id = {inputs[key].id} "
                    f"AND {alias}.unit_id = b.unit_id AND {alias}.ref_date = b.ref_date"
                )
        expr = formula_to_sql(indicator.formula, lambda k: f"{aliases[k]}.value")
        statuses = [f"{a}.status" for a in aliases.values()]
        all_ok = " AND ".join(
            f"coalesce({s}, 'missing') IN ('ok', 'estimated')" for s in statuses
        )
        any_suppressed = " OR ".join(f"{s} = 'suppressed'" for s in statuses)
        any_estimated = " OR ".join(f"{s} = 'estimated'" for s in statuses)
        any_incomplete = " OR ".join(
            f"coalesce({a}.incomplete, false)" for a in aliases.values()
        )
        # Which inputs a date lacks is named, so that a date whose delivery
        # breaks the population down differently never goes missing silently.
        lacking = ", ".join(
            f"CASE WHEN coalesce({alias}.status, 'missing') NOT IN "
            f"('ok', 'estimated') THEN %(key_{alias})s END"
            for alias in aliases.values()
        )
        den_ok = "b.value >= %(min)s" if indicator.min_denominator else "true"
        cursor.execute(
            f"""
            INSERT INTO {OBS} (variable_id, unit_id, ref_date, value, status,
                               is_aggregate, incomplete, note, import_run_id)
            SELECT %(ind)s, b.unit_id, b.ref_date, v.value,
                   CASE WHEN v.value IS NOT NULL AND ({any_estimated}) THEN 'estimated'
                        WHEN v.value IS NOT NULL THEN 'ok'
                        WHEN {any_suppressed} OR b.status = 'suppressed'
                             THEN 'suppressed'
                        ELSE 'missing' END,
                   true,
                   {any_incomplete} OR b.incomplete,
                   CASE WHEN v.value IS NOT NULL OR {any_suppressed} THEN ''
                        WHEN NOT ({all_ok}) THEN left('Eingangswerte fehlen: '
                             || concat_ws(', ', {lacking}), 200)
                        WHEN NOT ({den_ok}) THEN %(below)s
                        ELSE 'Nenner ist 0' END,
                   %(run)s
            FROM {OBS} b
            JOIN {UNIT} u ON u.id = b.unit_id
            {" ".join(joins)}
            CROSS JOIN LATERAL (
                SELECT CASE WHEN ({all_ok}) AND b.status IN ('ok', 'estimated')
                             AND {den_ok} THEN {expr} END AS value
            ) v
            WHERE b.variable_id = %(base)s {date_filter}
              -- Values in old keys are the input of a conversion, not shown.
              AND u.scheme <> %(old)s
            """,
            {
                "old": LorUnit.Scheme.LOR_2006,
                "ind": indicator.variable_id,
                "base": base.id,
                "dates": dates,
                "age": indicator.max_input_age_days,
                "min": indicator.min_denominator,
                "below": f"weniger als {indicator.min_denominator:g} im Nenner",
                "run": run.id,
                **{f"key_{alias}": key for key, alias in aliases.items()},
            },
        )
        return cursor.rowcount


def _dates_using(
    *, indicator: Indicator, base: Variable, ref_dates: Iterable[date]
) -> list[date]:
    """The indicator's dates whose values may use inputs of these dates.

    Without an input age only the same dates; with one (inputs may be older, e.g.
    Kita places against population) also the base's later dates within that age.
    """
    dates = set(ref_dates)
    if indicator.max_input_age_days and dates:
        age = timedelta(days=indicator.max_input_age_days)
        earliest, latest = min(dates), max(dates) + age
        later = Coverage.objects.filter(
            variable=base, ref_date__gte=earliest, ref_date__lte=latest
        ).values_list("ref_date", flat=True)
        dates |= {b for b in later if any(b - age <= d <= b for d in ref_dates)}
    return sorted(dates)


def indicators_compute(
    *,
    run: ImportRun,
    indicators: list[Indicator],
    ref_dates: Iterable[date] | None = None,
    progress=None,
) -> dict:
    """Recompute indicators and, if the run asks, custom areas; caller is atomic.

    With ``ref_dates`` (the dates an import delivered) only the values that can
    depend on those dates are touched, so the work per delivery does not grow
    with the number of dates stored.
    """
    ref_dates = sorted(set(ref_dates)) if ref_dates is not None else None
    written = 0
    if run.options.get("harmonise"):
        # A full recomputation first derives every harmonised sum for every
        # date, so no indicator skips a date whose delivery breaks the
        # population down differently.
        derived = harmonised_sums_derive(import_run=run)
        coverage_refresh(variable_ids=derived)
    if run.options.get("custom_areas"):
        written += observations_aggregate_custom(import_run=run)
        coverage_refresh(
            variable_ids=list(Variable.objects.values_list("id", flat=True))
        )
    for n, indicator in enumerate(indicators):
        written += indicator_compute(indicator=indicator, run=run, ref_dates=ref_dates)
        if progress:
            progress(n + 1, len(indicators))
    touched = None
    if ref_dates is not None:
        touched = sorted(
            {d for i in indicators for d in _dates_using_any(i, ref_dates)}
        )
    coverage_refresh(
        variable_ids=[i.variable_id for i in indicators], ref_dates=touched
    )
    mss = mss_index_store(run=run, ref_dates=ref_dates)
    return {"indicators": len(indicators), "values": written, "mss": mss}


def _dates_using_any(indicator: Indicator, ref_dates: list[date]) -> list[date]:
    inputs, missing = indicator_inputs(indicator=indicator)
    base = indicator.denominator or (next(iter(inputs.values())) if inputs else None)
    if missing or base is None:
        return []
    return _dates_using(indicator=indicator, base=base, ref_dates=ref_dates)


def indicator_definitions_load(*, path=None) -> int:
    """Create or update the indicator definitions kept in the project's CSV file.

    The harmonised sum variables the formulas use are loaded first
    (``datapool/metadata/variable_components.csv``).
    """
    variable_components_load()
    path = Path(
        path
        or Path(settings.BASE_DIR) / "datapool" / "metadata" / "kernindikatoren.csv"
    )
    count = 0
    with path.open(encoding="utf-8", newline="") as fh, transaction.atomic():
        reader = csv.DictReader(fh, delimiter=";")
        for row in reader:
            if None in row:
                # An unquoted ";" in a text would silently cut it off.
                raise ValueError(
                    f"{path.name}, Zeile {reader.line_num}: mehr Spalten als die "
                    "Kopfzeile (ein „;“ im Text? Den Text in Anführungszeichen "
                    "setzen)."
                )
            variable, _ = Variable.objects.update_or_create(
                key=row["key"],
                defaults={
                    "name": row["name"],
                    "description": row["documentation"],
                    "definition": row["formula"],
                    "theme": catalogue_theme(row["theme"]),
                    "unit": row["unit"],
                    "value_type": Variable.ValueType.SHARE
                    if row["kind"] == "share"
                    else Variable.ValueType.AMOUNT,
                    "aggregation": Variable.Aggregation.NONE,
                    "source": "PRISMA: berechnet aus dem Datenpool",
                    "lowest_level": _lowest_level(row),
                },
            )
            indicator = Indicator.objects.filter(
                variable=variable
            ).first() or Indicator(variable=variable)
            indicator.theme = row["theme"]
            indicator.sort_order = int(row["sort"])
            indicator.formula = row["formula"]
            indicator.kind = row["kind"]
            indicator.direction = row["direction"]
            indicator.min_denominator = float(row["min_denominator"] or 0)
            indicator.max_input_age_days = int(row["max_input_age_days"] or 0)
            indicator.documentation = row["documentation"]
            indicator.denominator = _placeholder_variable(row["denominator"])
            indicator.full_clean()
            indicator.save()
            count += 1
    return count


def _lowest_level(row: dict[str, str]) -> str:
    """The finest level all delivered inputs reach (Planungsraum before delivery).

    An indicator over an input delivered per Bezirksregion (the crime atlas) has
    no values below it, and its catalogue page says so.
    """
    keys = set(formula_variables(row["formula"])) | {row["denominator"]} - {""}
    delivered = Variable.objects.filter(key__in=keys, metadata_complete=True)
    levels = [v.lowest_level for v in delivered if v.lowest_level in hierarchy.LEVELS]
    return min(levels, key=hierarchy.level_index, default=hierarchy.PLANUNGSRAUM)


def _placeholder_variable(key: str) -> Variable | None:
    """The denominator variable, defined in the catalogue ahead of its delivery."""
    if not key:
        return None
    variable, created = Variable.objects.get_or_create(
        key=key,
        defaults={
            "name": key,
            "metadata_complete": False,
            "description": "Eingangsgröße eines Indikators; noch nicht geliefert.",
        },
    )
    return variable


def indicator_run_create(
    *,
    variable_ids: Iterable[int] | None = None,
    ref_dates: Iterable[date] | None = None,
    user=None,
    custom_areas: bool = False,
) -> ImportRun | None:
    """A computation run for the indicators using these variables (or all).

    With ``ref_dates`` (an import's delivered dates) it recomputes only what
    those dates can change; without, every date.
    """
    if variable_ids is None:
        count = Indicator.objects.count()
        ids = None
    else:
        affected = indicators_for_variables(variable_ids=variable_ids)
        if not affected:
            return None
        count = len(affected)
        ids = [i.pk for i in affected]
    return ImportRun.objects.create(
        kind=ImportRun.Kind.COMPUTATION,
        original_name=(
            f"Eigene Gebiete und Indikatoren ({count})"
            if custom_areas
            else f"Indikatoren ({count})"
        ),
        options={
            "indicator_ids": ids,
            "custom_areas": custom_areas,
            "harmonise": variable_ids is None,
            "ref_dates": (
                sorted({d.isoformat() for d in ref_dates})
                if ref_dates is not None
                else None
            ),
        },
        created_by=user if user and user.is_authenticated else None,
        status=ImportRun.Status.QUEUED,
    )


def indicator_run_enqueue(
    *,
    variable_ids: Iterable[int] | None = None,
    ref_dates: Iterable[date] | None = None,
    user=None,
    custom_areas: bool = False,
) -> ImportRun | None:
    """Create the computation run and hand it to the worker once the caller commits.

    None when no indicator uses the given variables.
    """
    run = indicator_run_create(
        variable_ids=variable_ids,
        ref_dates=ref_dates,
        user=user,
        custom_areas=custom_areas,
    )
    if run is not None:
        run_send_on_commit(run=run)
    return run


def indicator_run_execute(*, run: ImportRun) -> ImportRun:
    """Run a computation run: its indicators for its dates (or all), with progress."""
    ids = run.options.get("indicator_ids")
    dates = run.options.get("ref_dates")
    ref_dates = [date.fromisoformat(d) for d in dates] if dates is not None else None
    indicators = list(Indicator.objects.select_related("variable", "denominator"))
    if ids is not None:
        indicators = [i for i in indicators if i.pk in set(ids)]

    def work(execution: RunExecution) -> None:
        try:
            with transaction.atomic():
                summary = indicators_compute(
                    run=run,
                    indicators=indicators,
                    ref_dates=ref_dates,
                    progress=lambda done, total: execution.progress(
                        "compute", done, total
                    ),
                )
                execution.succeed(rows_written=summary["values"], summary=summary)
            observation_statistics_refresh()
        except RunLost:
            logger.warning("indicator run %s lost its run; nothing written", run.pk)
        except Exception as exc:
            logger.exception("indicator run %s failed", run.pk)
            execution.fail(
                f"Die Indikatoren konnten nicht berechnet werden; es wurde nichts "
                f"geändert. ({type(exc).__name__}: {exc})",
                [],
            )

    return run_execute(run=run, work=work)


MSS_INPUTS = {
    "EW": "MSS_EW",
    "S1": "MSS_S1",
    "S3": "MSS_S3",
    "S4": "MSS_S4",
    "D1": "MSS_D1",
    "D3": "MSS_D3",
    "D4": "MSS_D4",
}
MSS_OUTPUTS = {
    "SI_N": (
        "PRISMA_MSS_SI_N",
        "MSS Statusindex (von PRISMA berechnet)",
        "Klasse 1–4",
    ),
    "DI_N": (
        "PRISMA_MSS_DI_N",
        "MSS Dynamikindex (von PRISMA berechnet)",
        "Klasse 1/3/5",
    ),
    "SDI_N": (
        "PRISMA_MSS_SDI_N",
        "MSS Gesamtindex (von PRISMA berechnet)",
        "Klasse",
    ),
}


def mss_index_store(*, run: ImportRun, ref_dates: list[date] | None = None) -> dict:
    """Recompute the MSS classes from the index indicators in the Datenpool.

    The classes are written as variables beside the published ones, per
    reference date the inputs have; the run summary records the agreement with the
    published classes (MSS_SI_N, MSS_DI_N, MSS_SDI_N) where those exist. With
    ``ref_dates`` only those dates are recomputed.
    """
    inputs = Observation.objects.filter(
        variable__key__in=MSS_INPUTS.values(),
        unit__level=LorUnit.Level.PLANUNGSRAUM,
        unit__scheme=LorUnit.Scheme.LOR_2021,
    )
    if ref_dates is not None:
        inputs = inputs.filter(ref_date__in=ref_dates)
    rows = list(
        inputs.values_list(
            "variable__key", "unit__code", "unit_id", "ref_date", "value", "note"
        )
    )
    if not rows:
        return {}
    by_key = {v: k for k, v in MSS_INPUTS.items()}
    frame = pd.DataFrame(
        rows, columns=["key", "PLR_ID", "unit_id", "ref_date", "value", "note"]
    )
    results: dict = {}
    for ref_date, part in frame.groupby("ref_date"):
        wide = part.pivot_table(
            index=["PLR_ID", "unit_id"], columns="key", values="value", aggfunc="first"
        ).rename(columns=by_key)
        if set(MSS_INPUTS) - set(wide.columns):
            continue
        # The MSS marks outliers and small PLRs as invalid ("KOM"); the import keeps
        # that reason as the note of the missing index values.
        invalid = set(part.loc[part["note"].str.startswith("ungültig"), "PLR_ID"])
        wide = wide.reset_index()
        wide["VALID"] = ~wide["PLR_ID"].isin(invalid)
        computed = mss_index_compute(
            wide[["PLR_ID", "EW", *list(MSS_INPUTS)[1:], "VALID"]]
        )
        computed["unit_id"] = wide["unit_id"].to_numpy()
        written = _mss_write(run=run, ref_date=ref_date, computed=computed)
        results[ref_date.isoformat()] = {
            "values": written,
            **_mss_agreement(ref_date=ref_date, computed=computed),
        }
    return results


def _mss_write(*, run: ImportRun, ref_date: date, computed) -> int:
    written = 0
    variable_ids = []
    for column, (key, name, unit) in MSS_OUTPUTS.items():
        variable, _ = Variable.objects.update_or_create(
            key=key,
            defaults={
                "name": name,
                "unit": unit,
                "theme": Theme.SOZIALES,
                "value_type": Variable.ValueType.CLASS,
                "aggregation": Variable.Aggregation.NONE,
                "source": "PRISMA: nach der Methode des MSS 2021 berechnet "
                "(docs/mss_index.md)",
                "description": "Aus den Indexindikatoren S1, S3, S4, D1, D3, D4 "
                "berechnet; Planungsräume unter 300 Einwohnern und Ausreißer ohne "
                "Klasse.",
            },
        )
        variable_ids.append(variable.id)
        Observation.objects.filter(variable=variable, ref_date=ref_date).delete()
        objs = [
            Observation(
                variable=variable,
                unit_id=int(unit_id),
                ref_date=ref_date,
                value=None if pd_isna(value) else float(value),
                status="missing" if pd_isna(value) else "ok",
                note="ohne Klasse (ungültig)" if pd_isna(value) else "",
                is_aggregate=True,
                import_run=run,
            )
            for unit_id, value in zip(
                computed["unit_id"], computed[column], strict=True
            )
        ]
        Observation.objects.bulk_create(objs)
        written += len(objs)
    coverage_refresh(variable_ids=variable_ids, ref_dates=[ref_date])
    return written


def pd_isna(value) -> bool:
    return bool(pd.isna(value))


def _mss_agreement(*, ref_date: date, computed) -> dict:
    published = dict(
        Observation.objects.filter(
            variable__key="MSS_SI_N", ref_date=ref_date, status="ok"
        ).values_list("unit__code", "value")
    )
    if not published:
        return {}
    agreement = {}
    for column, key in (
        ("SI_N", "MSS_SI_N"),
        ("DI_N", "MSS_DI_N"),
        ("SDI_N", "MSS_SDI_N"),
    ):
        pub = dict(
            Observation.objects.filter(
                variable__key=key, ref_date=ref_date, status="ok"
            ).values_list("unit__code", "value")
        )
        mine = {
            code: int(v)
            for code, v in zip(computed["PLR_ID"], computed[column], strict=True)
            if not pd_isna(v)
        }
        same = sum(1 for code, v in pub.items() if mine.get(code) == int(v))
        agreement[column] = {"agree": same, "total": len(pub)}
    return {"agreement": agreement}
