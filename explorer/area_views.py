"""Custom areas (Gebietskulissen): list, create from keys or polygons, delete."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import Role, RoleRequiredMixin, user_is_admin
from core.audit import audit_record
from core.models import AuditEvent
from datapool.services.indicators import indicator_run_create
from datapool.services.observations import observations_delete_for_units
from datapool.services.runs import task_send
from datapool.tasks import indicator_run_execute_task
from lor.models import CustomAreaSet
from lor.selectors import custom_area_set_list
from lor.services import CustomAreaError, custom_area_set_create, custom_area_set_delete

from .forms import CustomAreaSetForm


class CustomAreaSetListView(LoginRequiredMixin, TemplateView):
    template_name = "explorer/area_set_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["area_sets"] = custom_area_set_list()
        return context


# Guests review; creating and deleting custom areas is staff work.
AREA_WRITERS = (Role.ADMIN, Role.COORDINATOR, Role.PLANNER)


class CustomAreaSetCreateView(RoleRequiredMixin, FormView):
    template_name = "explorer/area_set_form.html"
    form_class = CustomAreaSetForm
    allowed_roles = AREA_WRITERS

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            with transaction.atomic():
                custom_area_set_create(
                    name=data["name"],
                    kind=data["kind"],
                    description=data["description"],
                    areas=data["areas"],
                    owner=self.request.user,
                )
                run = indicator_run_create(user=self.request.user, custom_areas=True)
                transaction.on_commit(
                    lambda: task_send(task=indicator_run_execute_task, run_id=run.pk)
                )
        except CustomAreaError as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("The areas were created; their values are being computed."),
        )
        return redirect(run.get_absolute_url())


class CustomAreaSetDeleteView(RoleRequiredMixin, View):
    allowed_roles = AREA_WRITERS

    def post(self, request, pk):
        try:
            area_set = CustomAreaSet.objects.get(pk=pk)
        except CustomAreaSet.DoesNotExist as exc:
            raise Http404 from exc
        if area_set.owner_id != request.user.pk and not user_is_admin(request.user):
            raise PermissionDenied(
                _("Only its owner or an administrator may delete it.")
            )
        with transaction.atomic():
            observations_delete_for_units(
                unit_ids=list(area_set.areas.values_list("id", flat=True))
            )
            audit_record(
                user=request.user,
                action=AuditEvent.Action.DELETE,
                obj=area_set,
                details={"areas": area_set.areas.count()},
            )
            custom_area_set_delete(area_set=area_set)
        messages.success(request, _("The set of areas was deleted."))
        return redirect("analysis:area-set-list")
