"""Pages of the Bezirksregionenprofile: list, region, edition, forms, comparison.

Views parse input and call one service or selector. Services check the district
rule and raise ``PermissionDenied`` (Django answers 403) or ``ProfileError``
(shown to the user).
"""

from __future__ import annotations

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

from core.access import district_edit_allowed
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
from .selectors import (
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
    try:
        return profile_edition_get(pk=pk)
    except ProfileEdition.DoesNotExist as exc:
        raise Http404 from exc


def _region_or_404(code: str) -> LorUnit:
    try:
        return profile_region_get(code=code)
    except LorUnit.DoesNotExist as exc:
        raise Http404 from exc


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
            analysis=None
            if editions
            else profile_analysis_build(region=region, ref_date=None),
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
        document = profile_document(edition=edition)
        can_edit = district_edit_allowed(
            user=self.request.user, bezirk_code=edition.region.code
        )
        context.update(
            edition=edition,
            region=edition.region,
            document=document,
            analysis=document["analysis"],
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


class _EditFormView(LoginRequiredMixin, View):
    """GET shows the form, POST hands it to a service; errors stay on the form."""

    template_name = "profiles/form.html"
    form_class: type = GoalForm
    heading = ""

    def objects(self, pk: int) -> tuple[ProfileEdition, object]:
        raise NotImplementedError

    def initial(self, obj) -> dict:
        return {}

    def save(self, request, edition, obj, data) -> None:
        raise NotImplementedError

    def _render(self, request, edition, form, status=200):
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "edition": edition,
                "heading": self.heading,
                "cancel_url": edition.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk: int):
        edition, obj = self.objects(pk)
        if edition.is_frozen:
            messages.error(
                request,
                _("This edition has been adopted and can no longer be changed."),
            )
            return HttpResponseRedirect(edition.get_absolute_url())
        return self._render(
            request, edition, self.form_class(initial=self.initial(obj))
        )

    def post(self, request, pk: int):
        edition, obj = self.objects(pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.save(request, edition, obj, form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(edition.get_absolute_url() + "#goals")
        return self._render(request, edition, form, status=400)


def _goal_or_404(pk: int) -> Goal:
    return get_object_or_404(
        Goal.objects.select_related("edition__profile__region"), pk=pk
    )


class GoalCreateView(_EditFormView):
    form_class = GoalForm

    @property
    def heading(self):
        return _("New goal")

    def objects(self, pk):
        return _edition_or_404(pk), None

    def save(self, request, edition, obj, data):
        services.goal_save(user=request.user, edition=edition, **data)


class GoalUpdateView(_EditFormView):
    form_class = GoalForm

    @property
    def heading(self):
        return _("Edit goal")

    def objects(self, pk):
        goal = _goal_or_404(pk)
        return goal.edition, goal

    def initial(self, obj):
        return GoalForm.initial_for(obj)

    def save(self, request, edition, obj, data):
        services.goal_save(user=request.user, edition=edition, goal=obj, **data)


class MeasureCreateView(_EditFormView):
    form_class = MeasureForm

    @property
    def heading(self):
        return _("New measure")

    def objects(self, pk):
        goal = _goal_or_404(pk)
        return goal.edition, goal

    def save(self, request, edition, obj, data):
        services.measure_save(user=request.user, goal=obj, **data)


class MeasureUpdateView(_EditFormView):
    form_class = MeasureForm

    @property
    def heading(self):
        return _("Edit measure")

    def objects(self, pk):
        measure = get_object_or_404(
            Measure.objects.select_related("goal__edition__profile__region"), pk=pk
        )
        return measure.goal.edition, measure

    def initial(self, obj):
        return MeasureForm.initial_for(obj)

    def save(self, request, edition, obj, data):
        services.measure_save(user=request.user, goal=obj.goal, measure=obj, **data)


class AssessmentCreateView(_EditFormView):
    form_class = AssessmentForm

    @property
    def heading(self):
        return _("New assessment")

    def objects(self, pk):
        return _edition_or_404(pk), None

    def save(self, request, edition, obj, data):
        services.assessment_save(user=request.user, edition=edition, **data)


class AssessmentUpdateView(_EditFormView):
    form_class = AssessmentForm

    @property
    def heading(self):
        return _("Edit assessment")

    def objects(self, pk):
        assessment = get_object_or_404(
            Assessment.objects.select_related("edition__profile__region"), pk=pk
        )
        return assessment.edition, assessment

    def initial(self, obj):
        return {"department": obj.department, "text": obj.text}

    def save(self, request, edition, obj, data):
        services.assessment_save(
            user=request.user, edition=edition, assessment=obj, **data
        )


class DeleteView(LoginRequiredMixin, View):
    """POST: remove a goal, measure or assessment of an edition not yet adopted."""

    kinds = {
        "goal": (Goal, "edition", services.goal_delete, "goal"),
        "measure": (Measure, "goal__edition", services.measure_delete, "measure"),
        "assessment": (
            Assessment,
            "edition",
            services.assessment_delete,
            "assessment",
        ),
    }

    def post(self, request, kind: str, pk: int):
        if kind not in self.kinds:
            raise Http404
        model, path, delete, argument = self.kinds[kind]
        obj = get_object_or_404(model.objects.select_related(path), pk=pk)
        edition = obj.edition if kind != "measure" else obj.goal.edition
        try:
            delete(user=request.user, **{argument: obj})
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("Deleted."))
        return HttpResponseRedirect(edition.get_absolute_url() + "#goals")
