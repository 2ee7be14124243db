"""Writes of Bezirksregionenprofile: editions, goals, measures, assessments, workflow.

Every service that writes checks the district rule itself
(``core.access.require_district_edit``), so the browser, the API and the shell
enforce the same rule; views translate ``PermissionDenied`` into 403. An adopted
edition is frozen: its analysis is stored as it was on adoption and every edit of
it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.access import require_district_edit
from core.audit import audit_record
from core.models import AuditEvent
from funding.models import Project
from infrastructure.scenarios import scenario_list
from lor.hierarchy import BEZIRK, key_prefix
from lor.models import LorUnit

from .analysis import profile_analysis_build, profile_ref_dates
from .models import Assessment, Goal, Measure, Profile, ProfileEdition


class ProfileError(ValidationError):
    """A workflow step is not possible; the message says why."""


def _require_edit(*, user, edition: ProfileEdition) -> None:
    require_district_edit(
        user=user, bezirk_code=key_prefix(edition.region.code, BEZIRK)
    )


def _require_open(edition: ProfileEdition) -> None:
    # Ask the database: a goal's cached edition may predate the adoption.
    if (
        edition.is_frozen
        or ProfileEdition.objects.filter(
            pk=edition.pk, status=ProfileEdition.Status.ADOPTED
        ).exists()
    ):
        raise ProfileError(
            _("This edition has been adopted and can no longer be changed.")
        )


def _require_changeable(*, user, edition: ProfileEdition) -> None:
    """The user may edit the edition's district and the edition is not adopted."""
    _require_edit(user=user, edition=edition)
    _require_open(edition)


def _next_sort_order(parts) -> int:
    """The sort order that puts a new part after the existing ``parts``."""
    return (parts.aggregate(n=Max("sort_order"))["n"] or 0) + 1


def _check_region(region: LorUnit) -> None:
    if (
        region.level != LorUnit.Level.BEZIRKSREGION
        or region.scheme != LorUnit.Scheme.LOR_2021
    ):
        raise ProfileError(_("Profiles exist only for Bezirksregionen (LOR 2021)."))


@transaction.atomic
def profile_edition_create(
    *,
    user,
    region: LorUnit,
    ref_date: date | None = None,
    title: str = "",
) -> ProfileEdition:
    """Start the first edition of a region's profile, or a Fortschreibung of it.

    With an adopted edition the new one continues the latest adopted one (see
    ``profile_edition_continue``); an edition still being worked on is refused.
    """
    _check_region(region)
    require_district_edit(user=user, bezirk_code=key_prefix(region.code, BEZIRK))
    profile, _created = Profile.objects.get_or_create(region=region)
    editions = ProfileEdition.objects.select_for_update().filter(profile=profile)
    if editions.exclude(status=ProfileEdition.Status.ADOPTED).exists():
        raise ProfileError(_("An edition of this profile is still being worked on."))
    latest_adopted = (
        editions.filter(status=ProfileEdition.Status.ADOPTED)
        .order_by("-number")
        .first()
    )
    if latest_adopted is not None:
        return profile_edition_continue(
            user=user, edition=latest_adopted, ref_date=ref_date, title=title
        )
    return _edition_new(
        user=user, profile=profile, ref_date=ref_date, title=title, based_on=None
    )


def _edition_new(*, user, profile, ref_date, title, based_on) -> ProfileEdition:
    dates = profile_ref_dates()
    if ref_date is not None and ref_date not in dates:
        raise ProfileError(
            _("There are no population figures for this reference date.")
        )
    number = (profile.editions.aggregate(n=Max("number"))["n"] or 0) + 1
    edition = ProfileEdition(
        profile=profile,
        number=number,
        title=title,
        # Fixed at creation, so the draft and its later adoption show the same date.
        ref_date=ref_date or (dates[-1] if dates else None),
        based_on=based_on,
        created_by=user if getattr(user, "pk", None) else None,
    )
    edition.full_clean()
    edition.save()
    return edition


