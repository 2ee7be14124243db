"""Pages of the facility register: list, detail, create, edit, close, add a type,
upload (with a progress page). Views check the rule, parse a form, call a service."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.access import (
    can_edit_facility,
    facility_maintenance_allowed,
    require_facility_edit,
    require_facility_maintenance,
    user_bezirk_code,
    user_is_admin,
)

from .forms import (
    FacilityCloseForm,
    FacilityFilterForm,
    FacilityForm,
    FacilityTypeForm,
    FacilityUploadForm,
)
from .maintenance import (
    facility_close,
    facility_create,
    facility_type_create,
    facility_update,
)
from .models import Facility, FacilityUpload
from .selectors import facility_list, facility_type_list
from .uploads import ALIASES, facility_upload_create

PAGE_SIZE = 50


def _map_config(request, facility: Facility | None = None, editable: bool = False):
    point = None
    if facility is not None and facility.geom is not None:
        shown = facility.geom.point_on_surface.transform(4326, clone=True)
        point = [round(shown.y, 6), round(shown.x, 6)]
    return {
        "unitsUrl": reverse("lor-api:unit-list"),
        "basemapUrl": settings.PRISMA_BASEMAP_URL,
        "basemapAttribution": settings.PRISMA_BASEMAP_ATTRIBUTION,
        "point": point,
        "editable": editable,
        "text": {"placed": _("Location set: %(lat)s, %(lon)s")},
    }


def _editable_types(user):
    """The types a user may use: Berlin-wide and the own district's."""
    return facility_type_list(
        bezirk_code=None if user_is_admin(user) else user_bezirk_code(user) or ""
    )


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class FacilityListView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/facility_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = FacilityFilterForm(self.request.GET or None)
        filters = form.cleaned_data if form.is_valid() else {}
        bezirk = filters.get("bezirk")
        rows = facility_list(
            facility_type=filters.get("facility_type"),
            bezirk_code=bezirk.code if bezirk else "",
            status=filters.get("status") or "",
            q=filters.get("q") or "",
        )
        page = Paginator(rows, PAGE_SIZE).get_page(self.request.GET.get("page"))
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(
            form=form,
            page=page,
            query=query.urlencode(),
            may_maintain=facility_maintenance_allowed(self.request.user),
        )
        return context


class FacilityDetailView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/facility_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        facility = get_object_or_404(
            Facility.objects.select_related("facility_type", "unit"),
            pk=kwargs["pk"],
        )
        context.update(
            facility=facility,
            may_edit=can_edit_facility(self.request.user, facility),
            map_config=_map_config(self.request, facility),
        )
        return context


class FacilityCreateView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/facility_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_facility_maintenance(request.user)
        return super().dispatch(request, *args, **kwargs)

    def _form(self, data=None):
        return FacilityForm(
            data,
            types=_editable_types(self.request.user),
            initial={"status": Facility.Status.OPEN},
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self._context(self._form()))

    def _context(self, form):
        return self.get_context_data(
            form=form,
            creating=True,
            map_config=_map_config(self.request, editable=True),
        )

    def post(self, request, *args, **kwargs):
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                facility = facility_create(
                    user=request.user,
                    facility_type=data["facility_type"],
                    name=data["name"],
                    geom=data["geom"],
                    unit=data["unit"],
                    capacity=data["capacity"],
                    operator=data["operator"],
                    status=data["status"],
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The facility has been added."))
                return redirect("infrastructure:facility-detail", pk=facility.pk)
        return self.render_to_response(self._context(form), status=400)


class _FacilityEditBase(LoginRequiredMixin, TemplateView):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return super().dispatch(request, *args, **kwargs)
        self.facility = get_object_or_404(
            Facility.objects.select_related("facility_type", "unit"), pk=kwargs["pk"]
        )
        require_facility_edit(user=request.user, facility=self.facility)
        return super().dispatch(request, *args, **kwargs)


class FacilityEditView(_FacilityEditBase):
    template_name = "infrastructure/facility_form.html"

    def _form(self, data=None):
        f = self.facility
        initial = {
            "name": f.name,
            "capacity": f.capacity,
            "operator": f.operator,
            "status": f.status,
            "valid_from": f.valid_from,
            "valid_to": f.valid_to,
            "planungsraum": f.unit.code if f.unit_id and f.geom is None else "",
        }
        if f.geom is not None:
            shown = f.geom.point_on_surface.transform(4326, clone=True)
            initial.update(lat=round(shown.y, 6), lon=round(shown.x, 6))
        return FacilityForm(data, initial=initial, editing=True)

    def _context(self, form):
        return self.get_context_data(
            form=form,
            facility=self.facility,
            map_config=_map_config(self.request, self.facility, editable=True),
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self._context(self._form()))

    def post(self, request, *args, **kwargs):
        form = self._form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            changes = {
                k: data[k]
                for k in ("name", "capacity", "operator", "status")
                + ("valid_from", "valid_to")
            }
            # A polygon (green space) keeps its shape unless a new point is set.
            if form.has_changed() and {"lat", "lon"} & set(form.changed_data):
                changes["geom"] = data["geom"]
            if "planungsraum" in form.changed_data and data["geom"] is None:
                changes.update(geom=None, unit=data["unit"])
            try:
                facility_update(user=request.user, facility=self.facility, **changes)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("The changes have been saved."))
                return redirect("infrastructure:facility-detail", pk=self.facility.pk)
        return self.render_to_response(self._context(form), status=400)


