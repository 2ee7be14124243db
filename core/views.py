"""The audit log page for administrators."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.views.generic import TemplateView

from .access import Role, RoleRequiredMixin
from .audit import audit_event_list
from .models import AuditEvent


class AuditEventListView(RoleRequiredMixin, TemplateView):
    template_name = "core/audit_list.html"
    allowed_roles = (Role.ADMIN,)
    page_size = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET
        action = params.get("action", "")
        if action not in AuditEvent.Action.values:
            action = ""
        username = params.get("user", "").strip()[:150]
        events = audit_event_list(action=action, username=username)
        page = Paginator(events, self.page_size).get_page(params.get("page"))
        context.update(
            page=page,
            events=page.object_list,
            actions=AuditEvent.Action.choices,
            action=action,
            username=username,
        )
        return context
