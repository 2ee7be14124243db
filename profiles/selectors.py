"""Reads of Bezirksregionenprofile: regions, editions, their documents, comparisons.

A document is an edition as a plain JSON-serialisable dict (``ProfileDocument``):
its facts, its analysis (frozen on adoption, else generated now by
``profiles.analysis``), goals and assessments. The API, the pages and the PDF
all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from core.access import funding_amounts_visible
from datapool.models import Observation
from funding.models import Project
from infrastructure.scenarios import scenario_list
from lor.hierarchy import BEZIRK, BEZIRKSREGION, key_prefix, level_of_key
from lor.models import LorUnit

from .analysis import profile_analysis_build
from .analysis_types import (
    AssessmentEntry,
    EditionFacts,
    GoalChange,
    GoalEntry,
    IndicatorComparison,
    IndicatorRow,
    ProfileAnalysis,
    ProfileComparison,
    ProfileDocument,
)
from .chapters import funding_redact
from .models import Goal, Measure, Profile, ProfileEdition


def profile_region_get(*, code: str) -> LorUnit:
    """The Bezirksregion (LOR 2021) with this 6-digit key, or ``DoesNotExist``."""
    if level_of_key(code) != BEZIRKSREGION:
        raise LorUnit.DoesNotExist(code[:20])
    return LorUnit.objects.select_related("parent__parent").get(
        scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRKSREGION, code=code
    )


# --- editions and documents -----------------------------------------------------


def profile_edition_get(*, pk: int) -> ProfileEdition:
    """One edition with its profile and region loaded, or ``DoesNotExist``."""
    return ProfileEdition.objects.select_related(
        "profile__region__parent", "based_on", "created_by"
    ).get(pk=pk)


def profile_edition_list(
    *, bezirk_code: str = "", status: str = ""
) -> QuerySet[ProfileEdition]:
    """Editions, newest first per region, filtered by district and status."""
    qs = ProfileEdition.objects.select_related("profile__region").annotate(
        goal_count=Count("goals", distinct=True)
    )
    if bezirk_code:
        qs = qs.filter(
            profile__region__code__startswith=key_prefix(bezirk_code, BEZIRK)
        )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("profile__region__code", "-number")


def profile_latest_adopted(*, region: LorUnit) -> ProfileEdition | None:
    """The most recently adopted edition of the region's profile, if any."""
    return (
        ProfileEdition.objects.filter(
            profile__region=region, status=ProfileEdition.Status.ADOPTED
        )
        .select_related("profile__region")
        .order_by("-number")
        .first()
    )


def profile_editions_of_region(*, region: LorUnit) -> list[ProfileEdition]:
    return list(
        ProfileEdition.objects.filter(profile__region=region)
        .select_related("profile__region")
        .order_by("-number")
    )


def profile_get(*, region: LorUnit) -> Profile | None:
    return Profile.objects.filter(region=region).first()


def edition_goals(*, edition: ProfileEdition) -> list[Goal]:
    """The edition's goals with their measures, in order."""
    from .models import Measure

    return list(
        edition.goals.order_by("sort_order", "pk").prefetch_related(
            Prefetch(
                "measures",
                queryset=Measure.objects.order_by("sort_order", "pk").prefetch_related(
                    Prefetch(
                        "funding_projects",
                        queryset=Project.objects.select_related("programme").order_by(
                            "number"
                        ),
                    )
                ),
            )
        )
    )


def edition_analysis(*, edition: ProfileEdition) -> ProfileAnalysis:
    """The frozen analysis of an adopted edition, else the one generated now."""
    if edition.is_frozen and edition.analysis_snapshot is not None:
        return edition.analysis_snapshot
    return profile_analysis_build(region=edition.region, ref_date=edition.ref_date)


def _goal_dict(goal: Goal) -> GoalEntry:
    return {
        "id": goal.pk,
        "origin": goal.origin_id,
        "theme": goal.theme,
        "theme_label": str(goal.get_theme_display()),
        "text": goal.text,
        "department": goal.department,
        "priority": goal.priority,
        "priority_label": str(goal.get_priority_display()),
        "status": goal.status,
        "status_label": str(goal.get_status_display()),
        "indicators": list(goal.indicators or []),
        "measures": [
            {
                "id": m.pk,
                "text": m.text,
                "department": m.department,
                "status": m.status,
                "status_label": str(m.get_status_display()),
                "due": m.due.isoformat() if m.due else None,
                "funding_projects": [
                    {
                        "id": p.pk,
                        "number": p.number,
                        "title": p.title,
                        "programme": p.programme.name,
                        "is_example": p.is_example,
                    }
                    for p in m.funding_projects.all()
                ],
            }
            for m in goal.measures.all()
        ],
    }


