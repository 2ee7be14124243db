from django.contrib.gis import admin

from .models import LorUnit


@admin.register(LorUnit)
class LorUnitAdmin(admin.GISModelAdmin):
    list_display = ["code", "name", "level", "scheme", "parent", "area_m2"]
    list_filter = ["scheme", "level"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]
    raw_id_fields = ["parent"]
