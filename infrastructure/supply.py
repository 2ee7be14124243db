"""Supply analysis (Versorgungsanalyse): facility capacity against demand, per LOR unit.

Reads only; ``infrastructure/supply_publish.py`` writes the results into the
Datenpool. A scenario passes its own facility set (``facilities_override``) and
gets the same numbers without anything being written.

Definitions, for a ``SupplyRule`` and a reference date t, per Planungsraum i:

* **Demand** d_i: the rule's demand formula (e.g. ``E_E1U6``) over the
  Datenpool values of i at t. A suppressed or missing input makes d_i unknown.
* **Need** (Bedarf) N_i = d_i × Richtwert, in the facility type's unit.
* **Facilities that count** on t: valid_from ≤ t < valid_to (open ends count;
  the dates decide, not the status), capacity recorded and not below the rule's
  minimum capacity.
* **Location** of a facility: its geometry. A facility without geometry (the
  Geoportal playground and green-space tables deliver only the Planungsraum)
  sits at the population point of its Planungsraum.
* **Population point** of a Planungsraum: ``ST_PointOnSurface`` of its
  polygon. Unlike the centroid it always lies inside, also for concave or
  multi-part units. All residents of i are taken to live there.

Two methods; every published number names its method:

(a) **innerhalb der Grenzen**: S_i = Σ capacity of the facilities in i: their
    registered Planungsraum, or for a facility placed anew (a scenario) the
    Planungsraum holding its geometry's ``ST_PointOnSurface``.
(b) **Einzugsbereich, 2SFCA** (two-step floating catchment area, Luo & Wang
    2003), with catchment distance D (straight line, metres, EPSG:25833):
    step 1, per facility j: R_j = c_j / Σ d_k over all Planungsräume k whose
    population point lies within D of j; step 2, per Planungsraum i:
    A_i = Σ R_j over all facilities j within D of i's population point (capacity
    per person of the demand group). S_i = A_i × d_i is the capacity that
    reaches i. Unknown demand counts as 0 in step 1; a facility with no demand
    in reach serves nobody and counts nowhere.

Versorgungsgrad VG_i = S_i / N_i × 100 (%); 100 % means the Richtwert is met.
Fehlbedarf (deficit) = max(0, N_i − S_i) in the type's unit.

Higher levels (Bezirksregion, Prognoseraum, Bezirk, Berlin) and custom areas:
S, N and the deficit are summed over their Planungsräume and VG = ΣS / ΣN × 100.
For 2SFCA this is the demand-weighted mean of the accessibility,
Σ A_i d_i / Σ d_i, over the Richtwert. The deficit of a larger unit is the sum
of its Planungsräume' deficits: a surplus in one Planungsraum does not fill the
gap in another (for (a) that is the planner's reading of "innerhalb der
Grenzen" of each Planungsraum, summed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.db.models import Q

from datapool.formula import formula_to_sql, formula_variables
from datapool.models import Observation, Variable
from lor import hierarchy
from lor.models import CustomAreaMember, LorUnit

from .models import Facility, SupplyRule

SRID = 25833
WITHIN = "grenzen"
CATCHMENT = "2sfca"
METHOD_LABELS = {
    WITHIN: "innerhalb der Grenzen",
    CATCHMENT: "Einzugsbereich, 2SFCA",
}


class SupplyError(ValueError):
    """A rule that cannot be computed (e.g. its demand variables are unknown)."""


@dataclass(frozen=True)
class SupplyFacility:
    """One facility as the computation sees it: capacity, place, validity.

    ``geom`` (EPSG:25833, any geometry type) is where it is; without one it
    sits at the population point of ``unit_code``. ``unit_code`` is the
    Planungsraum it counts for within borders; left empty, the Planungsraum
    holding the geometry is looked up (``moved_to`` clears it).
    """

    capacity: float
    geom: GEOSGeometry | None = None
    unit_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    facility_id: int | None = None
    name: str = ""

    def moved_to(self, geom: GEOSGeometry) -> SupplyFacility:
        """The same facility at another place (its Planungsraum is looked up)."""
        return replace(self, geom=geom, unit_code=None)

    def counts_on(self, on: date) -> bool:
        """Whether the facility is in the stock on this day."""
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or self.valid_to > on
        )


@dataclass(frozen=True)
class UnitSupply:
    """Supply and demand of one unit by both methods (see the module docstring)."""

    code: str
    demand: float | None  # None: unknown (suppressed or missing input)
    need: float | None
    supply_within: float
    supply_catchment: float | None
    demand_status: str = Observation.Status.OK
    incomplete: bool = False  # an aggregate with units of unknown demand

    @property
    def accessibility(self) -> float | None:
        """2SFCA: capacity per person of the demand group (A_i)."""
        if self.supply_catchment is None or not self.demand:
            return None
        return self.supply_catchment / self.demand

    def versorgungsgrad(self, method: str) -> float | None:
        """Supply / need × 100 (%), None where the need is unknown or 0."""
        supply = self.supply_within if method == WITHIN else self.supply_catchment
        if supply is None or not self.need:
            return None
        return supply / self.need * 100

    def deficit(self, method: str) -> float | None:
        """Fehlbedarf in the type's unit (0 where the Richtwert is met)."""
        supply = self.supply_within if method == WITHIN else self.supply_catchment
        if supply is None or self.need is None:
            return None
        return max(0.0, self.need - supply)


