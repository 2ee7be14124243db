"""PDF downloads of profiles (full and Kurzprofil) and the batch ZIP pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views import View

from core.access import (
    profile_batch_allowed,
    require_profile_batch,
    user_bezirk_code,
)
from core.http import selected_or_404
from lor.hierarchy import BEZIRKSREGION, level_of_key
from lor.models import LorUnit

from .batch import (
    BERLIN_SCOPE,
    BatchError,
    BatchRunningError,
    profile_batch_start,
    profile_batch_status,
    profile_batch_visible,
    profile_batch_zip_path,
)
from .rendering import profile_pdf_filename, profile_pdf_render


def _pdf_response(document: dict, variant: str, user) -> HttpResponse:
    from .selectors import document_for_viewer

    # Funding amounts only for staff roles: a guest's PDF has none.
    document = document_for_viewer(document=document, user=user)
    pdf = profile_pdf_render(
        document=document, variant=variant, language=get_language() or "de"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = profile_pdf_filename(document=document, variant=variant)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class RegionPdfView(LoginRequiredMixin, View):
    """The profile of a Bezirksregion: its latest adopted edition, else generated."""

    variant = "full"

    def get(self, request, code: str):
        from .selectors import profile_document_for_region, profile_region_get

        if level_of_key(code) != BEZIRKSREGION:
            raise Http404
        region = selected_or_404(profile_region_get, code=code)
        return _pdf_response(
            profile_document_for_region(region=region), self.variant, request.user
        )


class EditionPdfView(LoginRequiredMixin, View):
    """One edition of a profile, as it stands (frozen once adopted)."""

    variant = "full"

    def get(self, request, pk: int):
        from .selectors import profile_document, profile_edition_get

        edition = selected_or_404(profile_edition_get, pk=pk)
        return _pdf_response(
            profile_document(edition=edition), self.variant, request.user
        )


class _ScopeSelect(forms.Select):
    """A select whose Berlin option is shown but disabled for non-administrators."""

    berlin_allowed = True

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value == BERLIN_SCOPE and not self.berlin_allowed:
            option["attrs"]["disabled"] = True
        return option


class BatchForm(forms.Form):
    scope = forms.ChoiceField(label=_("Bezirksregionen of"), widget=_ScopeSelect)

    def __init__(self, *args, berlin_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        districts = LorUnit.objects.filter(
            scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK
        ).order_by("code")
        berlin = _("all of Berlin")
        if not berlin_allowed:
            berlin = _("all of Berlin (administrators only)")
        self.fields["scope"].choices = [
            (BERLIN_SCOPE, berlin),
            *((d.code, f"{d.code} {d.name}") for d in districts),
        ]
        self.fields["scope"].widget.berlin_allowed = berlin_allowed


class BatchFormView(LoginRequiredMixin, View):
    """Pick a district or Berlin and start the batch (not for guests: bounded work)."""

    template_name = "profiles/pdf/batch_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            # Guests get the reason (403), not a form they cannot use.
            require_profile_batch(user=request.user, berlin_wide=False)
        return super().dispatch(request, *args, **kwargs)

    def _form(self, request, data=None) -> BatchForm:
        berlin = profile_batch_allowed(user=request.user, berlin_wide=True)
        # Preselect the user's own district (Berlin for administrators).
        initial = {"scope": user_bezirk_code(request.user) or BERLIN_SCOPE}
        return BatchForm(data, initial=initial, berlin_allowed=berlin)

    def get(self, request):
        return render(request, self.template_name, {"form": self._form(request)})

    def post(self, request):
        form = self._form(request, request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        try:
            batch_id = profile_batch_start(
                scope=form.cleaned_data["scope"], user=request.user
            )
        except BatchRunningError as exc:
            form.add_error(None, str(exc))
            running_url = reverse("profiles:batch-status", args=[exc.batch_id])
            context = {"form": form, "running_url": running_url}
            return render(request, self.template_name, context, status=409)
        except BatchError as exc:
            form.add_error(None, str(exc))
            return render(request, self.template_name, {"form": form}, status=400)
        return redirect("profiles:batch-status", batch_id=batch_id)


def _status_or_404(batch_id, user) -> dict:
    """The batch's status; 404 if unknown or another user's (not even its id leaks)."""
    try:
        status = profile_batch_status(batch_id=str(batch_id))
    except BatchError as exc:
        raise Http404 from exc
    if not profile_batch_visible(status=status, user=user):
        raise Http404
    return status


class BatchStatusView(LoginRequiredMixin, View):
    def get(self, request, batch_id):
        status = _status_or_404(batch_id, request.user)
        return render(
            request,
            "profiles/pdf/batch_status.html",
            {
                "batch_id": batch_id,
                "status": status,
                "percent": _percent(status),
                "status_url": reverse(
                    "profiles:batch-status-json", kwargs={"batch_id": batch_id}
                ),
                "download_url": reverse(
                    "profiles:batch-download", kwargs={"batch_id": batch_id}
                ),
            },
        )


def _percent(status: dict) -> int:
    return round(100 * status["done"] / status["total"]) if status["total"] else 0


class BatchStatusJsonView(LoginRequiredMixin, View):
    def get(self, request, batch_id):
        status = _status_or_404(batch_id, request.user)
        public = {k: v for k, v in status.items() if k != "requested_by"}
        return JsonResponse({**public, "percent": _percent(status)})


class BatchDownloadView(LoginRequiredMixin, View):
    def get(self, request, batch_id):
        path = profile_batch_zip_path(batch_id=str(batch_id))
        if not path.exists():
            raise Http404
        status = _status_or_404(batch_id, request.user)
        name = f"bezirksregionenprofile-{status['scope'] or 'batch'}.zip"
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=name,
            content_type="application/zip",
        )
