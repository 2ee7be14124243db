from django.contrib import admin

from core.admin import AuditedAdminMixin

from .models import SavedQuery


@admin.register(SavedQuery)
class SavedQueryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "inquiry_reference", "owner", "sharing", "pinned"]
    list_filter = ["sharing", "pinned"]
    search_fields = ["title", "description", "inquiry_reference"]
    raw_id_fields = ["owner"]
    readonly_fields = ["pinned_at", "snapshot", "created_at", "updated_at"]
