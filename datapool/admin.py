from django.contrib import admin

from .models import Coverage, Delivery, ImportRun, Supplier, Variable


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district"]
    list_filter = ["kind"]


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
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
            {"fields": ["supplier", "district", "delivery_cycle", "last_delivery"]},
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
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "original_name", "kind", "status", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
    inlines = [DeliveryInline]


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ["variable", "level", "ref_date", "values", "suppressed", "missing"]
    list_filter = ["level", "ref_date"]
