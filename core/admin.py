from typing import TYPE_CHECKING, Any

from django.contrib import admin

from .audit import audit_record
from .models import AuditEvent, StaffProfile

if TYPE_CHECKING:
    _AdminBase = admin.ModelAdmin[Any]
else:
    _AdminBase = object


class AuditedAdminMixin(_AdminBase):
    """Changes made in the admin go to the audit log like those of the services."""

    def log_addition(self, request, obj, message):
        audit_record(
            user=request.user,
            action=AuditEvent.Action.CREATE,
            obj=obj,
            details={"via": "admin"},
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(
            user=request.user,
            action=AuditEvent.Action.CHANGE,
            obj=obj,
            details={"via": "admin", "message": message},
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit_record(
                user=request.user,
                action=AuditEvent.Action.DELETE,
                obj=obj,
                details={"via": "admin"},
            )
        return super().log_deletions(request, queryset)


@admin.register(StaffProfile)
class StaffProfileAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "bezirk"]
    list_filter = ["bezirk"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is written by the services, never edited by hand."""

    list_display = ["at", "username", "action", "object_type", "object_label"]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_label", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
