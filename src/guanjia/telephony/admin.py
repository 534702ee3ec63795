from django.contrib import admin

from guanjia.core.admin import HistoryAdminMixin, ReadOnlyAdmin

from .models import Call, CallEvent, HotlineAgent, HotlineLine


@admin.register(HotlineLine)
class HotlineLineAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("number", "name", "company", "project", "active")
    list_filter = ("active", "company")
    search_fields = ("number", "name")


@admin.register(HotlineAgent)
class HotlineAgentAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("extension", "staff")
    search_fields = ("extension", "staff__username", "staff__display_name")
    autocomplete_fields = ("staff",)


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "at", "received_at", "payload")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    """Calls are written by the call system's events only: readable here, not editable."""

    list_display = ("provider_call_id", "started_at", "line", "project", "agent", "state", "duration")
    list_filter = ("state", "line")
    search_fields = ("provider_call_id", "caller")
    inlines = [CallEventInline]
    deletable = True
