from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import Role, RoleRequiredMixin, data_edit_allowed
from core.http import selected_or_404
from datapool.access import (
    require_import_run_edit,
    require_variable_edit,
)

from .charts import berlin_series_svg
from .forms import (
    CatalogueFilterForm,
    ImportUploadForm,
    TableMappingForm,
    UnknownKeyForm,
    VariableEditForm,
)
from .models import ImportRun, Supplier, Variable
from .selectors import (
    facility_layer_for_variable,
    facility_layer_list,
    import_run_conversions,
    import_run_get,
    import_run_list,
    import_run_variables,
    indicator_list,
    variable_berlin_series,
    variable_coverage,
    variable_get,
    variable_list,
    variable_supply,
)
from .services.catalogue import (
    facility_layer_location_set,
    variable_release,
    variable_update,
)
from .services.imports import (
    ImportRunNotRetryable,
    import_run_convert_old_scheme,
    import_run_map_columns,
    import_run_resolve_keys,
    import_run_retry,
    import_run_upload,
)
from .services.indicators import indicator_run_enqueue
from .services.inspection import InspectionRefused, import_run_inspect_enqueue


class VariableListView(LoginRequiredMixin, TemplateView):
    template_name = "datapool/variable_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = CatalogueFilterForm(
            self.request.GET or None, suppliers=Supplier.objects.order_by("name")
        )
        filters = form.cleaned_data if form.is_valid() else {}
        context.update(
            form=form,
            variables=variable_list(
                user=self.request.user,
                q=filters.get("q") or "",
                theme=filters.get("theme") or "",
                supplier=filters.get("supplier"),
                level=filters.get("level") or "",
            ),
        )
        return context


class VariableMixin:
    def get_variable(self) -> Variable:
        # Hidden (unreleased or confidential) variables look like unknown ones.
        return selected_or_404(
            variable_get, key=self.kwargs["key"], user=self.request.user
        )


class VariableDetailView(LoginRequiredMixin, VariableMixin, TemplateView):
    template_name = "datapool/variable_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        variable = self.get_variable()
        coverage = variable_coverage(variable=variable)
        context.update(
            variable=variable,
            coverage=coverage,
            coverage_rows=[
                (level, [coverage["cells"].get((level, d)) for d in coverage["dates"]])
                for level in coverage["levels"]
            ],
            deliveries=variable.deliveries.select_related("import_run")[:20],
            supply=variable_supply(variable=variable),
            facility_layer=facility_layer_for_variable(variable=variable),
            can_edit=data_edit_allowed(
                user=self.request.user,
                bezirk_code=variable.district.code if variable.district else None,
            ),
        )
        return context


class VariableChartView(LoginRequiredMixin, VariableMixin, View):
    def get(self, request, key):
        variable = self.get_variable()
        svg = berlin_series_svg(
            series=variable_berlin_series(variable=variable), unit=variable.unit
        )
        return HttpResponse(svg, content_type="image/svg+xml")


class VariableEditView(LoginRequiredMixin, VariableMixin, FormView):
    """Documentation of a variable, edited by its district's coordinator or admins."""

    template_name = "datapool/variable_form.html"
    form_class = VariableEditForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.variable = self.get_variable()
            require_variable_edit(user=request.user, variable=self.variable)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.variable}

    def get_context_data(self, **kwargs):
        return super().get_context_data(variable=self.variable, **kwargs)

    def form_valid(self, form):
        variable_update(
            user=self.request.user, variable=self.variable, data=form.cleaned_data
        )
        messages.success(self.request, _("The variable was saved."))
        return redirect(self.variable.get_absolute_url())


class VariableReleaseView(LoginRequiredMixin, VariableMixin, View):
    """POST released=1 releases the variable to all staff, released=0 withdraws."""

    def post(self, request, key):
        variable = self.get_variable()
        released = request.POST.get("released", "1") != "0"
        variable_release(user=request.user, variable=variable, released=released)
        messages.success(
            request,
            _("The variable was released.")
            if released
            else _("The release was withdrawn."),
        )
        return redirect(variable.get_absolute_url())