@dataclass
class SupplyResult:
    """The computation of one rule on one date at one level, keyed by unit code."""

    rule: SupplyRule
    ref_date: date
    level: str
    units: dict[str, UnitSupply]
    facilities_counted: int = 0
    facilities_outside: int = 0  # counted in 2SFCA only: outside every Planungsraum
    deficits: dict[str, dict[str, float]] = field(default_factory=dict)

    def deficit(self, code: str, method: str) -> float | None:
        """A unit's deficit: its own at Planungsraum level, else its PLRs' sum."""
        if self.level == hierarchy.PLANUNGSRAUM:
            return self.units[code].deficit(method)
        return self.deficits.get(method, {}).get(code)


def supply_rule_list(*, active_only: bool = True) -> list[SupplyRule]:
    """The rules, with their facility type."""
    rules = SupplyRule.objects.select_related("facility_type")
    if active_only:
        rules = rules.filter(active=True)
    return list(rules.order_by("key"))


def _demand_variables(rule: SupplyRule) -> dict[str, Variable]:
    keys = formula_variables(rule.demand_formula)
    found = {v.key: v for v in Variable.objects.filter(key__in=keys)}
    missing = [k for k in keys if k not in found]
    if missing:
        raise SupplyError(
            f"Die Bedarfsformel von „{rule.name}“ nennt Variablen, die der "
            f"Datenpool nicht kennt: {', '.join(missing)}."
        )
    return found


def supply_dates(*, rule: SupplyRule) -> list[date]:
    """The reference dates on which every demand variable has Planungsraum values."""
    variables = _demand_variables(rule)
    dates: set[date] | None = None
    for variable in variables.values():
        found = set(
            Observation.objects.filter(
                variable=variable,
                unit__scheme=LorUnit.Scheme.LOR_2021,
                unit__level=LorUnit.Level.PLANUNGSRAUM,
            )
            .values_list("ref_date", flat=True)
            .distinct()
        )
        dates = found if dates is None else dates & found
    return sorted(dates or ())


def supply_facilities(*, rule: SupplyRule) -> list[SupplyFacility]:
    """The register's facilities of the rule's type with a recorded capacity.

    All of them, whatever their dates: ``supply_compute`` picks those valid on
    its date. A scenario starts from this list and adds, moves, enlarges or
    closes (sets ``valid_to``) facilities.
    """
    rows = (
        Facility.objects.filter(facility_type=rule.facility_type)
        .filter(capacity__isnull=False)
        .filter(Q(geom__isnull=False) | Q(unit__isnull=False))
        .values_list(
            "id", "name", "capacity", "geom", "unit__code", "valid_from", "valid_to"
        )
        .order_by("id")
    )
    return [
        SupplyFacility(
            capacity=float(capacity),
            geom=geom,
            unit_code=code,
            valid_from=valid_from,
            valid_to=valid_to,
            facility_id=pk,
            name=name,
        )
        for pk, name, capacity, geom, code, valid_from, valid_to in rows
    ]


