"""Publish the supply analysis into the Datenpool (the only writes of the analysis).

For every active ``SupplyRule`` and every reference date with demand data, the
Planungsraum results of ``infrastructure.supply.supply_compute`` become ordinary
Datenpool variables, so the explorer, tables, exports and profiles show them
with legend, classes, sources and licences (``VS_<RULE>_…``, the method in the
name):

* ``_BEDARF``: need = demand × Richtwert (sum)
* ``_ANGEBOT_GRENZEN`` / ``_ANGEBOT_2SFCA``: supply within the Planungsraum /
  capacity reaching it by the 2SFCA (sum)
* ``_VG_GRENZEN`` / ``_VG_2SFCA``: Versorgungsgrad in % = Angebot / Bedarf × 100,
  a ratio the Datenpool recomputes from the sums at every level and custom area
* ``_DEFIZIT_GRENZEN`` / ``_DEFIZIT_2SFCA``: Fehlbedarf, the Planungsräume'
  deficits summed (a surplus elsewhere does not fill a gap)

The Datenpool's aggregation gives exactly ``supply_aggregate``: sums, and the
ratio of the sums (the demand-weighted accessibility for the 2SFCA).

The register's facilities are drawn in the explorer through their type's
facility layer, which the register itself republishes after every change
(``infrastructure.maintenance.facility_layer_publish``).
"""

from __future__ import annotations

import math
from datetime import date

from django.db import transaction
from django.utils import timezone

from datapool.models import Delivery, ImportRun, Observation, Variable
from datapool.parsers.contract import (
    ObservationRow,
    VariableSpec,
)
from datapool.services.aggregation import observations_aggregate
from datapool.services.catalogue import variables_upsert
from datapool.services.indicators import indicator_compute, indicators_for_variables
from datapool.services.observations import coverage_refresh, observations_replace
from datapool.themes import Theme
from lor import hierarchy
from lor.models import LorUnit

from .models import Facility, SupplyRule
from .supply import (
    CATCHMENT,
    METHOD_LABELS,
    WITHIN,
    SupplyResult,
    supply_compute,
    supply_dates,
    supply_rule_list,
)

SOURCE = "PRISMA-Versorgungsanalyse"


def _number(value) -> str:
    return f"{value:,.3f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")


def supply_variable_keys(*, rule: SupplyRule) -> dict[str, str]:
    """The Datenpool keys of a rule's published variables, by role."""
    p = rule.variable_prefix
    return {
        "need": f"{p}_BEDARF",
        f"supply_{WITHIN}": f"{p}_ANGEBOT_GRENZEN",
        f"supply_{CATCHMENT}": f"{p}_ANGEBOT_2SFCA",
        f"grade_{WITHIN}": f"{p}_VG_GRENZEN",
        f"grade_{CATCHMENT}": f"{p}_VG_2SFCA",
        f"deficit_{WITHIN}": f"{p}_DEFIZIT_GRENZEN",
        f"deficit_{CATCHMENT}": f"{p}_DEFIZIT_2SFCA",
    }


def _theme(rule: SupplyRule) -> str:
    return (
        Theme.GRUEN
        if rule.facility_type.key == "gruenanlage"
        else (Theme.INFRASTRUKTUR)
    )


def _specs(rule: SupplyRule) -> list[VariableSpec]:
    """The catalogue entries; their texts follow the rule (see ``_documented``)."""
    keys = supply_variable_keys(rule=rule)
    unit = rule.facility_type.capacity_unit
    source = (
        f"{SOURCE}: Einrichtungsregister ({rule.facility_type.source or 'PRISMA'}); "
        f"Bedarf aus dem Datenpool ({rule.demand_formula})"
    )[:300]
    license_ = rule.facility_type.license[:120]
    common = {"theme": _theme(rule), "source": source, "license": license_}
    specs = [
        VariableSpec(
            key=keys["need"],
            name=f"{rule.name}: Bedarf",
            unit=unit,
            value_type="amount",
            aggregation="sum",
            **common,
        )
    ]
    for method in (WITHIN, CATCHMENT):
        label = METHOD_LABELS[method]
        specs += [
            VariableSpec(
                key=keys[f"supply_{method}"],
                name=f"{rule.name}: Angebot ({label})",
                unit=unit,
                value_type="amount",
                aggregation="sum",
                **common,
            ),
            VariableSpec(
                key=keys[f"deficit_{method}"],
                name=f"{rule.name}: Fehlbedarf ({label})",
                unit=unit,
                value_type="amount",
                aggregation="sum",
                **common,
            ),
            VariableSpec(
                key=keys[f"grade_{method}"],
                name=f"{rule.name}: Versorgungsgrad ({label})",
                unit="%",
                value_type="share",
                aggregation="ratio",
                numerator=keys[f"supply_{method}"],
                denominator=keys["need"],
                factor=100.0,
                **common,
            ),
        ]
    return specs