@transaction.atomic
def profile_edition_continue(
    *,
    user,
    edition: ProfileEdition,
    ref_date: date | None = None,
    title: str = "",
) -> ProfileEdition:
    """A Fortschreibung: a new draft with fresh data and the adopted edition's texts.

    Goals, their measures and the assessments are copied; each copied goal points
    back to its origin, so editions can be compared goal by goal.
    """
    _require_edit(user=user, edition=edition)
    if not edition.is_frozen:
        raise ProfileError(
            _("Only an adopted edition can be continued (Fortschreibung).")
        )
    profile = Profile.objects.select_for_update().get(pk=edition.profile_id)
    if profile.editions.exclude(status=ProfileEdition.Status.ADOPTED).exists():
        raise ProfileError(_("An edition of this profile is still being worked on."))
    new = _edition_new(
        user=user,
        profile=profile,
        ref_date=ref_date,
        title=title or edition.title,
        based_on=edition,
    )
    for goal in edition.goals.prefetch_related("measures__funding_projects").order_by(
        "sort_order", "pk"
    ):
        copy = Goal.objects.create(
            edition=new,
            theme=goal.theme,
            text=goal.text,
            department=goal.department,
            priority=goal.priority,
            status=goal.status,
            indicators=list(goal.indicators or []),
            origin=goal,
            sort_order=goal.sort_order,
        )
        for m in goal.measures.all():
            copied = Measure.objects.create(
                goal=copy,
                text=m.text,
                department=m.department,
                status=m.status,
                due=m.due,
                sort_order=m.sort_order,
            )
            copied.funding_projects.set(m.funding_projects.all())
    Assessment.objects.bulk_create(
        Assessment(
            edition=new, department=a.department, text=a.text, sort_order=a.sort_order
        )
        for a in edition.assessments.order_by("sort_order", "pk")
    )
    return new


@transaction.atomic
def profile_edition_update(
    *, user, edition: ProfileEdition, title: str, ref_date: date | None
) -> ProfileEdition:
    """Change title and data reference date of an edition that is not adopted."""
    _require_changeable(user=user, edition=edition)
    if ref_date is not None and ref_date not in profile_ref_dates():
        raise ProfileError(
            _("There are no population figures for this reference date.")
        )
    edition.title = title
    edition.ref_date = ref_date
    edition.full_clean()
    edition.save()
    return edition


# Allowed workflow steps: from → to.
TRANSITIONS = {
    ProfileEdition.Status.DRAFT: {ProfileEdition.Status.REVIEW},
    ProfileEdition.Status.REVIEW: {
        ProfileEdition.Status.DRAFT,
        ProfileEdition.Status.ADOPTED,
    },
    ProfileEdition.Status.ADOPTED: set(),
}


@transaction.atomic
def profile_edition_transition(
    *,
    user,
    edition: ProfileEdition,
    status: str,
    adopted_on: date | None = None,
    decision_reference: str = "",
) -> ProfileEdition:
    """Move an edition draft → in review → adopted (or back to draft from review).

    Adoption needs the date and the Bezirksamt decision; it freezes the analysis
    as generated at this moment, so later imports do not change the edition.
    """
    _require_edit(user=user, edition=edition)
    edition = ProfileEdition.objects.select_for_update().get(pk=edition.pk)
    target = ProfileEdition.Status(status)
    if target not in TRANSITIONS[ProfileEdition.Status(edition.status)]:
        raise ProfileError(
            _("An edition cannot go from “%(from)s” to “%(to)s”.")
            % {"from": edition.get_status_display(), "to": target.label}
        )
    if target == ProfileEdition.Status.ADOPTED:
        errors = {}
        if adopted_on is None:
            errors["adopted_on"] = _("Please give the date of adoption.")
        if not decision_reference.strip():
            errors["decision_reference"] = _(
                "Please give the reference of the Bezirksamt decision."
            )
        if errors:
            raise ProfileError(errors)
        edition.adopted_on = adopted_on
        edition.decision_reference = decision_reference.strip()
        edition.analysis_snapshot = profile_analysis_build(
            region=edition.region, ref_date=edition.ref_date
        )
    previous = edition.status
    edition.status = target
    edition.full_clean()
    edition.save()
    audit_record(
        user=user,
        action=AuditEvent.Action.STATUS,
        obj=edition,
        details={
            "from": previous,
            "to": target.value,
            "adopted_on": adopted_on.isoformat() if adopted_on else None,
            "decision_reference": edition.decision_reference,
        },
    )
    return edition


# --- goals, measures, assessments ----------------------------------------------