def _demand_sql(rule: SupplyRule) -> tuple[str, str]:
    """SQL joins and select expressions for demand and its status per unit ``u``."""
    variables = _demand_variables(rule)
    aliases = {key: f"d{n}" for n, key in enumerate(variables)}
    obs = Observation._meta.db_table
    joins = " ".join(
        f"LEFT JOIN {obs} {a} ON {a}.variable_id = {variables[k].id} "
        f"AND {a}.unit_id = u.id AND {a}.ref_date = %(ref_date)s"
        for k, a in aliases.items()
    )
    expr = formula_to_sql(rule.demand_formula, lambda k: f"{aliases[k]}.value")
    statuses = [f"coalesce({a}.status, 'missing')" for a in aliases.values()]
    all_ok = " AND ".join(f"{s} IN ('ok', 'estimated')" for s in statuses)
    any_suppressed = " OR ".join(f"{s} = 'suppressed'" for s in statuses)
    any_estimated = " OR ".join(f"{s} = 'estimated'" for s in statuses)
    status = (
        f"CASE WHEN {any_suppressed} THEN 'suppressed' "
        f"WHEN NOT ({all_ok}) THEN 'missing' "
        f"WHEN {any_estimated} THEN 'estimated' ELSE 'ok' END"
    )
    select = f"CASE WHEN {all_ok} THEN {expr} END AS demand, {status} AS status"
    return joins, select


# The facilities as rows (n, cap, given_code, geom): from the register ...
REGISTER_FACILITIES = f"""
        SELECT f.id AS n, f.capacity::float8 AS cap, u.code AS given_code, f.geom
        FROM {Facility._meta.db_table} f
        LEFT JOIN {LorUnit._meta.db_table} u ON u.id = f.unit_id
        WHERE f.facility_type_id = %(type)s AND f.capacity > 0
          AND f.capacity >= coalesce(%(minimum)s, 0)
          AND (f.valid_from IS NULL OR f.valid_from <= %(ref_date)s)
          AND (f.valid_to IS NULL OR f.valid_to > %(ref_date)s)
          AND (f.geom IS NOT NULL OR f.unit_id IS NOT NULL)"""
# ... or passed in (a scenario): points as coordinates, other shapes as EWKB
# (GEOS's hex writer costs ~0.15 ms a geometry; coordinates cost nothing).
PASSED_FACILITIES = f"""
        SELECT f.n, f.cap, f.code AS given_code,
               CASE WHEN f.x IS NOT NULL
                    THEN ST_SetSRID(ST_MakePoint(f.x, f.y), {SRID})
                    WHEN f.ewkb IS NOT NULL
                    THEN ST_Transform(f.ewkb::geometry, {SRID}) END AS geom
        FROM unnest(%(caps)s::float8[], %(xs)s::float8[], %(ys)s::float8[],
                    %(ewkbs)s::text[], %(codes)s::text[])
             WITH ORDINALITY AS f(cap, x, y, ewkb, code, n)"""


