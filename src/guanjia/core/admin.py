from django.contrib import admin

from .models import ApiToken, ObjectChange


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the services write (logs, evidence, messages): the admin lists and reads them.

    `deletable` lets an administrator remove rows that are not evidence, e.g. old notifications.
    """

    deletable = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.deletable and super().has_delete_permission(request, obj)


@admin.register(ObjectChange)
class ObjectChangeAdmin(ReadOnlyAdmin):
    """Change history is evidence: it can be read here, never edited or deleted."""

    list_display = ("time", "user", "action", "content_type", "object_repr", "source")
    list_filter = ("action", "content_type", "source")
    search_fields = ("object_repr",)


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