def _indicator_keys(keys) -> list[str]:
    from datapool.models import Indicator

    keys = [k for k in dict.fromkeys(keys or []) if k]
    known = set(
        Indicator.objects.filter(variable__key__in=keys).values_list(
            "variable__key", flat=True
        )
    )
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise ProfileError(
            {"indicators": _("Unknown indicator(s): %s") % ", ".join(unknown)}
        )
    return keys


@transaction.atomic
def goal_save(
    *,
    user,
    edition: ProfileEdition,
    theme: str,
    text: str,
    department: str,
    priority: str = "medium",
    status: str = "open",
    indicators: list[str] | None = None,
    goal: Goal | None = None,
) -> Goal:
    """Create a goal in the edition, or update ``goal`` (which must belong to it)."""
    _require_changeable(user=user, edition=edition)
    if goal is None:
        goal = Goal(edition=edition, sort_order=_next_sort_order(edition.goals))
    elif goal.edition_id != edition.pk:
        raise ProfileError(_("The goal belongs to another edition."))
    goal.theme = theme
    goal.text = text.strip()
    goal.department = department.strip()
    goal.priority = priority
    goal.status = status
    goal.indicators = _indicator_keys(indicators)
    goal.full_clean()
    goal.save()
    return goal


@transaction.atomic
def goal_delete(*, user, goal: Goal) -> None:
    """Remove a goal and its measures from an edition that is not adopted."""
    _require_changeable(user=user, edition=goal.edition)
    goal.delete()


@transaction.atomic
def measure_save(
    *,
    user,
    goal: Goal,
    text: str,
    department: str = "",
    status: str = "planned",
    due: date | None = None,
    funding_projects: Iterable[Project] | None = None,
    measure: Measure | None = None,
) -> Measure:
    """Create a measure for the goal, or update ``measure`` (of the same goal).

    ``funding_projects`` (None: left as they are) must be projects of the
    region's district; the Fördermittelbericht lists the goal for them.
    """
    _require_changeable(user=user, edition=goal.edition)
    projects = None if funding_projects is None else list(funding_projects)
    if projects:
        bezirk = key_prefix(goal.edition.region.code, BEZIRK)
        foreign = [p for p in projects if p.district.code != bezirk]
        if foreign:
            raise ProfileError(
                {
                    "funding_projects": _(
                        "Only projects of the region's district can be linked: %s"
                    )
                    % ", ".join(str(p.number) for p in foreign)
                }
            )
    if measure is None:
        measure = Measure(goal=goal, sort_order=_next_sort_order(goal.measures))
    elif measure.goal_id != goal.pk:
        raise ProfileError(_("The measure belongs to another goal."))
    measure.text = text.strip()
    measure.department = department.strip()
    measure.status = status
    measure.due = due
    measure.full_clean()
    measure.save()
    if projects is not None:
        measure.funding_projects.set(projects)
    return measure


@transaction.atomic
def measure_delete(*, user, measure: Measure) -> None:
    _require_changeable(user=user, edition=measure.goal.edition)
    measure.delete()


@transaction.atomic
def assessment_save(
    *,
    user,
    edition: ProfileEdition,
    department: str,
    text: str,
    assessment: Assessment | None = None,
) -> Assessment:
    """Create or update a department's assessment of an edition not yet adopted."""
    _require_changeable(user=user, edition=edition)
    if assessment is None:
        assessment = Assessment(
            edition=edition, sort_order=_next_sort_order(edition.assessments)
        )
    elif assessment.edition_id != edition.pk:
        raise ProfileError(_("The assessment belongs to another edition."))
    assessment.department = department.strip()
    assessment.text = text.strip()
    assessment.full_clean()
    assessment.save()
    return assessment


@transaction.atomic
def assessment_delete(*, user, assessment: Assessment) -> None:
    _require_changeable(user=user, edition=assessment.edition)
    assessment.delete()


@transaction.atomic
def measure_scenarios_set(*, user, measure: Measure, scenario_ids: list[int]) -> None:
    """Attach the chosen planning scenarios (of those the user may open) to a
    measure of an edition not yet adopted; attached scenarios the user may not
    open stay attached."""
    _require_changeable(user=user, edition=measure.goal.edition)
    visible = scenario_list(user=user)
    chosen = list(visible.filter(pk__in=scenario_ids))
    kept = list(measure.scenarios.exclude(pk__in=visible.values("pk")))
    measure.scenarios.set([*chosen, *kept])