def _supply_sql(demand_joins: str, demand_select: str, facilities: str) -> str:
    unit = LorUnit._meta.db_table
    return f"""
    WITH plr0 AS MATERIALIZED (
        SELECT u.code, ST_PointOnSurface(u.geom) AS pt, {demand_select}
        FROM {unit} u {demand_joins}
        WHERE u.scheme = %(scheme)s AND u.level = %(plr)s
    ),
    plr AS MATERIALIZED (
        SELECT plr0.*, floor(ST_X(pt) / %(d)s)::int AS cx,
               floor(ST_Y(pt) / %(d)s)::int AS cy
        FROM plr0
    ),
    fac AS MATERIALIZED ({facilities}
    ),
    located AS MATERIALIZED (
        -- Where a facility is: its geometry, else its Planungsraum's point. Its
        -- Planungsraum: the given one, else the one holding its point on
        -- surface (a moved or added facility of a scenario).
        SELECT f.n, f.cap, coalesce(f.geom, g.pt) AS geom,
               CASE WHEN f.given_code IS NOT NULL THEN g.code ELSE (
                   SELECT u.code FROM {unit} u
                   WHERE u.scheme = %(scheme)s AND u.level = %(plr)s
                     AND ST_Intersects(u.geom, ST_PointOnSurface(f.geom))
                   ORDER BY u.code LIMIT 1) END AS code
        FROM fac f LEFT JOIN plr g ON g.code = f.given_code
        WHERE f.geom IS NOT NULL OR g.code IS NOT NULL
    ),
    cells AS MATERIALIZED (
        -- The grid cells (side D) a facility's reach can touch: its box grown
        -- by D. A population point within D of it lies in one of them, so the
        -- distance join below is a hash join on cells, not a nested loop.
        SELECT l.n, l.geom, gx, gy
        FROM located l,
             generate_series(floor((ST_XMin(l.geom) - %(d)s) / %(d)s)::int,
                             floor((ST_XMax(l.geom) + %(d)s) / %(d)s)::int) gx,
             generate_series(floor((ST_YMin(l.geom) - %(d)s) / %(d)s)::int,
                             floor((ST_YMax(l.geom) + %(d)s) / %(d)s)::int) gy
    ),
    pairs AS MATERIALIZED (
        -- The one distance join: facility × population point within D.
        SELECT c.n, p.code, coalesce(p.demand, 0) AS demand
        FROM cells c JOIN plr p ON p.cx = c.gx AND p.cy = c.gy
        WHERE ST_DWithin(c.geom, p.pt, %(d)s)
    ),
    ratio AS (
        -- Step 1: each facility's capacity over the demand it can reach.
        SELECT l.n, l.cap / sum(pr.demand) AS r
        FROM located l JOIN pairs pr ON pr.n = l.n
        GROUP BY l.n, l.cap HAVING sum(pr.demand) > 0
    ),
    access AS (
        -- Step 2: each Planungsraum sums the ratios of the facilities it reaches.
        SELECT pr.code, sum(r.r) AS a
        FROM pairs pr JOIN ratio r ON r.n = pr.n GROUP BY pr.code
    ),
    within AS (
        SELECT code, sum(cap) AS s FROM located WHERE code IS NOT NULL GROUP BY code
    )
    SELECT p.code, p.demand, p.status, coalesce(w.s, 0), coalesce(a.a, 0),
           (SELECT count(*) FROM located),
           (SELECT count(*) FROM located WHERE code IS NULL)
    FROM plr p
    LEFT JOIN within w ON w.code = p.code
    LEFT JOIN access a ON a.code = p.code
    ORDER BY p.code
    """


def supply_compute(
    *,
    rule: SupplyRule,
    ref_date: date,
    facilities_override: Sequence[SupplyFacility] | None = None,
) -> SupplyResult:
    """Supply, need, Versorgungsgrad and deficit per Planungsraum, both methods.

    One PostGIS statement; writes nothing. ``facilities_override`` replaces the
    register's facilities of the rule's type (a scenario, e.g. a changed copy
    of ``supply_facilities``); without it the statement reads the register
    itself. Facilities not valid on ``ref_date``, without capacity or below the
    rule's minimum capacity do not count.
    """
    joins, select = _demand_sql(rule)
    minimum = float(rule.min_capacity) if rule.min_capacity is not None else None
    params: dict = {
        "ref_date": ref_date,
        "scheme": LorUnit.Scheme.LOR_2021,
        "plr": LorUnit.Level.PLANUNGSRAUM,
        "d": float(rule.catchment_m),
    }
    if facilities_override is None:
        source = REGISTER_FACILITIES
        params.update(type=rule.facility_type_id, minimum=minimum)
    else:
        source = PASSED_FACILITIES
        counting = [
            f
            for f in facilities_override
            if f.counts_on(ref_date)
            and f.capacity is not None
            and f.capacity > 0
            and (minimum is None or f.capacity >= minimum)
            and (f.geom is not None or f.unit_code)
        ]
        params.update(_passed(counting))
    richtwert = float(rule.richtwert)
    units: dict[str, UnitSupply] = {}
    located = outside = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # The planner's cost for the unnested facilities is a guess; JIT
        # compiling for it costs more than the whole query.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_supply_sql(joins, select, source), params)
        for code, demand, status, within, access, n_located, n_outside in cursor:
            located, outside = n_located, n_outside
            units[code] = UnitSupply(
                code=code,
                demand=demand,
                need=None if demand is None else demand * richtwert,
                supply_within=float(within),
                supply_catchment=None if demand is None else float(access) * demand,
                demand_status=status,
            )
    return SupplyResult(
        rule=rule,
        ref_date=ref_date,
        level=hierarchy.PLANUNGSRAUM,
        units=units,
        facilities_counted=located,
        facilities_outside=outside,
    )


