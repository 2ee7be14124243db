from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.admin import AuditedAdminMixin

from .models import Facility, FacilityImport, FacilityType, SupplyRule
from .tasks import supply_rule_publish_task


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


@admin.register(SupplyRule)
class SupplyRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "facility_type",
        "demand_formula",
        "richtwert",
        "richtwert_unit",
        "richtwert_is_assumption",
        "catchment_m",
        "active",
    ]
    list_filter = ["facility_type", "active", "richtwert_is_assumption"]
    search_fields = ["key", "name", "demand_formula"]
    actions = ["publish"]

    @admin.action(description=_("Recompute and publish the supply analysis"))
    def publish(self, request, queryset) -> None:
        ids = list(queryset.values_list("id", flat=True))
        # After the commit, so the worker reads the rules as saved.
        transaction.on_commit(
            lambda: [supply_rule_publish_task.delay(pk) for pk in ids]
        )
        self.message_user(
            request,
            _(
                "The supply analysis of %(count)d rule(s) is being recomputed; "
                "the Datenpool shows the new values in a few seconds."
            )
            % {"count": len(ids)},
        )