def _documented(rule: SupplyRule) -> dict[str, tuple[str, str, str]]:
    """Name, description and definition of each variable, from the rule."""
    keys = supply_variable_keys(rule=rule)
    unit = rule.facility_type.capacity_unit
    richtwert = (
        f"Richtwert {_number(rule.richtwert)} {rule.richtwert_unit}"
        + (" (Annahme)" if rule.richtwert_is_assumption else "")
        + f". Quelle: {rule.richtwert_source}"
    )
    minimum = (
        f" Einrichtungen unter {_number(rule.min_capacity)} {unit} zählen nicht."
        if rule.min_capacity is not None
        else ""
    )
    need = (
        f"Bedarf = {rule.demand_label} ({rule.demand_formula}) × Richtwert, in "
        f"{unit}. {richtwert}"
    )
    within = (
        "Innerhalb der Grenzen: Kapazität der Einrichtungen im Planungsraum "
        "(Einrichtungen ohne Lage zählen in ihrem eingetragenen Planungsraum)."
        + minimum
    )
    catchment = (
        "Einzugsbereich, 2SFCA (two-step floating catchment area): Schritt 1 teilt "
        "die Kapazität jeder Einrichtung durch die Nachfrage aller Planungsräume, "
        f"deren Bevölkerungspunkt (ST_PointOnSurface) höchstens {rule.catchment_m} m "
        "Luftlinie entfernt liegt; Schritt 2 summiert für jeden Planungsraum diese "
        "Quoten aller Einrichtungen in dieser Entfernung und multipliziert mit "
        "seiner Nachfrage (erreichbare Kapazität). Einrichtungen ohne Lage liegen "
        "am Bevölkerungspunkt ihres Planungsraums." + minimum
    )
    levels = (
        " Höhere Ebenen und eigene Gebiete: Summe der Planungsräume; der "
        "Versorgungsgrad ist der Quotient der Summen (beim 2SFCA das mit der "
        "Nachfrage gewichtete Mittel)."
    )
    deficit = (
        " Fehlbedarf = Bedarf − Angebot, wo positiv, je Planungsraum; höhere Ebenen "
        "summieren die Fehlbedarfe der Planungsräume (ein Überschuss in einem "
        "Planungsraum gleicht den Fehlbedarf eines anderen nicht aus)."
    )
    result = {
        keys["need"]: (f"{rule.name}: Bedarf", need, need + levels),
    }
    for method, text in ((WITHIN, within), (CATCHMENT, catchment)):
        label = METHOD_LABELS[method]
        result[keys[f"supply_{method}"]] = (
            f"{rule.name}: Angebot ({label})",
            text,
            text + levels,
        )
        result[keys[f"grade_{method}"]] = (
            f"{rule.name}: Versorgungsgrad ({label})",
            f"Angebot / Bedarf × 100 (100 % = Richtwert erfüllt). {text}",
            f"Versorgungsgrad = Angebot ({label}) / Bedarf × 100. {need}{levels}",
        )
        result[keys[f"deficit_{method}"]] = (
            f"{rule.name}: Fehlbedarf ({label})",
            f"Fehlende Kapazität in {unit}. {text}",
            f"{need}{deficit}",
        )
    return result


def _rows(rule: SupplyRule, result: SupplyResult) -> list[ObservationRow]:
    """Delivered rows per Planungsraum; unknown demand keeps its status."""
    keys = supply_variable_keys(rule=rule)
    on = result.ref_date
    rows = []
    for code, unit in result.units.items():
        known = unit.demand is not None
        # Estimated demand (e.g. converted across the LOR reform) stays marked.
        ok = "estimated" if unit.demand_status == "estimated" else "ok"
        gap = "suppressed" if unit.demand_status == "suppressed" else "missing"
        values = [
            (keys["need"], unit.need),
            (keys[f"supply_{CATCHMENT}"], unit.supply_catchment),
            (keys[f"deficit_{WITHIN}"], unit.deficit(WITHIN)),
            (keys[f"deficit_{CATCHMENT}"], unit.deficit(CATCHMENT)),
        ]
        # The supply within the borders does not depend on the demand.
        rows.append(
            ObservationRow(
                keys[f"supply_{WITHIN}"], code, on, unit.supply_within, "ok", ""
            )
        )
        for key, value in values:
            if known and value is not None:
                rows.append(ObservationRow(key, code, on, value, ok, ""))
            else:
                rows.append(
                    ObservationRow(key, code, on, None, gap, "Nachfrage unbekannt")
                )
    return rows


