from django.contrib import admin

from .models import ApiToken, ObjectChange


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    """Change history is evidence: it can be read here, never edited or deleted."""

    list_display = ("time", "user", "action", "content_type", "object_repr", "source")
    list_filter = ("action", "content_type", "source")
    search_fields = ("object_repr",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked")
    list_filter = ("revoked",)
    readonly_fields = ("key_hash", "prefix", "created_at", "last_used_at")


class HistoryAdminMixin:
    """Admin edits of master data leave the same change history as edits in the console."""

    def save_model(self, request, obj, form, change):
        from .history import record_change, snapshot

        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        record_change(obj, request.user, before, source="admin")

    def delete_model(self, request, obj):
        from .history import record_change

        record_change(obj, request.user, action=ObjectChange.Action.DELETE, source="admin")
        super().delete_model(request, obj)