def _passed(facilities: list[SupplyFacility]) -> dict[str, list]:
    """The SQL array parameters of ``PASSED_FACILITIES``."""
    arrays: dict[str, list] = {"caps": [], "xs": [], "ys": [], "ewkbs": [], "codes": []}
    for f in facilities:
        geom = f.geom
        if geom is not None and geom.srid not in (None, SRID):
            geom = geom.transform(SRID, clone=True)
        point = geom is not None and geom.geom_type == "Point"
        arrays["caps"].append(float(f.capacity))
        arrays["xs"].append(geom.x if point else None)
        arrays["ys"].append(geom.y if point else None)
        arrays["ewkbs"].append(
            None
            if geom is None or point
            else GEOSGeometry(geom.wkb, srid=SRID).hexewkb.decode()
        )
        arrays["codes"].append(f.unit_code)
    return arrays


def _parents(level: str, codes: Iterable[str]) -> dict[str, list[str]]:
    """Planungsraum codes → the codes of the units at ``level`` containing them."""
    codes = list(codes)
    if level == LorUnit.Level.CUSTOM:
        members: dict[str, list[str]] = defaultdict(list)
        for plr, area in CustomAreaMember.objects.filter(
            planungsraum__code__in=codes,
            planungsraum__scheme=LorUnit.Scheme.LOR_2021,
        ).values_list("planungsraum__code", "area__code"):
            members[plr].append(area)
        return members
    if level == hierarchy.BERLIN:
        berlin = hierarchy.LOR_2021.berlin_key
        return {code: [berlin] for code in codes}
    length = hierarchy.key_length(level)
    return {code: [code[:length]] for code in codes}


def supply_aggregate(*, result: SupplyResult, level: str) -> SupplyResult:
    """The Planungsraum result summed to a coarser level or to the custom areas.

    Supply, need and deficits are sums over the Planungsräume (see the module
    docstring); a unit with a Planungsraum of unknown demand is ``incomplete``
    and sums the known ones.
    """
    if result.level != hierarchy.PLANUNGSRAUM:
        raise SupplyError("Nur Ergebnisse je Planungsraum lassen sich aggregieren.")
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    incomplete: dict[str, bool] = defaultdict(bool)
    for plr, parents in _parents(level, result.units).items():
        unit = result.units[plr]
        for parent in parents:
            s = sums[parent]
            s["within"] += unit.supply_within
            if unit.demand is None:
                incomplete[parent] = True
                continue
            s["demand"] += unit.demand
            s["need"] += unit.need or 0.0
            s["catchment"] += unit.supply_catchment or 0.0
            s["deficit_" + WITHIN] += unit.deficit(WITHIN) or 0.0
            s["deficit_" + CATCHMENT] += unit.deficit(CATCHMENT) or 0.0
    units = {
        code: UnitSupply(
            code=code,
            demand=s["demand"],
            need=s["need"],
            supply_within=s["within"],
            supply_catchment=s["catchment"],
            incomplete=incomplete[code],
        )
        for code, s in sorted(sums.items())
    }
    deficits = {
        method: {code: s["deficit_" + method] for code, s in sums.items()}
        for method in (WITHIN, CATCHMENT)
    }
    return SupplyResult(
        rule=result.rule,
        ref_date=result.ref_date,
        level=level,
        units=units,
        facilities_counted=result.facilities_counted,
        facilities_outside=result.facilities_outside,
        deficits=deficits,
    )
