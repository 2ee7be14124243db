"""Funding pages: steering (map, table, time series, funding against need), projects,
their browser editing, the template import and the Fördermittelbericht.

Every signed-in user may read programmes, areas and projects; amounts are shown
to staff roles only (``core.access.funding_amounts_visible``), and the pages
say so to guests. Only the district's data coordinators and administrators
import and edit.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import (
    Role,
    RoleRequiredMixin,
    funding_amounts_visible,
    funding_edit_allowed,
    require_funding_amounts,
    require_funding_edit,
)
from core.audit import Action, audit_record
from core.http import selected_or_404
from datapool.numbers import german

from . import charts, report, template
from .forms import AmountForm, FundingUploadForm, ProjectForm, SteeringForm
from .models import EXAMPLE_NOTE, FundingArea, Programme, Project
from .selectors import (
    funding_area_list,
    funding_by_status_class,
    funding_by_unit,
    funding_by_year,
    funding_import_get,
    funding_import_list,
    funding_vs_status_index,
    need_credits,
    programme_list,
    project_get,
    project_list,
)
from .services.imports import funding_import_upload
from .services.projects import project_amount_set, project_update

IMPORT_ROLES = (Role.ADMIN, Role.COORDINATOR)


def _money(value: float | None, decimals: int = 0) -> str:
    return "–" if value is None else german(value, decimals)


class SteeringView(LoginRequiredMixin, TemplateView):
    """One page: funding per unit (map, table), per year, and against need."""

    template_name = "funding/steering.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = SteeringForm(self.request.GET or None)
        selection = form.selection()
        amounts = funding_amounts_visible(user)
        context.update(
            form=form,
            selection=selection,
            amounts_visible=amounts,
            programmes=programme_list(),
            areas=funding_area_list(district_code=selection["district_code"]),
            example_note=EXAMPLE_NOTE,
            may_import=user.is_authenticated
            and funding_edit_allowed(
                user=user, bezirk_code=selection["district_code"] or _own(user)
            ),
        )
        if not amounts:
            context["has_examples"] = True
            return context
        measure = selection["measure"]
        table = funding_by_unit(
            level=selection["level"],
            year=selection["year"],
            programme=selection["programme"],
            district_code=selection["district_code"],
        )
        rows = sorted(
            table.rows,
            key=lambda r: (-(r.per_resident(measure) or 0), r.code),
        )
        classes, class_date = funding_by_status_class(
            year=selection["year"],
            programme=selection["programme"],
            district_code=selection["district_code"],
            measure=measure,
        )
        query = self.request.GET.urlencode()
        by_year = funding_by_year(
            programme=selection["programme"], district_code=selection["district_code"]
        )
        context.update(
            table=table,
            year_rows=[
                {
                    "programme": name,
                    "year": year,
                    "approved": _money(values[0]),
                    "paid": _money(values[1]),
                }
                for name, years in by_year.items()
                for year, values in years.items()
            ],
            rows=[
                {
                    "code": r.code,
                    "name": r.name,
                    "residents": _money(r.residents),
                    "approved": _money(r.approved),
                    "paid": _money(r.paid),
                    "per_resident": _money(r.per_resident(measure), 2),
                    "projects": r.project_count,
                }
                for r in rows
            ],
            total_approved=_money(table.total_approved),
            total_paid=_money(table.total_paid),
            has_examples=table.has_examples,
            classes=[
                {
                    "label": c.label,
                    "units": c.units,
                    "residents": _money(c.residents),
                    "amount": _money(c.amount),
                    "per_resident": _money(c.per_resident, 2),
                }
                for c in classes
            ],
            class_date=class_date,
            need_credits=need_credits(),
            timeseries_url=reverse(
                "funding:chart", kwargs={"kind": "timeseries", "fmt": "svg"}
            )
            + f"?{query}",
            scatter_url=reverse(
                "funding:chart", kwargs={"kind": "scatter", "fmt": "svg"}
            )
            + f"?{query}",
            map_config={
                "geometryUrl": reverse(
                    "maps:geometry", kwargs={"level": selection["level"]}
                ),
                "valuesUrl": reverse("funding-api:values") + f"?{query}",
                "districtCode": selection["district_code"] or "",
                "areasUrl": reverse("funding-api:area-list")
                + (
                    f"?district={selection['district_code']}"
                    if selection["district_code"]
                    else ""
                ),
                "text": {
                    "perResident": _("EUR per resident"),
                    "noFunding": _("no funding"),
                    "loading": _("Loading map …"),
                    "failed": _("The map could not be loaded."),
                    "example": EXAMPLE_NOTE,
                    "areas": _("Funding areas (outline)"),
                },
            },
            report_district=selection["district_code"] or _own(self.request.user) or "",
        )
        return context


def _own(user) -> str | None:
    from core.access import user_bezirk_code

    return user_bezirk_code(user)


class ChartView(LoginRequiredMixin, View):
    """Time series per programme or the scatter against the MSS status index."""

    def get(self, request, kind: str, fmt: str):
        require_funding_amounts(request.user)
        if kind not in ("timeseries", "scatter") or fmt not in charts.FORMATS:
            raise Http404
        form = SteeringForm(request.GET or None)
        selection = form.selection()
        measure = selection["measure"]
        if kind == "timeseries":
            series = funding_by_year(
                programme=selection["programme"],
                district_code=selection["district_code"],
            )
            projects = list(
                project_list(
                    district_code=selection["district_code"],
                    programme=selection["programme"],
                )
            )
            from .selectors import funding_credits

            has_examples, credits = funding_credits(projects=projects)
            chart = charts.chart_timeseries(
                series=series,
                measure=measure,
                title=_("Funding per year and programme"),
                credits=credits,
                has_examples=has_examples,
                fmt=fmt,
            )
        else:
            points = funding_vs_status_index(
                year=selection["year"],
                programme=selection["programme"],
                district_code=selection["district_code"],
                measure=measure,
            )
            table = funding_by_unit(
                year=selection["year"],
                programme=selection["programme"],
                district_code=selection["district_code"],
            )
            chart = charts.chart_scatter(
                points=points,
                measure=measure,
                title=_("Do the funds reach the areas that need them?"),
                credits=[*table.credits, *need_credits()],
                has_examples=table.has_examples,
                fmt=fmt,
            )
        response = HttpResponse(chart.content, content_type=chart.content_type)
        response["Content-Disposition"] = f'inline; filename="{chart.filename}"'
        if chart.figures.get("r") is not None:
            response["X-Correlation"] = f"{chart.figures['r']:.4f}"
        return response


class ReportView(LoginRequiredMixin, View):
    """The Fördermittelbericht of a district, programme or area (PDF or XLSX)."""

    def get(self, request):
        require_funding_amounts(request.user)
        fmt = request.GET.get("format", "pdf")
        if fmt not in ("pdf", "xlsx"):
            return HttpResponse(
                _("Unknown format; choose pdf or xlsx."),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        programme = area = None
        bezirk = request.GET.get("bezirk") or None
        keys = [request.GET.get(name, "") for name in ("programm", "gebiet")]
        # Keys are checked before they reach a query (a NUL would be a 500).
        if (bezirk and not re.fullmatch(r"\d{2}", bezirk)) or any(
            key and not re.fullmatch(r"[-\w]{1,60}", key) for key in keys
        ):
            return HttpResponse(
                _("Unknown district, programme or funding area."),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        if request.GET.get("programm"):
            programme = Programme.objects.filter(key=request.GET["programm"]).first()
            if programme is None:
                raise Http404
        if request.GET.get("gebiet"):
            area = FundingArea.objects.filter(key=request.GET["gebiet"]).first()
            if area is None:
                raise Http404
        try:
            built = report.report_build(
                district_code=bezirk,
                programme=programme,
                area=area,
            )
        except report.ReportScopeError as exc:
            return HttpResponse(
                str(exc), status=400, content_type="text/plain; charset=utf-8"
            )
        content = (
            report.report_pdf(report=built)
            if fmt == "pdf"
            else report.report_xlsx(report=built)
        )
        audit_record(
            user=request.user,
            action=Action.EXPORT,
            object_type="funding.report",
            object_label=report.report_filename(report=built, fmt=fmt),
            details={
                "format": fmt,
                **{k: v for k, v in request.GET.items() if k != "format"},
            },
        )
        response = HttpResponse(
            content,
            content_type="application/pdf"
            if fmt == "pdf"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{report.report_filename(report=built, fmt=fmt)}"'
        )
        return response


class ProjectListView(LoginRequiredMixin, TemplateView):
    template_name = "funding/project_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = SteeringForm(self.request.GET or None)
        selection = form.selection()
        projects = list(
            project_list(
                district_code=selection["district_code"],
                programme=selection["programme"],
                year=selection["year"],
            )
        )
        amounts = funding_amounts_visible(self.request.user)
        rows = []
        for project in projects:
            row = {"project": project}
            if amounts:
                values = list(project.amounts.all())
                row["approved"] = _money(sum(float(a.approved) for a in values))
                row["paid"] = _money(sum(float(a.paid) for a in values))
            rows.append(row)
        context.update(
            form=form,
            rows=rows,
            amounts_visible=amounts,
            has_examples=any(p.is_example for p in projects),
            example_note=EXAMPLE_NOTE,
        )
        return context


class ProjectDetailView(LoginRequiredMixin, TemplateView):
    template_name = "funding/project_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        project = selected_or_404(project_get, pk=self.kwargs["pk"])
        user = self.request.user
        amounts = funding_amounts_visible(user)
        may_edit = funding_edit_allowed(user=user, bezirk_code=project.district.code)
        context.update(
            project=project,
            amounts_visible=amounts,
            amounts=[
                {
                    "year": a.year,
                    "approved": _money(float(a.approved), 2),
                    "paid": _money(float(a.paid), 2),
                }
                for a in project.amounts.order_by("year")
            ]
            if amounts
            else [],
            may_edit=may_edit,
            amount_form=AmountForm() if may_edit else None,
            example_note=EXAMPLE_NOTE,
        )
        return context


class ProjectEditMixin(LoginRequiredMixin):
    def get_project(self) -> Project:
        project = selected_or_404(project_get, pk=self.kwargs["pk"])
        require_funding_edit(user=self.request.user, bezirk_code=project.district.code)
        return project


class ProjectUpdateView(ProjectEditMixin, FormView):
    template_name = "funding/project_form.html"
    form_class = ProjectForm

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.project = self.get_project()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.project}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "project": self.project}

    def form_valid(self, form):
        fields = {name: form.cleaned_data[name] for name in form.Meta.fields}
        # The form changed the instance in memory already; the service compares
        # against the stored row.
        stored = project_get(pk=self.project.pk)
        try:
            project_update(user=self.request.user, project=stored, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("The project was saved."))
        return redirect(stored.get_absolute_url())


class AmountSetView(ProjectEditMixin, View):
    def post(self, request, pk: int):
        project = self.get_project()
        form = AmountForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(project.get_absolute_url())
        project_amount_set(user=request.user, project=project, **form.cleaned_data)
        messages.success(
            request,
            _("Amounts of %(year)s saved.") % {"year": form.cleaned_data["year"]},
        )
        return redirect(project.get_absolute_url())


class ImportCreateView(RoleRequiredMixin, FormView):
    template_name = "funding/import_form.html"
    form_class = FundingUploadForm
    allowed_roles = IMPORT_ROLES

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            columns=template.COLUMNS,
            status_words=list(template.STATUS_WORDS),
            programmes=programme_list(),
            areas=funding_area_list(),
            imports=funding_import_list(user=self.request.user)[:10],
        )
        return context

    def form_valid(self, form):
        run = funding_import_upload(
            user=self.request.user,
            upload=form.cleaned_data["file"],
            district=form.cleaned_data["district"],
            source=form.cleaned_data["source"],
            licence=form.cleaned_data["licence"],
        )
        messages.success(
            self.request, _("The file was uploaded and the import started.")
        )
        return redirect(run.get_absolute_url())


class ImportDetailView(LoginRequiredMixin, TemplateView):
    template_name = "funding/import_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = selected_or_404(
            funding_import_get, pk=self.kwargs["pk"], user=self.request.user
        )
        context.update(
            run=run,
            status_url=reverse("funding-api:import-status", kwargs={"pk": run.pk}),
            steering_url=reverse("funding:steering") + f"?district={run.district.code}",
        )
        return context


class TemplateDownloadView(LoginRequiredMixin, View):
    def get(self, request, fmt: str):
        if fmt == "csv":
            response = HttpResponse(
                template.template_csv(), content_type="text/csv; charset=utf-8"
            )
        elif fmt == "xlsx":
            response = HttpResponse(
                template.template_xlsx(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            raise Http404
        response["Content-Disposition"] = (
            f'attachment; filename="foerdermittel-vorlage.{fmt}"'
        )
        return response
