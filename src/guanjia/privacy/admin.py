from django.contrib import admin

from guanjia.core.admin import ReadOnlyAdmin

from .models import PartyAnonymisation, PersonalDataAccess


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ("time", "username", "action", "party", "project", "ip", "row_count")
    list_filter = ("action",)
    search_fields = ("username",)
    date_hierarchy = "time"


@admin.register(PartyAnonymisation)
class PartyAnonymisationAdmin(ReadOnlyAdmin):
    list_display = ("party", "time", "by")
