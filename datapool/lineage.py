"""Every value knows its sources: the credits of a variable and of its inputs.

Whatever leaves PRISMA with numbers (exports, maps, charts, profiles) names the
sources and licences this module returns; nobody collects them from
``Variable.source`` on their own.

Rules:

* A delivered variable credits its documented source (``Variable.source``, which
  curators may edit) under its licence. Without a documented source it credits
  its supplier, else the supplier of the import run that delivered it.
* A variable PRISMA computes (an indicator, the recomputed MSS classes) credits
  nothing itself: its source only says "PRISMA". It credits everything it is
  computed from, recursively: the formula's variables and the denominator.
* A ratio or weighted mean also credits its numerator, denominator and weight,
  because its aggregates are computed from them.
* A harmonised sum (``VariableComponent``) credits its components, because its
  values for the dates it was not delivered are summed from them; it credits
  its own source only once it has been delivered itself.
* Credits are unique by (source, licence), in the order they are first met when
  the variables are walked in the given order, inputs depth first.
* The units' keys, names and geometries are the Geoportal's
  (``lor.attribution``); their credit follows the data's.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext, gettext_lazy

from lor.attribution import LOR_LICENSE, LOR_SOURCE, LOR_SOURCE_SHORT

from .formula import FormulaError, formula_variables
from .memo import versioned
from .models import Delivery, Variable, VariableComponent
from .services.indicators import MSS_INPUTS, MSS_OUTPUTS
from .timeline import ESTIMATED_LABEL

PRISMA = "PRISMA Berlin"
# Estimated values arise in PRISMA from one source only: the conversion of
# deliveries in LOR 2006 keys (datapool.services.conversion). Wherever such a
# value appears it carries this mark, and the page or file names the crosswalk.
ESTIMATED_MARK = ESTIMATED_LABEL  # one wording everywhere (datapool.timeline)
CROSSWALK_SOURCE = gettext_lazy(
    "Crosswalk LOR 2006 → LOR 2021 (PRISMA Berlin: areal overlay of the "
    "Planungsräume calibrated to the residents of 31.12.2020; method and "
    "measured error: docs/crosswalk.md)"
)


def estimated_footnote() -> str:
    """The footnote of values marked estimated: the mark and the crosswalk."""
    return f"{ESTIMATED_MARK}: {CROSSWALK_SOURCE}"


# The MSS classes PRISMA recomputes, and the index indicators they come from.
_MSS_COMPUTED = {key for key, _name, _unit in MSS_OUTPUTS.values()}


@dataclass(frozen=True)
class SourceCredit:
    """Who to name for some values, and under which licence."""

    source: str
    license: str = ""

    def __str__(self) -> str:
        licence = self.license or gettext("no licence stated")
        return f"{self.source} ({licence})"


def geometry_credit(*, short: bool = False) -> SourceCredit:
    """The credit of the LOR units' keys, names and geometries."""
    return SourceCredit(LOR_SOURCE_SHORT if short else LOR_SOURCE, LOR_LICENSE)


@dataclass(frozen=True)
class Attribution:
    """The credits of some values: their data's, then the units' (if shown)."""

    data: tuple[SourceCredit, ...]
    computed: bool = False
    geometry: bool = True

    @property
    def credits(self) -> list[SourceCredit]:
        return [*self.data, *([geometry_credit()] if self.geometry else [])]

    @property
    def prisma(self) -> str:
        return gettext("computed in PRISMA Berlin") if self.computed else PRISMA

    @property
    def sources(self) -> list[str]:
        """The sources, unique, ending with PRISMA (the ``Quelle`` row of a file)."""
        return _unique([*(c.source for c in self.credits), self.prisma])

    @property
    def licenses(self) -> list[str]:
        """The licences of the sources, unique, in the same order."""
        return _unique(c.license for c in self.credits)

    @property
    def items(self) -> list[str]:
        """Each source with its licence, e.g. for a list of sources."""
        return [str(c) for c in self.credits]

    def line(self, *, short: bool = True) -> str:
        """„Quellen: A (CC BY 3.0 DE); Geoportal … (dl-de/by-2-0) · PRISMA Berlin“."""
        credits = [*self.data]
        if self.geometry:
            credits.append(geometry_credit(short=short))
        listed = "; ".join(_unique(str(c) for c in credits))
        label = gettext("Sources")
        return f"{label}: {listed} · {self.prisma}" if listed else self.prisma


