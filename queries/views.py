"""Saved queries for political inquiries: list, permalink page, create, actions."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from core.access import Role, RoleRequiredMixin, user_bezirk_code
from core.http import selected_or_404
from datapool.access import variables_require_visible
from explorer.selection import SelectionError
from infrastructure.scenario_forms import ScenarioAttachForm
from infrastructure.scenarios import scenario_list
from lor.models import LorUnit
from queries.models import SavedQuery

from .exports import saved_query_pinned_export
from .forms import SavedQueryForm
from .selectors import (
    saved_query_get,
    saved_query_list,
    saved_query_result,
    saved_query_scenarios,
    selection_column_names,
)
from .services import (
    saved_query_create,
    saved_query_delete,
    saved_query_duplicate,
    saved_query_pin,
    saved_query_scenarios_set,
    saved_query_unpin,
)


def _get_or_404(*, pk: int, user) -> SavedQuery:
    return selected_or_404(saved_query_get, pk=pk, user=user)


def _validation_message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def answer_table(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer shaped for a template: columns, and per row a list of cells."""
    columns = [{**c, "date": _parse_date(c.get("date"))} for c in answer["columns"]]
    rows = [
        {
            "code": row["code"],
            "name": row["name"],
            "match": row["match"],
            "cells": [
                {"value": row.get(c["key"]), "status": row.get(f"{c['key']}__status")}
                for c in columns
            ],
        }
        for row in answer["rows"]
    ]
    return {"columns": columns, "rows": rows}


class SavedQueryListView(LoginRequiredMixin, TemplateView):
    template_name = "queries/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        q = self.request.GET.get("q", "").replace("\x00", "").strip()[:100]
        context["q"] = q
        context["queries"] = saved_query_list(user=self.request.user, q=q)
        return context


class SavedQueryDetailView(LoginRequiredMixin, TemplateView):
    template_name = "queries/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = _get_or_404(pk=kwargs["pk"], user=self.request.user)
        variables_require_visible(
            user=self.request.user, keys=query.selection.get("columns") or []
        )
        current = self.request.GET.get("current") == "1"
        keys = query.selection.get("columns") or []
        names = selection_column_names(keys=keys)
        context.update(
            query=query,
            selection=query.selection,
            # Names first, keys as secondary text (a key unknown by now stays a key).
            selection_columns=[
                {"key": key, **names.get(key, {"name": "", "unit": ""})} for key in keys
            ],
            level_label=dict(LorUnit.Level.choices).get(
                query.selection.get("level"), query.selection.get("level")
            ),
            selection_date=_parse_date(query.selection.get("date")),
            is_owner=query.owner_id == self.request.user.pk,
            current=current,
        )
        context["scenarios"], context["scenarios_hidden"] = saved_query_scenarios(
            query=query, user=self.request.user
        )
        try:
            answer = saved_query_result(query=query, current=current)
        except SelectionError as exc:
            context["error"] = str(exc)
        else:
            context["answer"] = answer
            context["table"] = answer_table(answer)
        return context


class SavedQueryCreateView(RoleRequiredMixin, FormView):
    template_name = "queries/form.html"
    form_class = SavedQueryForm
    allowed_roles = (Role.ADMIN, Role.COORDINATOR, Role.PLANNER)

    def get_initial(self):
        # The explorer links here with its current selection and a title.
        initial = super().get_initial()
        # Sharing with "District" means the user's own district unless changed.
        code = user_bezirk_code(self.request.user)
        if code:
            initial["district"] = LorUnit.objects.filter(
                scheme=LorUnit.Scheme.LOR_2021, level=LorUnit.Level.BEZIRK, code=code
            ).first()
        for name in ("selection_json", "presentation_json", "title"):
            if self.request.GET.get(name):
                initial[name] = self.request.GET[name][:5000]
        return initial

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            query = saved_query_create(
                owner=self.request.user,
                title=data["title"],
                description=data["description"],
                inquiry_reference=data["inquiry_reference"],
                sharing=data["sharing"],
                district=data["district"],
                selection=data["selection"],
                presentation=data.get("presentation") or {},
            )
        except ValidationError as exc:
            form.add_error(None, _validation_message(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("The query was saved."))
        return redirect(query.get_absolute_url())


class _QueryActionView(LoginRequiredMixin, View):
    """POST-only action on a visible query; permission checks live in the service."""

    def post(self, request, pk):
        query = _get_or_404(pk=pk, user=request.user)
        try:
            return self.act(query)
        except ValidationError as exc:
            messages.error(request, _validation_message(exc))
            return redirect(query.get_absolute_url())

    def act(self, query: SavedQuery):
        raise NotImplementedError


class SavedQueryDuplicateView(_QueryActionView):
    def act(self, query):
        copy = saved_query_duplicate(query=query, user=self.request.user)
        messages.success(self.request, _("The query was duplicated."))
        return redirect(copy.get_absolute_url())


class SavedQueryDeleteView(_QueryActionView):
    def act(self, query):
        saved_query_delete(query=query, user=self.request.user)
        messages.success(self.request, _("The query was deleted."))
        return redirect("queries:list")


class SavedQueryPinView(_QueryActionView):
    def act(self, query):
        saved_query_pin(query=query, user=self.request.user)
        messages.success(self.request, _("The answer was pinned."))
        return redirect(query.get_absolute_url())


class SavedQueryUnpinView(_QueryActionView):
    def act(self, query):
        saved_query_unpin(query=query, user=self.request.user)
        messages.success(self.request, _("The query answers from current data again."))
        return redirect(query.get_absolute_url())


class SavedQueryPinnedExportView(LoginRequiredMixin, View):
    """The pinned answer of a visible query as a file; 404 without a pinned answer."""

    def get(self, request, pk, fmt):
        query = _get_or_404(pk=pk, user=request.user)
        variables_require_visible(
            user=request.user, keys=query.selection.get("columns") or []
        )
        try:
            content, content_type, filename = saved_query_pinned_export(
                query=query, fmt=fmt
            )
        except (SavedQuery.DoesNotExist, ValueError) as exc:
            raise Http404(_("This query has no pinned answer.")) from exc
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class SavedQueryScenariosView(LoginRequiredMixin, TemplateView):
    """The owner attaches planning scenarios to the query."""

    template_name = "queries/scenarios.html"

    def _form(self, query, data=None):
        return ScenarioAttachForm(
            data,
            scenarios=scenario_list(user=self.request.user),
            initial={"scenarios": list(query.scenarios.values_list("pk", flat=True))},
        )

    def _owned(self, pk) -> SavedQuery:
        query = _get_or_404(pk=pk, user=self.request.user)
        if query.owner_id != self.request.user.pk:
            raise PermissionDenied(_("Only the owner may change this query."))
        return query

    def get(self, request, pk):
        query = self._owned(pk)
        return self.render_to_response({"query": query, "form": self._form(query)})

    def post(self, request, pk):
        query = self._owned(pk)
        form = self._form(query, request.POST)
        if not form.is_valid():
            return self.render_to_response({"query": query, "form": form}, status=400)
        saved_query_scenarios_set(
            query=query,
            user=request.user,
            scenario_ids=[s.pk for s in form.cleaned_data["scenarios"]],
        )
        messages.success(request, _("The scenarios were attached."))
        return redirect(query.get_absolute_url())
