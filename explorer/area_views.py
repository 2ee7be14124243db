"""Custom areas (Gebietskulissen): list, create from keys or polygons, delete."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import Role, RoleRequiredMixin
from datapool.services.areas import custom_area_set_add, custom_area_set_remove
from lor.models import CustomAreaSet
from lor.selectors import custom_area_set_list
from lor.services import CustomAreaError

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
            run = custom_area_set_add(
                user=self.request.user,
                name=data["name"],
                kind=data["kind"],
                description=data["description"],
                areas=data["areas"],
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
        custom_area_set_remove(user=request.user, area_set=area_set)
        messages.success(request, _("The set of areas was deleted."))
        return redirect("analysis:area-set-list")
