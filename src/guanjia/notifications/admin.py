from django.contrib import admin

from .models import Notification, SlaBreach


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: notifications are written by the services and the sweep, never by hand."""

    list_display = ("title", "recipient", "kind", "created_at", "read_at", "delivered_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username", "recipient__display_name")
    raw_id_fields = ("recipient", "case")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    """Read-only record of missed deadlines, for checking who was told what and when."""

    list_display = ("case", "kind", "level", "round", "due", "detected_at")
    list_filter = ("kind", "level")
    search_fields = ("case__number",)
    raw_id_fields = ("case",)
    date_hierarchy = "detected_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
