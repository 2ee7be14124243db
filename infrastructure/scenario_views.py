"""Pages of the planning scenarios: list, create, the scenario page with its
map and changes, the computed comparison (polled), facilities and exports."""

from __future__ import annotations

from celery.result import AsyncResult
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.gis.db.models.functions import PointOnSurface, Transform
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import (
    STAFF_ROLES,
    RoleRequiredMixin,
    require_scenario_edit,
    scenario_edit_allowed,
)
from core.audit import Action, audit_record

from .models import Scenario, ScenarioChange
from .scenario_exports import scenario_export_pdf, scenario_export_xlsx
from .scenario_forms import ScenarioChangeForm, ScenarioForm, ScenarioResultForm
from .scenarios import (
    MARKER,
    plr_point_on_surface,
    scenario_change_add,
    scenario_change_delete,
    scenario_changes,
    scenario_create,
    scenario_delete,
    scenario_get,
    scenario_list,
    scenario_refusal,
    scenario_register_facilities,
    scenario_update,
)
from .supply import CATCHMENT, METHOD_LABELS, WITHIN, SupplyError
from .tasks import scenario_compute_task


def _scenario(request, pk: int) -> Scenario:
    """The scenario if the user may open it; 403 with the reason if it exists."""
    try:
        return scenario_get(pk=pk, user=request.user)
    except Scenario.DoesNotExist:
        reason = scenario_refusal(pk=pk)
        if reason:
            raise PermissionDenied(reason) from None
        raise Http404 from None


def _form_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ScenarioListView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/scenario_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["scenarios"] = scenario_list(user=self.request.user)
        return context