def profile_document(*, edition: ProfileEdition) -> ProfileDocument:
    """An edition as a JSON-serialisable document: edition facts, analysis, texts.

    The analysis is the frozen snapshot of an adopted edition, else generated
    now; the shape is ``ProfileDocument``.
    """
    analysis = edition_analysis(edition=edition)
    facts: EditionFacts = {
        "id": edition.pk,
        "number": edition.number,
        "status": edition.status,
        "status_label": str(edition.get_status_display()),
        "ref_date": analysis.get("ref_date"),
        "adopted_on": edition.adopted_on.isoformat() if edition.adopted_on else None,
        "decision_reference": edition.decision_reference,
        "title": edition.title or f"Bezirksregionenprofil {edition.region.name}",
        "region_code": edition.region.code,
        "based_on": edition.based_on_id,
    }
    return {
        "edition": facts,
        "analysis": analysis,
        "goals": [_goal_dict(g) for g in edition_goals(edition=edition)],
        "assessments": [
            AssessmentEntry(id=a.pk, department=a.department, text=a.text)
            for a in edition.assessments.order_by("sort_order", "pk")
        ],
    }


def profile_document_for_region(
    *, region: LorUnit, ref_date: date | None = None
) -> ProfileDocument:
    """The latest adopted edition's document, else the generated analysis and no goals.

    Without an adopted edition: ``{"edition": None, "analysis":
    profile_analysis_build(region=region, ref_date=ref_date), "goals": [],
    "assessments": []}`` — what batch PDFs use.
    """
    edition = profile_latest_adopted(region=region)
    if edition is not None:
        return profile_document(edition=edition)
    return {
        "edition": None,
        "analysis": profile_analysis_build(region=region, ref_date=ref_date),
        "goals": [],
        "assessments": [],
    }


def analysis_for_viewer(*, analysis: ProfileAnalysis, user: Any) -> ProfileAnalysis:
    """The analysis as ``user`` may see it: funding amounts for staff roles only."""
    if funding_amounts_visible(user):
        return analysis
    return funding_redact(analysis)


def document_for_viewer(*, document: ProfileDocument, user: Any) -> ProfileDocument:
    """The document as ``user`` may see it (see ``analysis_for_viewer``)."""
    if funding_amounts_visible(user):
        return document
    return {
        **document,
        "analysis": analysis_for_viewer(analysis=document["analysis"], user=user),
    }


# --- comparison of two editions -------------------------------------------------


def profile_edition_compare(
    *, old: ProfileEdition, new: ProfileEdition
) -> ProfileComparison:
    """Old vs new value per indicator, and goals added, removed or changed.

    Goals are matched by ``origin`` (a Fortschreibung copies each goal and points
    back to it). The shape is ``ProfileComparison``.
    """
    old_doc = profile_document(edition=old)
    new_doc = profile_document(edition=new)
    old_ind: dict[str, IndicatorRow] = {
        i["key"]: i
        for t in old_doc["analysis"].get("themes", [])
        for i in t["indicators"]
    }
    rows: list[IndicatorComparison] = []
    seen = set()
    for theme in new_doc["analysis"].get("themes", []):
        for ind in theme["indicators"]:
            before: Mapping[str, Any] = old_ind.get(ind["key"], {})
            seen.add(ind["key"])
            rows.append(_compare_row(theme["theme"], ind, before))
    for key, before in old_ind.items():
        if key not in seen:
            rows.append(_compare_row("", {"key": key, **_blank(before)}, before))
    old_goals = {g["id"]: g for g in old_doc["goals"]}
    matched = set()
    added: list[GoalEntry] = []
    changed: list[GoalChange] = []
    unchanged: list[GoalEntry] = []
    for goal in new_doc["goals"]:
        previous = old_goals.get(goal["origin"]) if goal["origin"] else None
        if previous is None:
            added.append(goal)
            continue
        matched.add(previous["id"])
        fields = _goal_differences(previous, goal)
        if fields:
            changed.append({"old": previous, "new": goal, "fields": fields})
        else:
            unchanged.append(goal)
    removed = [g for gid, g in old_goals.items() if gid not in matched]
    old_facts = old_doc["analysis"].get("facts", {})
    new_facts = new_doc["analysis"].get("facts", {})
    return {
        "old": old_doc,
        "new": new_doc,
        "facts": {
            "residents_old": old_facts.get("residents"),
            "residents_new": new_facts.get("residents"),
        },
        "indicators": rows,
        "goals": {
            "added": added,
            "removed": removed,
            "changed": changed,
            "unchanged": unchanged,
        },
    }


