from django.contrib import admin

from core.admin import AuditedAdminMixin

from .models import Facility, FacilityImport, FacilityType


@admin.register(FacilityType)
class FacilityTypeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["key", "name", "capacity_unit", "supply_variable", "district"]
    search_fields = ["key", "name"]


@admin.register(FacilityImport)
class FacilityImportAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["file_name", "facility_type", "imported_at"]
    list_filter = ["facility_type"]
    # An import is written by the import command; a new import replaces it.
    readonly_fields = ["facility_type", "file_name", "checksum", "summary"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Facility)
class FacilityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "facility_type",
        "unit",
        "capacity",
        "status",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["facility_type", "status"]
    search_fields = ["name", "source_key", "unit__code", "operator"]
    raw_id_fields = ["unit", "source_import"]
