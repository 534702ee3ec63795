from django.contrib import admin

from guanjia.core.admin import HistoryAdminMixin

from .models import Building, Entrance, ImportJob, Tag


@admin.register(Tag)
class TagAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "colour", "description")


class EntranceInline(admin.TabularInline):
    model = Entrance
    extra = 0


@admin.register(Building)
class BuildingAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """Buildings and their entrances; units and parties are edited in the console, where history is kept."""

    list_display = ("name", "project", "number", "floors", "area")
    list_filter = ("project",)
    inlines = [EntranceInline]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("original_name", "project", "status", "total_rows", "created_by", "created_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in ImportJob._meta.fields]
