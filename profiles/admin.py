"""Admin of profiles: read-mostly; the workflow runs through the services."""

from django.contrib import admin

from .models import Assessment, Goal, Measure, Profile, ProfileEdition


class _FrozenInline:
    """Inlines of an adopted edition are read-only, as in the pages."""

    def _open(self, obj) -> bool:
        edition = getattr(obj, "edition", obj)
        return obj is None or not getattr(edition, "is_frozen", False)

    def has_add_permission(self, request, obj=None):
        return self._open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._open(obj) and super().has_delete_permission(request, obj)


class GoalInline(_FrozenInline, admin.TabularInline):
    model = Goal
    extra = 0
    fields = ["theme", "text", "department", "priority", "status", "sort_order"]
    show_change_link = True


class AssessmentInline(_FrozenInline, admin.TabularInline):
    model = Assessment
    extra = 0


class MeasureInline(_FrozenInline, admin.TabularInline):
    model = Measure
    extra = 0


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["region", "created_at"]
    search_fields = ["region__code", "region__name"]
    raw_id_fields = ["region"]


@admin.register(ProfileEdition)
class ProfileEditionAdmin(admin.ModelAdmin):
    list_display = [
        "profile",
        "number",
        "status",
        "ref_date",
        "adopted_on",
        "decision_reference",
    ]
    list_filter = ["status"]
    search_fields = ["profile__region__code", "profile__region__name", "title"]
    # Status, adoption and the frozen analysis change only through the workflow.
    readonly_fields = [
        "profile",
        "number",
        "status",
        "adopted_on",
        "decision_reference",
        "based_on",
        "created_by",
    ]
    inlines = [GoalInline, AssessmentInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["text", "edition", "theme", "priority", "status"]
    list_filter = ["theme", "priority", "status"]
    raw_id_fields = ["edition", "origin"]
    inlines = [MeasureInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.edition.is_frozen:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.edition.is_frozen:
            return False
        return super().has_delete_permission(request, obj)
