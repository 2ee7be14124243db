"""Reads of the Datenpool: catalogue, coverage, values per level and date."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
)

from core.access import user_bezirk_code, user_role
from lor import hierarchy
from lor.models import LorUnit

from .access import (
    facility_layer_public_q,
    facility_layer_visible_q,
    facility_points_q,
    import_run_visible_q,
    variable_visible_q,
)
from .age_structure import BAND_SETS
from .confidentiality import (
    suppression_pattern,
    values_protect,
    values_protect_old_scheme,
    variable_is_confidential,
)
from .lineage import estimated_footnote
from .memo import versioned
from .models import (
    COUNT_SUFFIX,
    Coverage,
    Delivery,
    Facility,
    FacilityLayer,
    ImportRun,
    Indicator,
    Observation,
    Variable,
    VariableComponent,
)
from .themes import ProfileTheme


def variable_list(
    *,
    user: Any,
    q: str = "",
    theme: str = "",
    supplier: int | None = None,
    level: str = "",
) -> QuerySet[Variable]:
    """The catalogue as ``user`` may see it, by text, theme, supplier and level."""
    qs = Variable.objects.filter(variable_visible_q(user)).select_related("supplier")
    if q:
        qs = qs.filter(
            Q(key__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q)
        )
    if theme:
        qs = qs.filter(theme=theme)
    if supplier:
        qs = qs.filter(supplier_id=supplier)
    if level:
        qs = qs.filter(
            Exists(
                Coverage.objects.filter(
                    variable=OuterRef("pk"), level=level, values__gt=0
                )
            )
        )
    return qs.order_by("theme", "key")


def variable_get(*, key: str, user: Any) -> Variable:
    """The variable if ``user`` may see it; ``Variable.DoesNotExist`` otherwise."""

    # Numerator, denominator and weight are Variables too: joining them triples a
    # wide row and costs more to compile than to run; the few readers that need
    # them load them on access.
    def load() -> Variable | None:
        return (
            Variable.objects.filter(variable_visible_q(user))
            .select_related("supplier", "district")
            .filter(key=key)
            .first()
        )

    # Visibility follows role and district only (datapool.access), and release
    # and owner are part of the version a cached API request memoises under.
    variable = versioned(
        ("variable_get", key, user_role(user), user_bezirk_code(user)), load
    )
    if variable is None:
        raise Variable.DoesNotExist(f"no visible variable {key!r}")
    return variable


def variable_coverage(*, variable: Variable) -> dict:
    """Levels × reference dates with the number of values (for the variable page)."""
    rows = list(Coverage.objects.filter(variable=variable))
    dates = sorted({c.ref_date for c in rows})
    levels = [lvl for lvl in LorUnit.Level.values if any(c.level == lvl for c in rows)]
    cells = {(c.level, c.ref_date): c for c in rows}
    return {"dates": dates, "levels": levels, "cells": cells}


@dataclass
class SuppliedBy:
    """A run whose delivered values of a variable are stored for a date."""

    run_id: int
    file: str
    values: int


@dataclass
class DateSupply:
    """Where a variable's values of one reference date come from."""

    ref_date: date
    delivered: list[SuppliedBy]
    # For a harmonised sum not delivered on this date: each component with the
    # runs that delivered it (empty where the component is itself derived).
    components: list[tuple[str, list[SuppliedBy]]]


def variable_supply(*, variable: Variable) -> list[DateSupply]:
    """Per reference date: the delivery (import run, file) the stored values come
    from, or, for a harmonised sum derived on that date, its components'."""
    components = list(
        VariableComponent.objects.filter(total=variable)
        .order_by("pk")
        .values_list("component_id", "component__key")
    )
    ids = [variable.id, *(cid for cid, _key in components)]
    supplied: dict[tuple[int, date], list[SuppliedBy]] = {}
    rows = (
        Observation.objects.filter(variable_id__in=ids, is_aggregate=False)
        .values_list(
            "variable_id", "ref_date", "import_run_id", "import_run__original_name"
        )
        .annotate(n=Count("id"))
        .order_by("ref_date", "import_run_id")
    )
    for variable_id, ref_date, run_id, file, n in rows:
        supplied.setdefault((variable_id, ref_date), []).append(
            SuppliedBy(run_id=run_id, file=file, values=n)
        )
    dates = variable_dates(variable=variable)
    return [
        DateSupply(
            ref_date=d,
            delivered=supplied.get((variable.id, d), []),
            components=[]
            if (variable.id, d) in supplied
            else [(key, supplied.get((cid, d), [])) for cid, key in components],
        )
        for d in dates
    ]