def attribution(
    *,
    variables: Iterable[Variable | str],
    computed: bool = False,
    geometry: bool = True,
) -> Attribution:
    """The attribution of values of these variables (keys or rows) per LOR unit.

    ``computed`` says that the caller derived values of its own (a derived
    column); the values of an indicator count as computed anyway. Within a
    cached API request the credits are kept per Datenpool version
    (``datapool.memo``; the version covers sources, licences, suppliers and
    inputs).
    """
    keys = tuple(v.key if isinstance(v, Variable) else str(v) for v in variables)

    def walk() -> tuple[tuple[SourceCredit, ...], bool]:
        credits, any_computed = _walk(keys)
        return tuple(credits), any_computed

    credits, any_computed = versioned(("attribution", keys), walk)
    return Attribution(credits, computed or any_computed, geometry)


def variable_lineage(*, variables: Iterable[Variable | str]) -> list[SourceCredit]:
    """The data credits of these variables and of all they are computed from."""
    return _walk(variables)[0]


# Per walk: the components of each harmonised sum met, and whether the sum
# itself was ever delivered.
_Sums = dict[str, tuple[list[str], bool]]


def _walk(variables: Iterable[Variable | str]) -> tuple[list[SourceCredit], bool]:
    roots = [v.key if isinstance(v, Variable) else str(v) for v in variables]
    known, sums = _closure(roots)
    credits: list[SourceCredit] = []
    computed = False
    seen: set[str] = set()

    def visit(key: str) -> None:
        nonlocal computed
        variable = known.get(key)
        if variable is None or key in seen:
            return
        seen.add(key)
        inputs, is_computed = _inputs(variable, sums)
        if is_computed:
            computed = True
        else:
            credit = _own_credit(variable)
            if credit is not None and credit not in credits:
                credits.append(credit)
        for input_key in inputs:
            visit(input_key)

    for key in roots:
        visit(key)
    return credits, computed


def _closure(keys: list[str]) -> tuple[dict[str, Variable], _Sums]:
    """The variables and everything they are computed from, a few queries per depth."""
    known: dict[str, Variable] = {}
    sums: _Sums = {}
    asked: set[str] = set()
    pending = set(keys)
    while pending:
        asked |= pending
        # Only the columns the credits read: six joined Variable rows in full cost
        # more to compile than the query takes (a map request pays this). The
        # components and whether the variable was ever delivered come along in
        # the same query: one query per depth, as before sums existed.
        batch = list(
            Variable.objects.filter(key__in=pending)
            .select_related(
                "supplier",
                "indicator__denominator",
                "numerator",
                "denominator",
                "weight",
            )
            .only(
                "key",
                "source",
                "license",
                "supplier__name",
                "indicator__formula",
                "indicator__denominator__key",
                "numerator__key",
                "denominator__key",
                "weight__key",
            )
            .annotate(
                component_keys=ArraySubquery(
                    VariableComponent.objects.filter(total=OuterRef("pk"))
                    .order_by("pk")
                    .values("component__key")
                ),
                was_delivered=Exists(Delivery.objects.filter(variable=OuterRef("pk"))),
            )
            .order_by()
        )
        for variable in batch:
            known[variable.key] = variable
            if variable.component_keys:
                sums[variable.key] = (variable.component_keys, variable.was_delivered)
        pending = {key for v in batch for key in _inputs(v, sums)[0]} - asked
    return known, sums


def _inputs(variable: Variable, sums: _Sums) -> tuple[list[str], bool]:
    """The keys the variable's values are computed from; True if PRISMA computes it."""
    keys: list[str] = []
    computed = False
    if variable.key in sums:
        parts, delivered = sums[variable.key]
        keys += parts
        computed = not delivered
    try:
        indicator = variable.indicator
    except ObjectDoesNotExist:
        indicator = None
    if indicator is not None:
        computed = True
        # An invalid formula computes nothing, so it credits nothing.
        with suppress(FormulaError):
            keys += formula_variables(indicator.formula)
        if indicator.denominator is not None:
            keys.append(indicator.denominator.key)
    elif variable.key in _MSS_COMPUTED:
        computed = True
        keys += list(MSS_INPUTS.values())
    for component in (variable.numerator, variable.denominator, variable.weight):
        if component is not None:
            keys.append(component.key)
    return _unique(keys), computed


def _own_credit(variable: Variable) -> SourceCredit | None:
    source = variable.source.strip()
    if not source and variable.supplier is not None:
        source = variable.supplier.name
    if not source:
        delivery = (
            Delivery.objects.filter(
                variable=variable, import_run__supplier__isnull=False
            )
            .select_related("import_run__supplier")
            .first()
        )
        source = delivery.import_run.supplier.name if delivery else ""
    if not source:
        return None  # defined ahead of a delivery: no values, nobody to name
    return SourceCredit(source, variable.license.strip())


def _unique(values: Iterable[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        if value and value not in out:
            out.append(value)
    return out