class FacilityCloseView(_FacilityEditBase):
    template_name = "infrastructure/facility_close.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(
            self.get_context_data(form=FacilityCloseForm(), facility=self.facility)
        )

    def post(self, request, *args, **kwargs):
        form = FacilityCloseForm(request.POST)
        if form.is_valid():
            try:
                facility_close(
                    user=request.user,
                    facility=self.facility,
                    on=form.cleaned_data["on"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The facility is closed; from %(day)s it no longer counts.")
                    % {"day": form.cleaned_data["on"].strftime("%d.%m.%Y")},
                )
                return redirect("infrastructure:facility-detail", pk=self.facility.pk)
        return self.render_to_response(
            self.get_context_data(form=form, facility=self.facility), status=400
        )


class FacilityTypeCreateView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/type_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_facility_maintenance(request.user)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=FacilityTypeForm()))

    def post(self, request, *args, **kwargs):
        form = FacilityTypeForm(request.POST)
        if form.is_valid():
            try:
                facility_type = facility_type_create(
                    user=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The type “%(name)s” has been added.")
                    % {"name": facility_type.name},
                )
                return redirect(
                    reverse("infrastructure:facility-list")
                    + f"?facility_type={facility_type.key}"
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FacilityUploadCreateView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/upload_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            require_facility_maintenance(request.user)
        return super().dispatch(request, *args, **kwargs)

    def _context(self, form):
        return self.get_context_data(
            form=form,
            columns=[(field, names) for field, names in ALIASES.items()],
            uploads=_uploads_of(self.request.user)[:10],
        )

    def get(self, request, *args, **kwargs):
        form = FacilityUploadForm(types=_editable_types(request.user))
        return self.render_to_response(self._context(form))

    def post(self, request, *args, **kwargs):
        form = FacilityUploadForm(
            request.POST, request.FILES, types=_editable_types(request.user)
        )
        if form.is_valid():
            try:
                upload = facility_upload_create(
                    user=request.user,
                    file=form.cleaned_data["file"],
                    facility_type=form.cleaned_data["facility_type"],
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                return redirect("infrastructure:upload-detail", pk=upload.pk)
        return self.render_to_response(self._context(form), status=400)


def _uploads_of(user):
    """Uploads a user may follow: all for administrators, else the own district's."""
    uploads = FacilityUpload.objects.select_related("created_by", "facility_type")
    if user_is_admin(user):
        return uploads
    code = user_bezirk_code(user)
    if code is None:
        return uploads.filter(created_by=user)
    return uploads.filter(district__code=code)


def _upload_or_404(request, pk: int) -> FacilityUpload:
    require_facility_maintenance(request.user)
    upload = _uploads_of(request.user).filter(pk=pk).first()
    if upload is None:
        raise Http404(_("No such upload."))
    return upload


class FacilityUploadDetailView(LoginRequiredMixin, TemplateView):
    template_name = "infrastructure/upload_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        upload = _upload_or_404(self.request, kwargs["pk"])
        context.update(
            upload=upload,
            status_url=reverse("infrastructure:upload-status", args=[upload.pk]),
            problem_total=sum(g["count"] for g in upload.problems),
        )
        return context


class FacilityUploadStatusView(LoginRequiredMixin, TemplateView):
    """The upload's state as JSON for the progress page's poller."""

    def get(self, request, *args, **kwargs):
        upload = _upload_or_404(request, kwargs["pk"])
        return JsonResponse(
            {
                "id": upload.pk,
                "status": upload.status,
                "status_label": upload.get_status_display(),
                "percent": upload.percent,
                "rows_read": upload.summary.get("written", 0)
                + upload.summary.get("problems", 0),
                "rows_written": upload.summary.get("written", 0),
            }
        )
