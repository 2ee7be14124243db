from django.contrib.gis import admin

from .models import CustomAreaMember, CustomAreaSet, LorUnit


@admin.register(LorUnit)
class LorUnitAdmin(admin.GISModelAdmin):
    list_display = ["code", "name", "level", "scheme", "parent", "area_m2"]
    list_filter = ["scheme", "level"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2"]
    raw_id_fields = ["parent"]


class CustomAreaMemberInline(admin.TabularInline):
    model = CustomAreaMember
    fk_name = "area"
    extra = 0
    raw_id_fields = ["planungsraum"]


@admin.register(CustomAreaSet)
class CustomAreaSetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "owner", "created_at"]
    list_filter = ["kind"]
