"""Editions, goals and the workflow: permissions, freezing, Fortschreibung, compare."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from core.access import Role
from datapool.models import Observation
from profiles.models import Goal
from profiles.selectors import (
    profile_document,
    profile_document_for_region,
    profile_edition_compare,
    profile_region_get,
)
from profiles.services import (
    ProfileError,
    assessment_save,
    goal_save,
    measure_save,
    profile_edition_continue,
    profile_edition_create,
    profile_edition_transition,
)
from tests.factories import UserFactory
from tests.profiles.conftest import REGION, ewr_import, ewr_variant, indicators_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def planner_mitte(lor_units):
    return UserFactory(username="mitte", role=Role.PLANNER, bezirk_code="01")


@pytest.fixture
def planner_pankow(lor_units):
    return UserFactory(username="pankow", role=Role.PLANNER, bezirk_code="03")


def _adopt(user, edition, reference="BA-Beschluss 12/2025"):
    profile_edition_transition(user=user, edition=edition, status="review")
    return profile_edition_transition(
        user=user,
        edition=edition,
        status="adopted",
        adopted_on=date(2025, 3, 4),
        decision_reference=reference,
    )


def _goal(user, edition, text="Mehr Kitaplätze schaffen", **extra):
    return goal_save(
        user=user,
        edition=edition,
        theme="bildung_jugend",
        text=text,
        department="Jugendamt",
        priority="high",
        indicators=["KI_KITA", "KI_ANTEIL_U18"],
        **extra,
    )


def test_planner_of_another_district_may_not_write(
    indicators_2024, planner_mitte, planner_pankow
):
    region = profile_region_get(code=REGION)
    with pytest.raises(PermissionDenied):
        profile_edition_create(user=planner_pankow, region=region)
    edition = profile_edition_create(user=planner_mitte, region=region)
    with pytest.raises(PermissionDenied):
        _goal(planner_pankow, edition)
    with pytest.raises(PermissionDenied):
        profile_edition_transition(
            user=planner_pankow, edition=edition, status="review"
        )
    assert not Goal.objects.exists()


def test_adopted_edition_keeps_its_numbers_after_a_new_import(
    indicators_2024, planner_mitte, tmp_path
):
    region = profile_region_get(code=REGION)
    edition = profile_edition_create(user=planner_mitte, region=region)
    assert edition.number == 1 and edition.ref_date == date(2024, 12, 31)
    _goal(planner_mitte, edition)
    edition = _adopt(planner_mitte, edition)
    frozen = profile_document(edition=edition)
    assert frozen["edition"]["status"] == "adopted"
    assert frozen["edition"]["decision_reference"] == "BA-Beschluss 12/2025"
    assert frozen["analysis"]["facts"]["residents"] == 16293

    # A corrected delivery for the same reference date replaces the values.
    ewr_import(ewr_variant(tmp_path, zeit="202412", factor=1.05, name="korr.csv"))
    indicators_compute()

    fresh = profile_document_for_region(region=region)
    assert fresh["edition"]["id"] == edition.pk
    assert fresh["analysis"] == frozen["analysis"]
    edition.refresh_from_db()
    assert profile_document(edition=edition)["analysis"]["facts"]["residents"] == 16293
    # The data itself did change: a Fortschreibung shows the new figures.
    draft = profile_edition_continue(user=planner_mitte, edition=edition)
    new_residents = profile_document(edition=draft)["analysis"]["facts"]["residents"]
    assert (
        new_residents
        == Observation.objects.get(
            variable__key="E_E", unit__code=REGION, ref_date=date(2024, 12, 31)
        ).value
    )
    assert new_residents > 16293


def test_adopted_edition_refuses_edits(indicators_2024, planner_mitte):
    region = profile_region_get(code=REGION)
    edition = profile_edition_create(user=planner_mitte, region=region)
    goal = _goal(planner_mitte, edition)
    edition = _adopt(planner_mitte, edition)
    with pytest.raises(ProfileError):
        _goal(planner_mitte, edition, text="Noch ein Ziel")
    with pytest.raises(ProfileError):
        measure_save(user=planner_mitte, goal=goal, text="Zu spät")
    with pytest.raises(ProfileError):
        assessment_save(
            user=planner_mitte, edition=edition, department="SGA", text="Zu spät"
        )
    with pytest.raises(ProfileError):
        profile_edition_transition(user=planner_mitte, edition=edition, status="draft")
    from core.models import AuditEvent

    steps = AuditEvent.objects.filter(
        action=AuditEvent.Action.STATUS, object_id=str(edition.pk)
    ).order_by("pk")
    assert [(e.user, e.details["to"]) for e in steps] == [
        (planner_mitte, "review"),
        (planner_mitte, "adopted"),
    ]
    assert steps.last().details["decision_reference"] == "BA-Beschluss 12/2025"
    assert edition.goals.count() == 1


def test_adoption_needs_date_and_decision(indicators_2024, planner_mitte):
    edition = profile_edition_create(
        user=planner_mitte, region=profile_region_get(code=REGION)
    )
    with pytest.raises(ProfileError):  # draft cannot skip the review
        profile_edition_transition(
            user=planner_mitte,
            edition=edition,
            status="adopted",
            adopted_on=date(2025, 1, 1),
            decision_reference="BA 1/2025",
        )
    profile_edition_transition(user=planner_mitte, edition=edition, status="review")
    with pytest.raises(ProfileError) as info:
        profile_edition_transition(
            user=planner_mitte, edition=edition, status="adopted"
        )
    assert set(info.value.message_dict) == {"adopted_on", "decision_reference"}
    edition.refresh_from_db()
    assert edition.status == "review" and edition.analysis_snapshot is None


def test_fortschreibung_copies_texts_and_compare_shows_changes(
    indicators_2024, planner_mitte
):
    region = profile_region_get(code=REGION)
    first = profile_edition_create(user=planner_mitte, region=region)
    kita = _goal(planner_mitte, first)
    measure_save(
        user=planner_mitte,
        goal=kita,
        text="Kita Lützowstraße erweitern",
        department="Jugendamt",
        due=date(2026, 6, 30),
    )
    _goal(planner_mitte, first, text="Spielplätze sanieren")
    assessment_save(
        user=planner_mitte, edition=first, department="SGA", text="Hoher Bedarf."
    )
    first = _adopt(planner_mitte, first)
    second = profile_edition_continue(user=planner_mitte, edition=first)
    with pytest.raises(ProfileError):  # one edition in progress at a time
        profile_edition_continue(user=planner_mitte, edition=first)
    assert second.number == 2
    assert second.based_on == first and second.status == "draft"
    assert second.goals.count() == 2 and second.assessments.count() == 1
    copied = second.goals.get(text="Mehr Kitaplätze schaffen")
    assert copied.origin == kita
    assert copied.measures.get().text == "Kita Lützowstraße erweitern"

    goal_save(
        user=planner_mitte,
        edition=second,
        goal=copied,
        theme=copied.theme,
        text=copied.text,
        department=copied.department,
        priority=copied.priority,
        status="in_progress",
        indicators=copied.indicators,
    )
    second.goals.get(text="Spielplätze sanieren").delete()
    _goal(planner_mitte, second, text="Schulwegsicherheit verbessern")

    comparison = profile_edition_compare(old=first, new=second)
    assert [g["text"] for g in comparison["goals"]["added"]] == [
        "Schulwegsicherheit verbessern"
    ]
    assert [g["text"] for g in comparison["goals"]["removed"]] == [
        "Spielplätze sanieren"
    ]
    [changed] = comparison["goals"]["changed"]
    assert changed["fields"] == ["status"]
    u18 = next(r for r in comparison["indicators"] if r["key"] == "KI_ANTEIL_U18")
    assert u18["old"] == pytest.approx(u18["new"])
    assert u18["old_status"] == "ok"


def test_profiles_only_for_bezirksregionen(indicators_2024, planner_mitte):
    from lor.models import LorUnit

    plr = LorUnit.objects.get(code="01100101")
    with pytest.raises(ProfileError):
        profile_edition_create(user=planner_mitte, region=plr)
