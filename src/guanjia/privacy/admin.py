from django.contrib import admin

from .models import PartyAnonymisation, PersonalDataAccess


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log and the anonymisations are written by the services only; the admin reads them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("time", "username", "action", "party", "project", "ip", "row_count")
    list_filter = ("action",)
    search_fields = ("username",)
    date_hierarchy = "time"


@admin.register(PartyAnonymisation)
class PartyAnonymisationAdmin(ReadOnlyAdmin):
    list_display = ("party", "time", "by")