class FacilityLayerLocationView(LoginRequiredMixin, View):
    """POST location_confidential=1 marks the layer "Lage vertraulich", 0 lifts it."""

    def post(self, request, key):
        layer = facility_layer_list(user=request.user).filter(key=key).first()
        if layer is None:
            raise Http404
        confidential = request.POST.get("location_confidential", "1") != "0"
        facility_layer_location_set(
            user=request.user, layer=layer, location_confidential=confidential
        )
        messages.success(
            request,
            _("Only counts of this layer are shown now; the locations stay internal.")
            if confidential
            else _("The locations of this layer are shown again."),
        )
        return redirect("datapool:variable-detail", key=layer.count_variable_key)


# Imports are the workspace of data coordinators and administrators; planners
# follow them (read only), guests review released data only.
IMPORT_READERS = (Role.ADMIN, Role.COORDINATOR, Role.PLANNER)
IMPORT_WRITERS = (Role.ADMIN, Role.COORDINATOR)


class ImportListView(RoleRequiredMixin, TemplateView):
    template_name = "datapool/import_list.html"
    allowed_roles = IMPORT_READERS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["runs"] = import_run_list(user=self.request.user)[:100]
        return context


class ImportCreateView(RoleRequiredMixin, FormView):
    template_name = "datapool/import_form.html"
    form_class = ImportUploadForm
    allowed_roles = IMPORT_WRITERS

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        run = import_run_upload(
            user=self.request.user,
            upload=form.cleaned_data["file"],
            kind=form.cleaned_data["kind"] or None,
            district=form.cleaned_data["district"],
        )
        if run.kind == ImportRun.Kind.TABLE:
            # Tables need the user to map columns to variables before anything runs.
            return redirect("datapool:import-mapping", pk=run.pk)
        messages.success(
            self.request, _("The file was uploaded and the import started.")
        )
        return redirect(run.get_absolute_url())


class ImportRunMixin(RoleRequiredMixin):
    allowed_roles = IMPORT_READERS
    write_roles = IMPORT_WRITERS

    def get_run(self) -> ImportRun:
        return selected_or_404(
            import_run_get, pk=self.kwargs["pk"], user=self.request.user
        )


# More unknown keys than this get a summary and "skip all" instead of a
# question per key.
MANY_UNKNOWN_KEYS = 10


class ImportDetailView(ImportRunMixin, TemplateView):
    template_name = "datapool/import_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.get_run()
        context.update(
            run=run,
            variables=import_run_variables(import_run=run)
            if run.status == ImportRun.Status.SUCCEEDED
            else [],
            status_url=reverse("datapool-api:import-status", kwargs={"pk": run.pk}),
        )
        if run.status == ImportRun.Status.REVIEW:
            context["key_form"] = kwargs.get("key_form") or UnknownKeyForm(
                unknown_keys=run.summary.get("unknown_keys", [])
            )
            # Many unknown keys are decided at once (skip all, or convert an
            # old-scheme file), not with one question per key.
            context["many_keys"] = (
                len(run.summary.get("unknown_keys", [])) > MANY_UNKNOWN_KEYS
            )
        context["conversions"] = import_run_conversions(import_run=run)
        return context


class ImportResolveView(ImportRunMixin, View):
    def post(self, request, pk):
        run = self.get_run()
        action = request.POST.get("action")
        if action in ("lor2006", "skip_all"):
            try:
                if action == "lor2006":
                    import_run_convert_old_scheme(import_run=run, user=request.user)
                else:
                    import_run_resolve_keys(
                        import_run=run,
                        key_map={},
                        skip_keys=[
                            item["key"] for item in run.summary.get("unknown_keys", [])
                        ],
                        user=request.user,
                    )
            except ImportRunNotRetryable as exc:
                messages.error(request, str(exc))
            return redirect(run.get_absolute_url())
        form = UnknownKeyForm(
            request.POST, unknown_keys=run.summary.get("unknown_keys", [])
        )
        if not form.is_valid():
            detail = ImportDetailView()
            detail.setup(request, pk=pk)
            return detail.render_to_response(
                detail.get_context_data(pk=pk, key_form=form)
            )
        key_map, skip = form.decisions()
        try:
            import_run_resolve_keys(
                import_run=run, key_map=key_map, skip_keys=skip, user=request.user
            )
        except ImportRunNotRetryable as exc:
            messages.error(request, str(exc))
        return redirect(run.get_absolute_url())


