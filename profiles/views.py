"""Pages of the Bezirksregionenprofile: list, region, edition, forms, comparison.

Views parse input and call one service or selector. Services check the district
rule and raise ``PermissionDenied`` (Django answers 403) or ``ProfileError``
(shown to the user). The edit forms are shown only to those the same rule lets
save them (``_require_edit``); everyone else reads the edition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from core.access import district_edit_allowed, require_district_edit
from core.http import selected_or_404
from infrastructure.scenario_forms import ScenarioAttachForm
from infrastructure.scenarios import scenario_list
from lor.models import LorUnit

from . import services
from .analysis import profile_analysis_build
from .forms import (
    AssessmentForm,
    EditionForm,
    GoalForm,
    MeasureForm,
    ProfileFilterForm,
    TransitionForm,
)
from .models import Assessment, Goal, Measure, ProfileEdition
from .rendering import GEODATA_LINE, profile_chapters_context
from .selectors import (
    analysis_for_viewer,
    document_for_viewer,
    edition_measure_scenarios,
    profile_document,
    profile_edition_compare,
    profile_edition_get,
    profile_edition_list,
    profile_editions_of_region,
    profile_region_get,
)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _edition_or_404(pk: int) -> ProfileEdition:
    return selected_or_404(profile_edition_get, pk=pk)


def _require_edit(request, edition: ProfileEdition) -> None:
    """403 with the reason unless the user may save the edition's forms."""
    require_district_edit(user=request.user, bezirk_code=edition.region.code)


def _region_or_404(code: str) -> LorUnit:
    return selected_or_404(profile_region_get, code=code)


def _js_config(region: LorUnit) -> dict:
    return {
        "geometryUrl": reverse("maps:geometry", kwargs={"level": "planungsraum"}),
        "region": region.code,
        "basemapUrl": settings.PRISMA_BASEMAP_URL,
        "basemapAttribution": settings.PRISMA_BASEMAP_ATTRIBUTION,
        "text": {
            "suppressed": _("suppressed"),
            "belowMin": _("too few cases"),
            "noData": _("no data"),
            "loadError": _("The map could not be loaded."),
            "noValue": _("no value"),
        },
    }


GOAL_FIELD_LABELS = {
    "theme": _lazy("Theme"),
    "text": _lazy("Goal"),
    "department": _lazy("Responsible department"),
    "priority": _lazy("Priority"),
    "status": _lazy("Status"),
    "indicators": _lazy("Linked indicators"),
    "measures": _lazy("Measures"),
}


class ProfileListView(LoginRequiredMixin, TemplateView):
    template_name = "profiles/profile_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ProfileFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        bezirk = filters.get("bezirk", "")
        context.update(
            form=form,
            editions=profile_edition_list(
                bezirk_code=bezirk, status=filters.get("status", "")
            ),
            regions=LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021,
                level=LorUnit.Level.BEZIRKSREGION,
                code__startswith=bezirk,
            ).order_by("code"),
        )
        return context


class ProfileRegionView(LoginRequiredMixin, TemplateView):
    """A region's profile: its editions and, without any, the generated analysis."""

    template_name = "profiles/region.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        region = _region_or_404(kwargs["code"])
        editions = profile_editions_of_region(region=region)
        in_progress = next((e for e in editions if not e.is_frozen), None)
        analysis = (
            None
            if editions
            else analysis_for_viewer(
                analysis=profile_analysis_build(region=region, ref_date=None),
                user=self.request.user,
            )
        )
        context.update(
            region=region,
            editions=editions,
            in_progress=in_progress,
            can_edit=district_edit_allowed(
                user=self.request.user, bezirk_code=region.code
            ),
            edition_form=EditionForm(),
            profile_js_config=_js_config(region),
            live=True,
            analysis=analysis,
            chapters=profile_chapters_context(analysis=analysis) if analysis else None,
            geodata_line=GEODATA_LINE,
        )
        return context


