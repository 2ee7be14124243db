"""Reads of the start page: search, latest deliveries, own queries, district profiles.

Every read goes through the owning app's selector or visibility rule, so the
start page never shows a unit, variable, run or query that the user could not
open on its own page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Length

from core.access import staff_tools_allowed, user_bezirk_code
from datapool.models import ImportRun, Variable
from datapool.selectors import import_run_list, variable_list
from lor.hierarchy import BEZIRK, BEZIRKSREGION, key_prefix
from lor.models import LorUnit
from lor.selectors import lor_unit_get, lor_unit_list, lor_unit_search
from profiles.models import ProfileEdition
from profiles.selectors import profile_edition_list
from queries.models import SavedQuery
from queries.selectors import saved_query_list

SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 20
LATEST_LIMIT = 5


@dataclass(frozen=True)
class SearchResults:
    q: str
    units: list[LorUnit]
    variables: list[Variable]

    @property
    def empty(self) -> bool:
        return not self.units and not self.variables


def start_search(*, user: Any, q: str) -> SearchResults:
    """LOR units and the variables ``user`` may see whose name or key match ``q``."""
    q = q.strip()[:100]
    if len(q) < SEARCH_MIN_LENGTH:
        return SearchResults(q=q, units=[], variables=[])
    # The catalogue's own search (visibility included) also reads descriptions.
    # Best hits first: the exact key, names starting with the words, names
    # containing them; shorter names before longer ones (totals before their
    # breakdowns: "Einwohner insgesamt" before "Einwohner 0 bis unter 1 Jahr").
    variables = (
        variable_list(user=user, q=q)
        .annotate(
            hit=Case(
                When(key__iexact=q, then=Value(0)),
                When(name__istartswith=q, then=Value(1)),
                When(name__icontains=q, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("hit", Length("name"), "key")
    )
    return SearchResults(
        q=q,
        units=lor_unit_search(q=q, limit=SEARCH_LIMIT),
        variables=list(variables[:SEARCH_LIMIT]),
    )


def start_latest_runs(*, user: Any) -> list[ImportRun]:
    """The newest data deliveries the user may see (indicator computations left out)."""
    runs: QuerySet[ImportRun] = import_run_list(user=user).exclude(
        kind=ImportRun.Kind.COMPUTATION
    )
    return list(runs[:LATEST_LIMIT])


def start_saved_queries(*, user: Any) -> list[SavedQuery]:
    """The user's most recently changed saved queries (own and shared with them)."""
    if not staff_tools_allowed(user):
        return []
    return list(saved_query_list(user=user)[:LATEST_LIMIT])


@dataclass(frozen=True)
class DistrictProfile:
    region: LorUnit
    edition: ProfileEdition | None


def start_district(*, user: Any) -> LorUnit | None:
    """The user's district, or ``None`` for Berlin-wide roles."""
    code = user_bezirk_code(user)
    if not code:
        return None
    return lor_unit_get(code=key_prefix(code, BEZIRK))


def start_district_profiles(*, district: LorUnit) -> list[DistrictProfile]:
    """Every Bezirksregion of the district with its newest profile edition, if any."""
    regions = lor_unit_list(level=BEZIRKSREGION).filter(
        code__startswith=district.code_prefix
    )
    newest: dict[str, ProfileEdition] = {}
    # Newest first per region: the first edition seen is the newest.
    for edition in profile_edition_list(bezirk_code=district.code):
        newest.setdefault(edition.profile.region.code, edition)
    return [
        DistrictProfile(region=region, edition=newest.get(region.code))
        for region in regions.defer("geom", "parent__geom")
    ]
