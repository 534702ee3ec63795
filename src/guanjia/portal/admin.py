from django.contrib import admin

from .models import Notice, PortalAccount, UnitBinding


@admin.register(PortalAccount)
class PortalAccountAdmin(admin.ModelAdmin):
    list_display = ("__str__", "is_active", "created_at", "last_sign_in_at")
    list_filter = ("is_active",)
    # The phone is personal data: searched by exact number only, never listed whole.
    search_fields = ("=phone",)
    fields = ("is_active", "created_at", "last_sign_in_at")
    readonly_fields = ("created_at", "last_sign_in_at")


@admin.register(UnitBinding)
class UnitBindingAdmin(admin.ModelAdmin):
    list_display = ("account", "unit", "party", "status", "method", "created_at", "decided_by")
    list_filter = ("status", "method")
    raw_id_fields = ("account", "unit", "party", "decided_by")


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ("title", "project", "kind", "published_at", "withdrawn_at")
    list_filter = ("kind",)
    raw_id_fields = ("project", "created_by")
    filter_horizontal = ("buildings", "tags")