class ImportRetryView(ImportRunMixin, View):
    def post(self, request, pk):
        run = self.get_run()
        try:
            import_run_retry(import_run=run, user=request.user)
            messages.success(request, _("The import was started again."))
        except ImportRunNotRetryable as exc:
            messages.error(request, str(exc))
        return redirect(run.get_absolute_url())


class ImportMappingView(ImportRunMixin, FormView):
    """Preview of a table and the mapping of its columns to variables.

    The table is read by the inspection task (``datapool.services.inspection``),
    never in this request: while the task runs the page polls the run, a failed
    inspection is explained, and an inspected table shows its stored preview.
    """

    template_name = "datapool/import_mapping.html"
    form_class = TableMappingForm
    allowed_roles = IMPORT_WRITERS

    def get(self, request, *args, **kwargs):
        if response := self._load():
            return response
        if self.preview is None:
            return self.render_to_response(self.get_context_data())
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if response := self._load():
            return response
        if self.preview is None:
            if "inspect" in request.POST and not self.inspecting:
                try:
                    import_run_inspect_enqueue(import_run=self.run)
                except InspectionRefused as exc:
                    messages.error(request, str(exc))
                return redirect("datapool:import-mapping", pk=self.run.pk)
            # Nothing to map: the table is being read, or cannot be.
            return self.render_to_response(self.get_context_data())
        return super().post(request, *args, **kwargs)

    def _load(self):
        self.run = self.get_run()
        require_import_run_edit(user=self.request.user, import_run=self.run)
        self.inspecting = self.run.awaits_inspection and self.run.status in {
            ImportRun.Status.QUEUED,
            ImportRun.Status.RUNNING,
        }
        if self.run.kind != ImportRun.Kind.TABLE or not (
            self.inspecting
            or self.run.status in {ImportRun.Status.DRAFT, ImportRun.Status.FAILED}
        ):
            return redirect(self.run.get_absolute_url())
        self.preview = self.run.inspection if self.run.is_inspected else None
        return None

    def get_form(self, form_class=None):
        return None if self.preview is None else super().get_form(form_class)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.update(
            preview=self.preview,
            variables=variable_list(user=self.request.user).values_list("key", "name"),
            mapping=self.run.options,
        )
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        failed = (
            self.run.awaits_inspection and self.run.status == ImportRun.Status.FAILED
        )
        context.update(
            run=self.run,
            preview=self.preview,
            inspecting=self.inspecting,
            # A table uploaded before inspections existed is read on request.
            uninspected=self.preview is None and not self.inspecting and not failed,
            problems=(
                [item.get("text") or item.get("message") for item in self.run.report]
                or [self.run.error]
                if failed
                else []
            ),
            status_url=reverse(
                "datapool-api:import-status", kwargs={"pk": self.run.pk}
            ),
        )
        return context

    def form_valid(self, form):
        try:
            import_run_map_columns(import_run=self.run, mapping=form.mapping())
        except ImportRunNotRetryable as exc:
            messages.error(self.request, str(exc))
        return redirect(self.run.get_absolute_url())


class IndicatorListView(LoginRequiredMixin, TemplateView):
    template_name = "datapool/indicator_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        indicators = indicator_list()
        themes: dict[str, list] = {}
        for indicator in indicators:
            themes.setdefault(indicator.get_theme_display(), []).append(indicator)
        context["themes"] = themes
        return context


class IndicatorRecomputeView(RoleRequiredMixin, View):
    allowed_roles = IMPORT_WRITERS

    def post(self, request):
        run = indicator_run_enqueue(user=request.user)
        messages.success(request, _("The indicators are being recomputed."))
        return redirect(run.get_absolute_url())
