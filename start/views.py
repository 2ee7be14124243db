from django.contrib.auth.mixins import LoginRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from core.access import Role, import_allowed, staff_tools_allowed, user_role

from .selectors import (
    SEARCH_MIN_LENGTH,
    start_district,
    start_district_profiles,
    start_latest_runs,
    start_saved_queries,
    start_search,
)

# What each role can do here, in one sentence at the top of the page.
ROLE_SUMMARY = {
    Role.ADMIN: _(
        "You can use every part of PRISMA: upload and release data, manage users "
        "and the catalogue, and see the audit log."
    ),
    Role.COORDINATOR: _(
        "You can upload your district's data, check and release it, and analyse "
        "all released data."
    ),
    Role.PLANNER: _(
        "You can analyse all released data, answer inquiries with saved queries "
        "and write your district's Bezirksregionenprofile."
    ),
    Role.GUEST: _(
        "You can read released data as maps, tables and Bezirksregionenprofile. "
        "Saving or uploading is reserved for district staff."
    ),
}


def start_tasks(user) -> list[dict]:
    """The common tasks as one-click entries, only those the user's role may do."""
    tasks = [
        {
            "url": reverse("analysis:explorer"),
            "label": _("Show a thematic map"),
            "hint": _("One variable or indicator as a map, table and export."),
            "testid": "task-map",
        },
        {
            "url": reverse("analysis:analyse"),
            "label": _("Compare units"),
            "hint": _("Several variables side by side, filters and charts."),
            "testid": "task-compare",
        },
    ]
    if staff_tools_allowed(user):
        tasks.append(
            {
                "url": reverse("queries:create"),
                "label": _("Answer an inquiry"),
                "hint": _("Save a selection with its Drucksache or BVV inquiry."),
                "testid": "task-inquiry",
            }
        )
    tasks.append(
        {
            "url": reverse("profiles:list"),
            "label": _("Read a Bezirksregionenprofil"),
            "hint": _("Facts, analysis, goals and measures of a Bezirksregion."),
            "testid": "task-profiles",
        }
    )
    if import_allowed(user):
        tasks.append(
            {
                "url": reverse("datapool:import-create"),
                "label": _("Upload data"),
                "hint": _("A table, an AfS matrix or facility points."),
                "testid": "task-upload",
            }
        )
    tasks.append(
        {
            "url": reverse("lor:map"),
            "label": _("Browse the LOR units"),
            "hint": _("Districts down to Planungsräume on a map."),
            "testid": "task-lor-map",
        }
    )
    return tasks


class StartView(LoginRequiredMixin, TemplateView):
    """What can I do here? Search, common tasks, news and the user's own work."""

    template_name = "start/start.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        q = self.request.GET.get("q", "")
        district = start_district(user=user)
        context.update(
            q=q.strip(),
            search_min_length=SEARCH_MIN_LENGTH,
            results=start_search(user=user, q=q) if q.strip() else None,
            role_summary=ROLE_SUMMARY.get(user_role(user)),
            tasks=start_tasks(user),
            runs=start_latest_runs(user=user),
            staff=staff_tools_allowed(user),
            saved_queries=start_saved_queries(user=user),
            district=district,
            district_profiles=(
                start_district_profiles(district=district) if district else []
            ),
        )
        return context