class ScenarioCreateView(RoleRequiredMixin, FormView):
    template_name = "infrastructure/scenario_form.html"
    form_class = ScenarioForm
    allowed_roles = STAFF_ROLES

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            scenario = scenario_create(
                owner=self.request.user,
                title=data["title"],
                description=data["description"],
                rule=data["rule"],
                ref_date=data["ref_date"],
                shared=data["shared"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        return redirect(scenario)


class ScenarioEditView(RoleRequiredMixin, FormView):
    template_name = "infrastructure/scenario_form.html"
    form_class = ScenarioForm
    allowed_roles = STAFF_ROLES

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.scenario = _scenario(request, kwargs["pk"])
            require_scenario_edit(user=request.user, scenario=self.scenario)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "instance": self.scenario,
            "editing": True,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(scenario=self.scenario, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            scenario_update(
                scenario=self.scenario,
                user=self.request.user,
                title=data["title"],
                description=data["description"],
                ref_date=data["ref_date"],
                shared=data["shared"],
            )
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        return redirect(self.scenario)


class ScenarioDeleteView(RoleRequiredMixin, View):
    allowed_roles = STAFF_ROLES

    def post(self, request, pk: int):
        scenario_delete(scenario=_scenario(request, pk), user=request.user)
        messages.success(request, _("The scenario was deleted."))
        return redirect("scenarios:list")


def _facility_choices(scenario: Scenario):
    return scenario_register_facilities(scenario=scenario)


class ScenarioDetailView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/scenario_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        scenario = _scenario(self.request, kwargs["pk"])
        form = kwargs.get("change_form") or ScenarioChangeForm(
            scenario=scenario,
            facilities=_facility_choices(scenario),
            initial={"kind": ScenarioChange.Kind.ADD},
        )
        pk = scenario.pk
        context.update(
            scenario=scenario,
            changes=scenario_changes(scenario=scenario),
            can_edit=scenario_edit_allowed(user=self.request.user, scenario=scenario),
            change_form=form,
            marker=MARKER,
            methods=[
                (WITHIN, METHOD_LABELS[WITHIN]),
                (CATCHMENT, METHOD_LABELS[CATCHMENT]),
            ],
            scenario_config={
                "urls": {
                    "result": reverse("scenarios:result", kwargs={"pk": pk}),
                    "facilities": reverse("scenarios:facilities", kwargs={"pk": pk}),
                    "geometry": reverse("maps:geometry", kwargs={"level": "LEVEL"}),
                },
                "capacityUnit": scenario.rule.facility_type.capacity_unit,
                "text": {
                    "loading": _("Computing…"),
                    "error": _("The comparison could not be computed."),
                    "before": _("Before"),
                    "after": _("After"),
                    "change": _("Difference"),
                    "noData": _("no data"),
                    "points": _("percentage points"),
                    "register": _("Facility of the register"),
                    "added": _("added in the scenario"),
                    "moved": _("moved in the scenario"),
                    "closed": _("closed in the scenario"),
                    "resized": _("capacity changed in the scenario"),
                    "chosen": _("Location chosen: {lat}, {lon}"),
                    "noneChanged": _("No unit changes its class."),
                    "worse": _("worse"),
                    "better": _("better"),
                    "suppressed": _("suppressed"),
                },
            },
        )
        return context


class ScenarioChangeAddView(RoleRequiredMixin, View):
    allowed_roles = STAFF_ROLES

    def post(self, request, pk: int):
        scenario = _scenario(request, pk)
        form = ScenarioChangeForm(
            request.POST, scenario=scenario, facilities=_facility_choices(scenario)
        )
        if form.is_valid():
            data = form.cleaned_data
            point = data["point"]
            try:
                if point is None and data.get("planungsraum"):
                    point = plr_point_on_surface(code=data["planungsraum"])
                scenario_change_add(
                    scenario=scenario,
                    user=request.user,
                    kind=data["kind"],
                    facility=data.get("facility"),
                    name=data.get("name") or "",
                    geom=point,
                    capacity=data.get("capacity"),
                    closing_date=data.get("closing_date"),
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("The change was added to the scenario."))
                return redirect(scenario)
        view = ScenarioDetailView(request=request, kwargs={"pk": pk})
        context = view.get_context_data(pk=pk, change_form=form)
        return view.render_to_response(context, status=400)


class ScenarioChangeDeleteView(RoleRequiredMixin, View):
    allowed_roles = STAFF_ROLES

    def post(self, request, pk: int, change_pk: int):
        scenario = _scenario(request, pk)
        change = scenario.changes.filter(pk=change_pk).first()
        if change is None:
            return redirect(scenario)
        scenario_change_delete(change=change, user=request.user)
        messages.success(request, _("The change was undone."))
        return redirect(scenario)


def _result_params(request) -> tuple[str, str] | None:
    form = ScenarioResultForm(request.GET)
    if not form.is_valid():
        return None
    return (
        form.cleaned_data.get("method") or CATCHMENT,
        form.cleaned_data.get("level") or "planungsraum",
    )


class ScenarioResultView(LoginRequiredMixin, View):
    """Start the computation; answer the result at once if it is ready (tests,
    a fast run), else where to poll."""

    def get(self, request, pk: int):
        scenario = _scenario(request, pk)
        params = _result_params(request)
        if params is None:
            return JsonResponse(
                {"state": "failed", "error": _("Unknown method or level.")}, status=400
            )
        task = scenario_compute_task.delay(scenario.pk, *params)
        if task.ready():
            return _task_answer(task, scenario)
        return JsonResponse(
            {
                "state": "pending",
                "status": reverse(
                    "scenarios:result-status",
                    kwargs={"pk": scenario.pk, "task_id": task.id},
                ),
            }
        )


def _task_answer(task, scenario: Scenario) -> JsonResponse:
    if task.successful():
        result = task.get()
        if not isinstance(result, dict) or result.get("scenario") != scenario.pk:
            return JsonResponse(
                {"state": "failed", "error": _("Unknown task.")}, status=404
            )
        if result.get("error"):
            return JsonResponse({"state": "failed", "error": result["error"]})
        return JsonResponse({"state": "done", "result": result})
    if task.failed():
        return JsonResponse(
            {"state": "failed", "error": _("The comparison could not be computed.")}
        )
    return JsonResponse({"state": "pending"})


class ScenarioResultStatusView(LoginRequiredMixin, View):
    def get(self, request, pk: int, task_id: str):
        scenario = _scenario(request, pk)
        return _task_answer(AsyncResult(task_id[:64]), scenario)


class ScenarioFacilitiesView(LoginRequiredMixin, View):
    """The register's facilities of the scenario's type on its date, and what
    the scenario does to them, as points in EPSG:4326."""

    def get(self, request, pk: int):
        scenario = _scenario(request, pk)
        rows = (
            scenario_register_facilities(scenario=scenario)
            .filter(geom__isnull=False)
            .annotate(p=Transform(PointOnSurface("geom"), 4326))
            .values_list("pk", "name", "capacity", "p")
        )
        facilities = [
            {
                "id": fid,
                "name": name,
                "capacity": float(capacity),
                "lat": round(p.y, 6),
                "lon": round(p.x, 6),
            }
            for fid, name, capacity, p in rows
        ]
        changes = []
        for change in scenario_changes(scenario=scenario):
            item = {
                "kind": change.kind,
                "facility": change.facility_id,
                "name": change.name,
                "capacity": float(change.capacity)
                if change.capacity is not None
                else None,
                "closing_date": change.closing_date.isoformat()
                if change.closing_date
                else None,
            }
            if change.geom is not None:
                p = change.geom.transform(4326, clone=True)
                item.update(lat=round(p.y, 6), lon=round(p.x, 6))
            changes.append(item)
        return JsonResponse({"facilities": facilities, "changes": changes})


class ScenarioExportView(LoginRequiredMixin, View):
    def get(self, request, pk: int, fmt: str):
        scenario = _scenario(request, pk)
        params = _result_params(request)
        if params is None or fmt not in ("xlsx", "pdf"):
            raise Http404(_("Unknown format."))
        exporter = scenario_export_xlsx if fmt == "xlsx" else scenario_export_pdf
        try:
            content, content_type, filename = exporter(
                scenario=scenario, method=params[0], level=params[1]
            )
        except SupplyError as exc:
            messages.error(request, str(exc))
            return redirect(scenario)
        audit_record(
            user=request.user,
            action=Action.EXPORT,
            obj=scenario,
            object_label=filename,
            details={"format": fmt, "method": params[0], "level": params[1]},
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
