from django.contrib import admin

from guanjia.core.admin import ReadOnlyAdmin

from .models import Notification, SlaBreach


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Read-only: notifications are written by the services and the sweep, never by hand."""

    list_display = ("title", "recipient", "kind", "created_at", "read_at", "delivered_at")
    list_filter = ("kind",)
    search_fields = ("title", "recipient__username", "recipient__display_name")
    raw_id_fields = ("recipient", "case")
    date_hierarchy = "created_at"
    deletable = True


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    """Read-only record of missed deadlines, for checking who was told what and when."""

    list_display = ("case", "kind", "level", "round", "due", "detected_at")
    list_filter = ("kind", "level")
    search_fields = ("case__number",)
    raw_id_fields = ("case",)
    date_hierarchy = "detected_at"
    deletable = True