class EditionCreateView(LoginRequiredMixin, View):
    """POST: start the first edition or the Fortschreibung of a region's profile."""

    def post(self, request, code: str):
        region = _region_or_404(code)
        form = EditionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Please check the reference date."))
            return HttpResponseRedirect(
                reverse("profiles:region", kwargs={"code": code})
            )
        try:
            edition = services.profile_edition_create(
                user=request.user,
                region=region,
                ref_date=form.cleaned_data["ref_date"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(
                reverse("profiles:region", kwargs={"code": code})
            )
        messages.success(
            request, _("Edition %(n)s was started.") % {"n": edition.number}
        )
        return HttpResponseRedirect(edition.get_absolute_url())


class EditionDetailView(LoginRequiredMixin, TemplateView):
    """The whole edition, print-friendly: analysis, goals, assessments, workflow."""

    template_name = "profiles/edition_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        edition = _edition_or_404(kwargs["pk"])
        document = document_for_viewer(
            document=profile_document(edition=edition), user=self.request.user
        )
        can_edit = district_edit_allowed(
            user=self.request.user, bezirk_code=edition.region.code
        )
        context.update(
            edition=edition,
            region=edition.region,
            document=document,
            analysis=document["analysis"],
            chapters=profile_chapters_context(
                analysis=document["analysis"], goals=document["goals"]
            ),
            geodata_line=GEODATA_LINE,
            indicator_names={
                i["key"]: i["name"]
                for theme in document["analysis"].get("themes", [])
                for i in theme["indicators"]
            },
            can_edit=can_edit and not edition.is_frozen,
            can_continue=can_edit
            and edition.is_frozen
            and not edition.profile.editions.exclude(status="adopted").exists(),
            transition_form=TransitionForm(),
            profile_js_config=_js_config(edition.region),
            measure_scenarios=edition_measure_scenarios(
                edition=edition, user=self.request.user
            ),
            live=not edition.is_frozen,
            other_editions=[
                e
                for e in profile_editions_of_region(region=edition.region)
                if e.pk != edition.pk
            ],
        )
        return context


class EditionUpdateView(LoginRequiredMixin, View):
    template_name = "profiles/form.html"

    def _render(self, request, edition, form, status=200):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "edition": edition,
                "heading": _("Edit edition"),
                "cancel_url": edition.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk: int):
        edition = _edition_or_404(pk)
        _require_edit(request, edition)
        form = EditionForm(
            initial={
                "title": edition.title,
                "ref_date": edition.ref_date.isoformat() if edition.ref_date else "",
            }
        )
        return self._render(request, edition, form)

    def post(self, request, pk: int):
        edition = _edition_or_404(pk)
        form = EditionForm(request.POST)
        if form.is_valid():
            try:
                services.profile_edition_update(
                    user=request.user,
                    edition=edition,
                    title=form.cleaned_data["title"],
                    ref_date=form.cleaned_data["ref_date"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(edition.get_absolute_url())
        return self._render(request, edition, form, status=400)


class EditionTransitionView(LoginRequiredMixin, View):
    """POST: draft → in review → adopted (or back to draft)."""

    def post(self, request, pk: int):
        edition = _edition_or_404(pk)
        form = TransitionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("The status change could not be read."))
            return HttpResponseRedirect(edition.get_absolute_url())
        try:
            edition = services.profile_edition_transition(
                user=request.user,
                edition=edition,
                status=form.cleaned_data["status"],
                adopted_on=form.cleaned_data["adopted_on"],
                decision_reference=form.cleaned_data["decision_reference"],
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(
                request,
                _("The edition is now “%(status)s”.")
                % {"status": edition.get_status_display()},
            )
        return HttpResponseRedirect(edition.get_absolute_url())


class EditionContinueView(LoginRequiredMixin, View):
    """POST: start a Fortschreibung of an adopted edition."""

    def post(self, request, pk: int):
        edition = _edition_or_404(pk)
        try:
            new = services.profile_edition_continue(user=request.user, edition=edition)
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(edition.get_absolute_url())
        messages.success(
            request,
            _("Edition %(n)s continues edition %(m)s with current data.")
            % {"n": new.number, "m": edition.number},
        )
        return HttpResponseRedirect(new.get_absolute_url())


class EditionCompareView(LoginRequiredMixin, TemplateView):
    """Two editions side by side: indicator values and goals."""

    template_name = "profiles/compare.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        new = _edition_or_404(kwargs["pk"])
        other = self.request.GET.get("with", "")
        if other.isdigit():
            old = _edition_or_404(int(other))
        elif new.based_on_id:
            old = _edition_or_404(new.based_on_id)
        else:
            raise Http404
        if old.profile_id != new.profile_id:
            raise Http404
        if old.number > new.number:
            old, new = new, old
        comparison = profile_edition_compare(old=old, new=new)
        for change in comparison["goals"]["changed"]:
            change["field_labels"] = [
                str(GOAL_FIELD_LABELS.get(f, f)) for f in change["fields"]
            ]
        context.update(region=new.region, old=old, new=new, comparison=comparison)
        return context


# --- goals, measures, assessments ------------------------------------------------


def _goal_or_404(pk: int) -> Goal:
    return get_object_or_404(
        Goal.objects.select_related("edition__profile__region"), pk=pk
    )


@dataclass(frozen=True)
class _Part:
    """A kind of part of an edition (goal, measure, assessment): how to edit it.

    A part belongs to a container, the edition or (a measure) a goal; its save
    service takes the container and the part by these names.
    """

    model: type[Goal | Measure | Assessment]
    form_class: type[GoalForm | MeasureForm | AssessmentForm]
    new_heading: str
    edit_heading: str
    container: str
    save: Callable[..., object]
    delete: Callable[..., None]

    @property
    def name(self) -> str:
        return self.model._meta.model_name

    def container_or_404(self, pk: int) -> ProfileEdition | Goal:
        return _goal_or_404(pk) if self.container == "goal" else _edition_or_404(pk)

    def get_or_404(self, pk: int) -> Goal | Measure | Assessment:
        path = "goal__edition" if self.container == "goal" else "edition"
        return get_object_or_404(
            self.model.objects.select_related(f"{path}__profile__region"), pk=pk
        )

    def edition_of(self, container: ProfileEdition | Goal) -> ProfileEdition:
        return container.edition if isinstance(container, Goal) else container


PARTS = {
    part.name: part
    for part in (
        _Part(
            Goal,
            GoalForm,
            _lazy("New goal"),
            _lazy("Edit goal"),
            container="edition",
            save=services.goal_save,
            delete=services.goal_delete,
        ),
        _Part(
            Measure,
            MeasureForm,
            _lazy("New measure"),
            _lazy("Edit measure"),
            container="goal",
            save=services.measure_save,
            delete=services.measure_delete,
        ),
        _Part(
            Assessment,
            AssessmentForm,
            _lazy("New assessment"),
            _lazy("Edit assessment"),
            container="edition",
            save=services.assessment_save,
            delete=services.assessment_delete,
        ),
    )
}


class PartFormView(LoginRequiredMixin, View):
    """GET shows the form of a new or existing part, POST hands it to its service.

    ``part`` names the kind in ``PARTS``; with ``creating`` the URL's pk is the
    container's, otherwise the part's. Errors stay on the form.
    """

    template_name = "profiles/form.html"
    part = ""
    creating = False

    def objects(self, pk: int):
        """The edition, the part's container and the part (None when creating)."""
        part = PARTS[self.part]
        if self.creating:
            container, obj = part.container_or_404(pk), None
        else:
            obj = part.get_or_404(pk)
            container = getattr(obj, part.container)
        return part.edition_of(container), container, obj

    def _render(self, request, edition, form, status=200):
        part = PARTS[self.part]
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "edition": edition,
                "heading": part.new_heading if self.creating else part.edit_heading,
                "cancel_url": edition.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk: int):
        edition, _container, obj = self.objects(pk)
        _require_edit(request, edition)
        if edition.is_frozen:
            messages.error(
                request,
                _("This edition has been adopted and can no longer be changed."),
            )
            return HttpResponseRedirect(edition.get_absolute_url())
        form_class = PARTS[self.part].form_class
        initial = {} if obj is None else form_class.initial_for(obj)
        return self._render(
            request, edition, form_class(initial=initial, edition=edition)
        )

    def post(self, request, pk: int):
        edition, container, obj = self.objects(pk)
        part = PARTS[self.part]
        form = part.form_class(request.POST, edition=edition)
        if form.is_valid():
            existing = {} if obj is None else {part.name: obj}
            try:
                part.save(
                    user=request.user,
                    **{part.container: container},
                    **existing,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(edition.get_absolute_url() + "#goals")
        return self._render(request, edition, form, status=400)


class DeleteView(LoginRequiredMixin, View):
    """POST: remove a goal, measure or assessment of an edition not yet adopted."""

    def post(self, request, kind: str, pk: int):
        if kind not in PARTS:
            raise Http404
        part = PARTS[kind]
        obj = part.get_or_404(pk)
        edition = part.edition_of(getattr(obj, part.container))
        try:
            part.delete(user=request.user, **{kind: obj})
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Deleted."))
        return HttpResponseRedirect(edition.get_absolute_url() + "#goals")


class MeasureScenariosView(LoginRequiredMixin, View):
    """Attach planning scenarios to a measure (the edition's editors)."""

    template_name = "profiles/measure_scenarios.html"

    def _context(self, request, measure, form):
        return {
            "measure": measure,
            "edition": measure.goal.edition,
            "form": form,
        }

    def _form(self, request, measure, data=None):
        return ScenarioAttachForm(
            data,
            scenarios=scenario_list(user=request.user),
            initial={"scenarios": list(measure.scenarios.values_list("pk", flat=True))},
        )

    def _editable(self, request, pk: int):
        measure = PARTS["measure"].get_or_404(pk)
        _require_edit(request, measure.goal.edition)
        return measure

    def get(self, request, pk: int):
        measure = self._editable(request, pk)
        form = self._form(request, measure)
        return render(
            request, self.template_name, self._context(request, measure, form)
        )

    def post(self, request, pk: int):
        measure = self._editable(request, pk)
        form = self._form(request, measure, request.POST)
        if not form.is_valid():
            return render(
                request,
                self.template_name,
                self._context(request, measure, form),
                status=400,
            )
        try:
            services.measure_scenarios_set(
                user=request.user,
                measure=measure,
                scenario_ids=[s.pk for s in form.cleaned_data["scenarios"]],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(measure.goal.edition.get_absolute_url() + "#goals")