def variable_dates(
    *,
    variable: Variable,
    level: str | None = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> list[date]:
    """The reference dates with values of the variable (at ``level``), oldest first.

    LOR 2021 (and custom areas) read the coverage counts; the old scheme's
    dates come from its own units' observations, since the coverage counts both
    schemes by level together.
    """
    if scheme == LorUnit.Scheme.LOR_2006:
        qs = Observation.objects.filter(
            variable=variable, unit__scheme=LorUnit.Scheme.LOR_2006
        )
        if level:
            qs = qs.filter(unit__level=level)
        return sorted(set(qs.values_list("ref_date", flat=True).distinct()))

    def dates() -> tuple[date, ...]:
        qs = Coverage.objects.filter(variable=variable)
        if level:
            qs = qs.filter(level=level_parse(level)[0])
        # No ordering: Coverage's default ordering joins the variable for nothing.
        return tuple(sorted(set(qs.order_by().values_list("ref_date", flat=True))))

    # Coverage changes only with runs, so the version of a cached request holds.
    return list(versioned(("variable_dates", variable.id, level), dates))


def variable_latest_date(
    *,
    variable: Variable,
    level: str | None = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> date | None:
    dates = variable_dates(variable=variable, level=level, scheme=scheme)
    return dates[-1] if dates else None


def age_bands_at(*, ref_date: date, level: str) -> list[str] | None:
    """The finest age band set (``datapool.age_structure.BAND_SETS``) whose every
    band has values at ``level`` on ``ref_date``; None when no set is complete.

    EWR dates have the fine bands, half-yearly tables' dates only the coarse
    ones; one chart never mixes sets.
    """
    keys = {key for bands in BAND_SETS for key in bands}
    # The same test as ``variable_dates``: a coverage row means the date exists.
    present = set(
        Coverage.objects.filter(
            variable__key__in=keys, level=level_parse(level)[0], ref_date=ref_date
        )
        .order_by()
        .values_list("variable__key", flat=True)
    )
    for bands in BAND_SETS:
        if present.issuperset(bands):
            return list(bands)
    return None


def delivery_kinds_on(*, variable_keys: Iterable[str], ref_date: date) -> list[str]:
    """The kinds of delivery (labels, e.g. "Half-yearly population table (LOR)")
    whose runs stored values of these variables for ``ref_date``.

    A variable delivered by several formats (E_E: EWR matrix and half-yearly
    tables) has one catalogue source; this names the one behind a date.
    """
    kinds = (
        Delivery.objects.filter(
            variable__key__in=list(variable_keys), ref_date=ref_date
        )
        .order_by("import_run__kind")
        .values_list("import_run__kind", flat=True)
        .distinct()
    )
    return [str(ImportRun.Kind(kind).label) for kind in kinds]


def variable_berlin_series(
    *, variable: Variable
) -> list[tuple[date, float | None, str]]:
    """Berlin's values over time; hidden only where a district's total is small."""
    series = list(
        Observation.objects.filter(variable=variable, unit__level=LorUnit.Level.BERLIN)
        .order_by("ref_date")
        .values_list("ref_date", "value", "status")
    )
    if not variable_is_confidential(variable=variable):
        return series
    return [
        (d, None, "suppressed")
        if hierarchy.BERLIN_KEY
        in suppression_pattern(variable=variable, ref_date=d).hidden
        else (d, v, s)
        for d, v, s in series
    ]


@dataclass
class ValueRow:
    code: str
    name: str
    value: float | None
    status: str
    incomplete: bool
    is_aggregate: bool
    note: str
    # A shown total over cells hidden for confidentiality (see confidentiality.py).
    contains_suppressed: bool = False


def level_parse(level: str) -> tuple[str, int | None]:
    """'planungsraum' → ('planungsraum', None); 'custom:7' → ('custom', 7)."""
    if level.startswith("custom:") and level[7:].isdigit():
        return "custom", int(level[7:])
    return level, None


def observation_values(
    *,
    variable: Variable,
    level: str,
    ref_date: date,
    viewer: Any = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> list[ValueRow]:
    """One row per unit of the level as ``viewer`` may see it; no value: 'missing'.

    ``viewer`` is the user the values are shown to; ``None`` (a task, a snapshot)
    gets the protected view. Confidential cells come back as 'suppressed'.
    ``scheme`` picks the LOR scheme of the units (LOR 2021 unless the old one is
    asked for; custom areas have their own).
    """
    level, area_set = level_parse(level)
    if area_set:
        scheme = LorUnit.Scheme.CUSTOM
    extra = "AND u.area_set_id = %s" if area_set else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT u.code, u.name, o.value, coalesce(o.status, 'missing'),
                   coalesce(o.incomplete, false), coalesce(o.is_aggregate, false),
                   coalesce(o.note, '')
            FROM {LorUnit._meta.db_table} u
            LEFT JOIN {Observation._meta.db_table} o
              ON o.unit_id = u.id AND o.variable_id = %s AND o.ref_date = %s
            WHERE u.level = %s AND u.scheme = %s {extra}
            ORDER BY u.code
            """,
            [variable.id, ref_date, level, scheme, *([area_set] if area_set else [])],
        )
        rows = [ValueRow(*row) for row in cursor.fetchall()]
    if scheme == LorUnit.Scheme.LOR_2006:
        return values_protect_old_scheme(variable=variable, rows=rows, viewer=viewer)
    return values_protect(
        variable=variable,
        level=level,
        area_set=area_set,
        ref_date=ref_date,
        rows=rows,
        viewer=viewer,
    )


def import_run_list(*, user: Any) -> QuerySet[ImportRun]:
    """The runs ``user`` may see, newest first."""
    return (
        ImportRun.objects.filter(import_run_visible_q(user))
        .select_related("created_by", "district")
        .order_by("-created_at")
    )


def import_run_get(*, pk: int, user: Any) -> ImportRun:
    """The run if ``user`` may see it; ``ImportRun.DoesNotExist`` otherwise."""
    return (
        ImportRun.objects.filter(import_run_visible_q(user))
        .select_related("created_by", "district")
        .get(pk=pk)
    )


def import_run_variables(*, import_run: ImportRun) -> QuerySet[Variable]:
    return (
        Variable.objects.filter(deliveries__import_run=import_run)
        .distinct()
        .order_by("key")
    )


def import_run_conversions(*, import_run: ImportRun) -> QuerySet[ImportRun]:
    """The conversion runs (LOR 2006 → LOR 2021) of an import, newest first."""
    return ImportRun.objects.filter(
        kind=ImportRun.Kind.CONVERSION, options__source_run=import_run.pk
    ).order_by("-pk")


def indicator_list() -> list:
    """Indicators with their coverage and latest Berlin value, ordered by theme."""
    theme_order = {theme: n for n, theme in enumerate(ProfileTheme.values)}
    indicators = sorted(
        Indicator.objects.select_related("variable", "denominator"),
        key=lambda i: (theme_order.get(i.theme, 99), i.sort_order, i.variable.key),
    )
    coverage: dict[int, list[Coverage]] = {}
    for c in Coverage.objects.filter(variable__in=[i.variable_id for i in indicators]):
        coverage.setdefault(c.variable_id, []).append(c)
    latest = {}
    for variable_id, ref_date, value, status in (
        Observation.objects.filter(
            variable__in=[i.variable_id for i in indicators],
            unit__level=LorUnit.Level.BERLIN,
        )
        .order_by("variable_id", "ref_date")
        .values_list("variable_id", "ref_date", "value", "status")
    ):
        latest[variable_id] = (ref_date, value, status)
    for ind in indicators:
        rows = coverage.get(ind.variable_id, [])
        ind.coverage_dates = sorted({c.ref_date for c in rows})
        ind.coverage_levels = [
            lvl
            for lvl in LorUnit.Level.values
            if any(c.level == lvl and c.values for c in rows)
        ]
        ind.berlin = latest.get(ind.variable_id)
    return indicators


def observation_change(
    *,
    variable: Variable,
    level: str,
    ref_date: date,
    base_date: date,
    kind: str,
    viewer: Any = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> list[dict]:
    """Change per unit between two dates: points for shares, per cent otherwise.

    A change is ``estimated`` when either end is (a value of before the LOR
    reform converted onto LOR 2021 units, say): it is no more exact than they.
    """
    later = {
        r.code: r
        for r in observation_values(
            variable=variable,
            level=level,
            ref_date=ref_date,
            viewer=viewer,
            scheme=scheme,
        )
    }
    earlier = {
        r.code: r
        for r in observation_values(
            variable=variable,
            level=level,
            ref_date=base_date,
            viewer=viewer,
            scheme=scheme,
        )
    }
    rows = []
    for code, now in later.items():
        before = earlier.get(code)
        value = None
        status = "missing"
        if now.value is not None and before is not None and before.value is not None:
            # A change from or to an estimated value is an estimate too.
            known = "estimated" if "estimated" in (now.status, before.status) else "ok"
            if kind == "share":
                value, status = now.value - before.value, known
            elif before.value != 0:
                value, status = (now.value / before.value - 1) * 100, known
        elif "suppressed" in (now.status, before.status if before else None):
            status = "suppressed"
        rows.append(
            {
                "code": code,
                "name": now.name,
                "value": value,
                "status": status,
                "estimated": status == "estimated",
                "incomplete": now.incomplete or bool(before and before.incomplete),
            }
        )
    return rows


@dataclass
class SeriesPoint:
    ref_date: date
    value: float | None  # None where suppressed or missing
    status: str

    @property
    def estimated(self) -> bool:
        return self.status == "estimated"


@dataclass
class UnitSeries:
    code: str
    name: str
    points: list[SeriesPoint]


def observation_series(
    *,
    variable: Variable,
    level: str,
    codes: list[str],
    viewer: Any = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> list[UnitSeries]:
    """The units' values at every reference date of the level, oldest first.

    Read through ``observation_values`` date by date, so every point is what
    the viewer may see there (suppressed stays suppressed, estimated says so).
    ``LookupError`` names the first key that is no unit of the level.
    """
    dates = variable_dates(variable=variable, level=level, scheme=scheme)
    out = {code: UnitSeries(code, "", []) for code in codes}
    for ref_date in dates:
        rows = {
            r.code: r
            for r in observation_values(
                variable=variable,
                level=level,
                ref_date=ref_date,
                viewer=viewer,
                scheme=scheme,
            )
        }
        for code, series in out.items():
            row = rows.get(code)
            if row is None:
                raise LookupError(code)
            series.name = row.name
            shown = row.value is not None and row.status in ("ok", "estimated")
            series.points.append(
                SeriesPoint(ref_date, float(row.value) if shown else None, row.status)
            )
    if not dates and codes:
        base, area_set = level_parse(level)
        units = LorUnit.objects.filter(level=base, code__in=codes)
        units = (
            units.filter(area_set_id=area_set)
            if area_set
            else units.filter(scheme=scheme)
        )
        names = dict(units.values_list("code", "name"))
        for code in codes:
            if code not in names:
                raise LookupError(code)
            out[code].name = names[code]
    return list(out.values())


def facility_layer_list(*, user: Any) -> QuerySet[FacilityLayer]:
    """The layers the user may see, by name; ``points_visible`` says whether the
    user may receive their single facilities (see ``datapool.access``)."""
    return (
        FacilityLayer.objects.filter(facility_layer_visible_q(user))
        .annotate(
            points_visible=ExpressionWrapper(
                facility_points_q(user), output_field=BooleanField()
            )
        )
        .select_related("district")
        .order_by("name")
    )


def facility_layer_public_list() -> QuerySet[FacilityLayer]:
    """The layers every signed-in reader may see (for shared products: profiles)."""
    return FacilityLayer.objects.filter(facility_layer_public_q()).order_by("name")


def facility_layer_for_variable(*, variable: Variable) -> FacilityLayer | None:
    """The layer whose count variable this is, if any."""
    if not variable.key.endswith(COUNT_SUFFIX):
        return None
    key = variable.key.removesuffix(COUNT_SUFFIX).lower()
    return FacilityLayer.objects.filter(key=key).first()


def scheme_param(scheme: str) -> str:
    """The query-string name of a scheme (``lor2021``, ``lor2006``)."""
    return next(
        (p for p, name in hierarchy.SCHEME_PARAMS.items() if name == scheme),
        hierarchy.DEFAULT_SCHEME_PARAM,
    )


class ValuesQueryError(ValueError):
    """A values query that has no answer; ``field`` names the parameter."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def ref_date_check(*, ref_date: date, dates: Iterable[date]) -> None:
    """``ValuesQueryError`` naming the available dates if ``ref_date`` is not one."""
    available = sorted(set(dates))
    if ref_date not in available:
        raise ValuesQueryError(
            "date",
            f"Für diesen Stichtag gibt es keine Werte. Verfügbar: "
            f"{', '.join(d.isoformat() for d in available) or 'keine'}",
        )


def values_answer(
    *,
    user: Any,
    variable_key: str,
    level: str,
    ref_date: date | None = None,
    compare: date | None = None,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> dict[str, Any]:
    """The values of one variable per unit of a level, or their change since a date.

    The answer of ``/api/values/`` (and the base of the map values):
    ``Variable.DoesNotExist`` if ``user`` may not see the variable,
    ``ValuesQueryError`` for a date without values or a custom level asked for
    in the old scheme. ``scheme`` is LOR 2021 unless LOR 2006 is asked for.
    """
    variable = variable_get(key=variable_key, user=user)
    if scheme == LorUnit.Scheme.LOR_2006 and level_parse(level)[1] is not None:
        raise ValuesQueryError(
            "scheme", "Eigene Gebiete gibt es nur im LOR-Schema 2021 (lor2021)."
        )
    dates = variable_dates(variable=variable, level=level, scheme=scheme)
    chosen = ref_date or (dates[-1] if dates else None)
    if ref_date:
        ref_date_check(ref_date=ref_date, dates=dates)
    if compare:
        return _values_change(variable, level, chosen, compare, dates, user, scheme)
    rows = (
        observation_values(
            variable=variable, level=level, ref_date=chosen, viewer=user, scheme=scheme
        )
        if chosen
        else []
    )
    return {
        "variable": variable.key,
        "level": level,
        "scheme": scheme_param(scheme),
        "date": chosen,
        "dates": dates,
        "notes": _estimated_notes(r.status for r in rows),
        "results": [
            {
                "code": r.code,
                "name": r.name,
                "value": r.value,
                "status": r.status,
                "estimated": r.status == "estimated",
                "incomplete": r.incomplete,
                "aggregate": r.is_aggregate,
                "contains_suppressed": r.contains_suppressed,
                "note": r.note,
            }
            for r in rows
        ],
    }


def _estimated_notes(statuses: Iterable[str]) -> list[str]:
    """The footnote naming the crosswalk if any value is estimated."""
    return [estimated_footnote()] if "estimated" in set(statuses) else []


def _values_change(
    variable: Variable,
    level: str,
    ref_date: date | None,
    compare: date,
    dates: list[date],
    viewer: Any,
    scheme: str = LorUnit.Scheme.LOR_2021,
) -> dict[str, Any]:
    if compare not in dates:
        raise ValuesQueryError(
            "compare", "Für diesen Vergleichsstichtag gibt es keine Werte."
        )
    if ref_date is None or compare >= ref_date:
        raise ValuesQueryError(
            "compare", "Der Vergleichsstichtag muss vor dem Stichtag liegen."
        )
    indicator = Indicator.objects.filter(variable=variable).first()
    if indicator is not None:
        kind = indicator.kind
    elif variable.value_type == Variable.ValueType.SHARE:
        kind = "share"
    else:
        kind = "quantity"
    rows = observation_change(
        variable=variable,
        level=level,
        ref_date=ref_date,
        base_date=compare,
        kind=kind,
        viewer=viewer,
        scheme=scheme,
    )
    return {
        "variable": variable.key,
        "level": level,
        "scheme": scheme_param(scheme),
        "date": ref_date,
        "compare": compare,
        "dates": dates,
        "change_unit": "Prozentpunkte" if kind == "share" else "%",
        "notes": _estimated_notes(r.get("status", "") for r in rows),
        "results": [
            {**r, "aggregate": False, "contains_suppressed": False, "note": ""}
            for r in rows
        ],
    }


def facility_list(
    *,
    user: Any,
    layer: FacilityLayer | str | None = None,
    unit: LorUnit | None = None,
) -> QuerySet[Facility]:
    """Facilities the user may receive, of a layer (object or key), inside a LOR
    unit of any level; layers whose points are withheld give none."""
    qs = Facility.objects.select_related("layer", "unit").filter(
        layer__in=FacilityLayer.objects.filter(facility_points_q(user))
    )
    if layer is not None:
        qs = (
            qs.filter(layer=layer)
            if isinstance(layer, FacilityLayer)
            else qs.filter(layer__key=layer)
        )
    if unit is not None:
        # Every facility sits in one Planungsraum; LOR keys nest, so a unit's
        # facilities are those whose Planungsraum key starts with the unit's key.
        qs = qs.filter(
            unit__scheme=unit.scheme, unit__code__startswith=unit.code_prefix
        )
    return qs.order_by("layer__name", "name", "feature_number")


def facility_layer_counts(*, user: Any, layer: FacilityLayer) -> list[ValueRow]:
    """The layer's facilities counted per Planungsraum as ``user`` may see them.

    Read through ``observation_values`` from the count variable at the layer's
    reference date, so small counts are suppressed exactly as in the values API.
    """
    variable = Variable.objects.filter(key=layer.count_variable_key).first()
    if variable is None:
        return []
    ref_date = layer.ref_date or variable_latest_date(
        variable=variable, level=LorUnit.Level.PLANUNGSRAUM
    )
    if ref_date is None:
        return []
    return observation_values(
        variable=variable,
        level=LorUnit.Level.PLANUNGSRAUM,
        ref_date=ref_date,
        viewer=user,
    )


def datapool_version() -> tuple:
    """Changes whenever what a viewer may see may have changed.

    A run finished, areas changed, or a variable's owner, release,
    confidentiality rule, source, licence, supplier or inputs, or an indicator's
    formula changed (compared by content, since bulk updates do not touch
    ``updated_at``).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (SELECT max(id) FROM {ImportRun._meta.db_table}
                    WHERE status = 'succeeded'),
                   (SELECT count(*) FROM {LorUnit._meta.db_table}
                    WHERE level = 'custom'),
                   (SELECT max(id) FROM {LorUnit._meta.db_table}),
                   (SELECT md5(string_agg(concat_ws(':', id, district_id, released,
                                                    confidentiality,
                                                    confidentiality_threshold,
                                                    source, license, supplier_id,
                                                    numerator_id, denominator_id,
                                                    weight_id),
                                          ',' ORDER BY id))
                    FROM {Variable._meta.db_table}),
                   (SELECT md5(string_agg(concat_ws(':', variable_id, formula,
                                                    denominator_id),
                                          ',' ORDER BY variable_id))
                    FROM {Indicator._meta.db_table})
            """
        )
        return tuple(cursor.fetchone())
