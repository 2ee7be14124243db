from django.contrib.gis import admin

from .models import FundingArea, FundingImport, Programme, Project, ProjectAmount


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "funder", "period_start", "period_end", "is_example")
    search_fields = ("name", "key")


@admin.register(FundingArea)
class FundingAreaAdmin(admin.GISModelAdmin):
    list_display = (
        "name",
        "key",
        "programme",
        "district",
        "valid_from",
        "valid_to",
        "is_example",
    )
    list_filter = ("programme", "district", "is_example")
    search_fields = ("name", "key")
    filter_horizontal = ("units",)


class ProjectAmountInline(admin.TabularInline):
    model = ProjectAmount
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.GISModelAdmin):
    list_display = ("number", "title", "programme", "district", "status", "is_example")
    list_filter = ("programme", "district", "status", "is_example")
    search_fields = ("number", "title", "sponsor")
    raw_id_fields = ("unit", "source_import")
    inlines = [ProjectAmountInline]


@admin.register(FundingImport)
class FundingImportAdmin(admin.ModelAdmin):
    list_display = ("pk", "original_name", "district", "status", "created_at")
    list_filter = ("status", "district")
    readonly_fields = [f.name for f in FundingImport._meta.fields]

    def has_add_permission(self, request) -> bool:
        # Imports are made by uploading a file on the funding import page.
        return False