def _blank(before: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": before.get("name", ""),
        "unit": before.get("unit", ""),
        "value": None,
        "status": "missing",
    }


def _compare_row(
    theme: str, new: Mapping[str, Any], old: Mapping[str, Any]
) -> IndicatorComparison:
    # Indicator rows of either side may come from a snapshot frozen long ago:
    # read with .get() so a key it lacks means "no value".
    difference = None
    if new.get("value") is not None and old.get("value") is not None:
        difference = new["value"] - old["value"]
    return {
        "theme": theme,
        "key": new["key"],
        "name": new.get("name") or old.get("name", ""),
        "unit": new.get("unit") or old.get("unit", ""),
        "old": old.get("value"),
        "old_status": old.get("status", "missing"),
        "old_date": old.get("date"),
        "new": new.get("value"),
        "new_status": new.get("status", "missing"),
        "new_date": new.get("date"),
        "difference": difference,
    }


GOAL_FIELDS = ("theme", "text", "department", "priority", "status", "indicators")
MEASURE_FIELDS = ("text", "department", "status", "due")


def _measure_key(measure) -> tuple:
    projects = sorted(p.get("id") for p in measure.get("funding_projects") or [])
    return (*(measure.get(f) for f in MEASURE_FIELDS), tuple(projects))


def _goal_differences(old: GoalEntry, new: GoalEntry) -> list[str]:
    fields = [f for f in GOAL_FIELDS if old.get(f) != new.get(f)]
    strip = [_measure_key(m) for m in old.get("measures", [])]
    if strip != [_measure_key(m) for m in new["measures"]]:
        fields.append("measures")
    return fields


def profile_goal_links(projects: list[Project]) -> dict[int, list[str]]:
    """Per project the profile goals and measures linked to it (Fördermittelbericht).

    Per profile only the newest edition that links the project counts: a
    Fortschreibung copies its measures and their links, which would otherwise
    name the same goal once per edition.
    """
    from .models import Measure

    ids = [p.pk for p in projects]
    if not ids:
        return {}
    rows = (
        Measure.funding_projects.through.objects.filter(project_id__in=ids)
        .select_related("measure__goal__edition__profile__region")
        .order_by(
            "measure__goal__edition__profile__region__code",
            "-measure__goal__edition__number",
            "measure__goal__sort_order",
            "measure__sort_order",
            "measure__pk",
        )
    )
    newest: dict[tuple[int, int], int] = {}
    links: dict[int, list[str]] = {}
    for row in rows:
        measure = row.measure
        edition = measure.goal.edition
        key = (row.project_id, edition.profile_id)
        if newest.setdefault(key, edition.number) != edition.number:
            continue
        region = edition.profile.region
        links.setdefault(row.project_id, []).append(
            f"Bezirksregionenprofil {region.name} ({region.code}), "
            f"{edition.number}. Fassung ({edition.get_status_display()}): "
            f"Ziel „{measure.goal.text[:200]}“ – Maßnahme „{measure.text[:200]}“"
        )
    return links


def profile_observation_exists(*, region: LorUnit) -> bool:
    """Whether the Datenpool has any value for the region (for empty states)."""
    return Observation.objects.filter(unit=region).exists()


def edition_measure_scenarios(*, edition: ProfileEdition, user) -> dict[int, list]:
    """Per measure of the edition, the attached planning scenarios the user may
    open (every measure has an entry)."""
    visible = {s.pk: s for s in scenario_list(user=user)}
    found: dict[int, list] = {}
    for measure in Measure.objects.filter(goal__edition=edition).prefetch_related(
        "scenarios"
    ):
        found[measure.pk] = [
            visible[s.pk] for s in measure.scenarios.all() if s.pk in visible
        ]
    return found