def _already_published(
    rows: list[ObservationRow], documented: dict[str, tuple[str, str, str]]
) -> bool:
    """Whether exactly these values and texts are in the Datenpool already."""
    texts = {
        v.key: (v.name, v.description, v.definition)
        for v in Variable.objects.filter(key__in=list(documented))
    }
    if texts != {k: (n[:200], d, f) for k, (n, d, f) in documented.items()}:
        return False
    keys = {r.variable_key for r in rows}
    dates = {r.ref_date for r in rows}
    stored = {
        (key, code, on): (value, status)
        for key, code, on, value, status in Observation.objects.filter(
            variable__key__in=keys,
            ref_date__in=dates,
            is_aggregate=False,
            unit__level=LorUnit.Level.PLANUNGSRAUM,
        ).values_list("variable__key", "unit__code", "ref_date", "value", "status")
    }
    if len(stored) != len(rows):
        return False
    for row in rows:
        value, status = stored.get(
            (row.variable_key, row.unit_code, row.ref_date), (None, None)
        )
        if status != row.status:
            return False
        if (value is None) != (row.value is None) or (
            value is not None
            and not math.isclose(value, row.value, rel_tol=1e-12, abs_tol=1e-9)
        ):
            return False
    return True


@transaction.atomic
def supply_rule_publish(
    *, rule: SupplyRule, ref_dates: list[date] | None = None
) -> dict:
    """Compute the rule on every date with demand data (or the given ones) and
    write the results into the Datenpool as one computation run.

    Aggregates, custom areas, coverage and the indicators built on the
    variables (KI_KITA) are recomputed.
    """
    if not Facility.objects.filter(
        facility_type=rule.facility_type, capacity__isnull=False
    ).exists():
        # An empty register is no supply of 0: nothing is published until the
        # type's facilities are imported.
        return {"rule": rule.key, "dates": [], "values": 0, "no_facilities": True}
    dates = sorted(ref_dates) if ref_dates is not None else supply_dates(rule=rule)
    if not dates:
        return {"rule": rule.key, "dates": [], "values": 0}
    rows: list[ObservationRow] = []
    counted = {}
    for on in dates:
        result = supply_compute(rule=rule, ref_date=on)
        counted[on.isoformat()] = result.facilities_counted
        rows.extend(_rows(rule, result))
    documented = _documented(rule)
    if _already_published(rows, documented):
        # Running it again changes nothing (``make run`` calls it every time).
        return {
            "rule": rule.key,
            "dates": [d.isoformat() for d in dates],
            "values": 0,
            "unchanged": True,
            "facilities_counted": counted,
            "indicators": [],
        }
    now = timezone.now()
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.COMPUTATION,
        status=ImportRun.Status.SUCCEEDED,
        original_name=f"Versorgungsanalyse „{rule.name}“",
        options={"supply_rule": rule.key, "ref_dates": [d.isoformat() for d in dates]},
        started_at=now,
        finished_at=now,
        percent=100,
    )
    variables = variables_upsert(
        specs=_specs(rule), supplier=None, lowest_level=hierarchy.PLANUNGSRAUM
    )
    # The rule is the home of these texts: an edited Richtwert shows at once.
    for key, (name, description, definition) in documented.items():
        Variable.objects.filter(key=key).update(
            name=name[:200], description=description, definition=definition
        )
    delivered = {
        k: v for k, v in variables.items() if v.aggregation == Variable.Aggregation.SUM
    }
    result_write = observations_replace(import_run=run, rows=rows, variables=delivered)
    aggregated = observations_aggregate(
        variables=list(variables.values()), ref_dates=dates, import_run=run
    )
    Delivery.objects.bulk_create(
        [
            Delivery(
                import_run=run,
                variable_id=v.id,
                ref_date=on,
                level=result_write.levels[(v.id, on)],
                values=sum(
                    1 for r in rows if r.variable_key == key and r.ref_date == on
                ),
                replaced=result_write.replaced.get((v.id, on), 0),
            )
            for key, v in delivered.items()
            for on in dates
        ]
    )
    var_ids = [v.id for v in variables.values()]
    Variable.objects.filter(id__in=var_ids).update(last_delivery=timezone.localdate())
    coverage_refresh(variable_ids=var_ids, ref_dates=dates)
    indicators = indicators_for_variables(variable_ids=var_ids)
    computed = sum(indicator_compute(indicator=i, run=run) for i in indicators)
    coverage_refresh(variable_ids=[i.variable_id for i in indicators])
    summary = {
        "rule": rule.key,
        "dates": [d.isoformat() for d in dates],
        "values": result_write.written,
        "aggregates": aggregated,
        "facilities_counted": counted,
        "indicators": sorted(i.variable.key for i in indicators),
        "indicator_values": computed,
    }
    run.rows_written = result_write.written
    run.summary = summary
    run.save(update_fields=["rows_written", "summary"])
    return summary


def supply_publish_all(*, rule_keys: list[str] | None = None) -> dict:
    """Publish every active rule (or the named ones)."""
    rules = supply_rule_list()
    if rule_keys is not None:
        rules = [r for r in rules if r.key in rule_keys]
    return {"rules": [supply_rule_publish(rule=rule) for rule in rules]}
