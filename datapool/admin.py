from django.contrib import admin
from django.contrib.gis import admin as gis_admin

from core.admin import AuditedAdminMixin

from .models import (
    Coverage,
    Delivery,
    Facility,
    FacilityLayer,
    ImportRun,
    Indicator,
    Supplier,
    Variable,
    VariableComponent,
)


@admin.register(Supplier)
class SupplierAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "district"]
    list_filter = ["kind"]


class VariableComponentInline(admin.TabularInline):
    """The components of a harmonised sum (kept in variable_components.csv)."""

    model = VariableComponent
    fk_name = "total"
    raw_id_fields = ["component"]
    extra = 0


@admin.register(Variable)
class VariableAdmin(AuditedAdminMixin, admin.ModelAdmin):
    inlines = [VariableComponentInline]
    list_display = [
        "key",
        "name",
        "theme",
        "unit",
        "aggregation",
        "supplier",
        "last_delivery",
        "metadata_complete",
    ]
    list_filter = [
        "theme",
        "aggregation",
        "supplier",
        "metadata_complete",
        "lowest_level",
        "confidentiality",
    ]
    search_fields = ["key", "name", "description"]
    raw_id_fields = ["numerator", "denominator", "weight"]
    fieldsets = [
        ("Inhalt", {"fields": ["key", "name", "description", "theme"]}),
        (
            "Dokumentation",
            {
                "fields": [
                    "definition",
                    "unit",
                    "source",
                    "license",
                    "notes",
                    "metadata_complete",
                ]
            },
        ),
        (
            "Zeitbezug und Struktur",
            {
                "fields": [
                    "time_reference",
                    "value_type",
                    "lowest_level",
                    "aggregation",
                    "numerator",
                    "denominator",
                    "weight",
                    "factor",
                ]
            },
        ),
        (
            "Lieferung",
            {
                "fields": [
                    "supplier",
                    "district",
                    "released",
                    "delivery_cycle",
                    "last_delivery",
                ]
            },
        ),
        (
            "Geheimhaltung",
            {"fields": ["confidentiality", "confidentiality_threshold"]},
        ),
    ]


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = [
        "variable",
        "ref_date",
        "level",
        "values",
        "suppressed",
        "replaced",
    ]


@admin.register(ImportRun)
class ImportRunAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "original_name", "kind", "status", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
    inlines = [DeliveryInline]


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ["variable", "level", "ref_date", "values", "suppressed", "missing"]
    list_filter = ["level", "ref_date"]


@admin.register(FacilityLayer)
class FacilityLayerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "theme",
        "ref_date",
        "district",
        "location_confidential",
        "updated_at",
    ]
    list_filter = ["theme", "district", "location_confidential"]
    search_fields = ["key", "name"]
    # A layer is written by its import; a new import replaces it.
    readonly_fields = ["key", "import_run", "sum_attribute", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Facility)
class FacilityAdmin(gis_admin.GISModelAdmin):
    list_display = ["name", "layer", "unit", "feature_number"]
    list_filter = ["layer"]
    search_fields = ["name", "unit__code", "unit__name"]
    list_select_related = ["layer", "unit"]
    raw_id_fields = ["unit"]
    readonly_fields = ["layer", "feature_number"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = [
        "variable",
        "theme",
        "formula",
        "kind",
        "direction",
        "min_denominator",
    ]
    list_filter = ["theme", "kind", "direction", "is_core"]
    search_fields = ["variable__key", "variable__name", "formula"]
    raw_id_fields = ["variable", "denominator"]
