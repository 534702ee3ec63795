"""The admin's view of staff sign-in: lockouts (with an unlock action), sign-ins and failed sign-ins.

django-axes' own admin pages are switched off (`AXES_ENABLE_ADMIN = False`): these show the same
rows with Guanjia's labels, read-only.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from guanjia.core.admin import ReadOnlyAdmin

from .models import FailedSignIn, SignInLockout, SignInRecord
from .signin import do_unlock


class LockedOutFilter(admin.SimpleListFilter):
    title = _("locked the account")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(locked_out=self.value() == "yes")
        return queryset


class AxesRowAdmin(ReadOnlyAdmin):
    """Rows written by django-axes: listed, never edited, and not opened one by one."""

    list_display_links = None
    deletable = True


@admin.register(SignInLockout)
class SignInLockoutAdmin(admin.ModelAdmin):
    list_display = ("started_at", "kind", "username", "staff", "ip", "failures", "until", "active", "unlocked_by")
    list_filter = ("kind", "started_at")
    search_fields = ("username", "=ip")
    date_hierarchy = "started_at"
    actions = ["unlock"]

    @admin.display(boolean=True, description=_("in force"))
    def active(self, obj):
        return obj.is_active

    @admin.action(description=_("Unlock the selected accounts and addresses"))
    def unlock(self, request, queryset):
        lifted = 0
        for lockout in queryset.filter(unlocked_at__isnull=True):
            lifted += do_unlock(lockout, by=request.user)
        self.message_user(
            request,
            ngettext("%(n)s lockout lifted.", "%(n)s lockouts lifted.", lifted) % {"n": lifted},
            messages.SUCCESS,
        )

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(SignInRecord)
class SignInRecordAdmin(AxesRowAdmin):
    list_display = ("signed_in_at", "user", "address", "browser", "signed_out_at")
    search_fields = ("username", "=ip_address")
    date_hierarchy = "attempt_time"

    @admin.display(description=_("user name"), ordering="username")
    def user(self, obj):
        return obj.username

    @admin.display(description=_("signed in at"), ordering="attempt_time")
    def signed_in_at(self, obj):
        return obj.attempt_time

    @admin.display(description=_("signed out at"), ordering="logout_time")
    def signed_out_at(self, obj):
        return obj.logout_time

    @admin.display(description=_("IP address"), ordering="ip_address")
    def address(self, obj):
        return obj.ip_address

    @admin.display(description=_("browser"))
    def browser(self, obj):
        return obj.user_agent


@admin.register(FailedSignIn)
class FailedSignInAdmin(AxesRowAdmin):
    list_display = ("failed_at", "user", "address", "page", "locked")
    list_filter = (LockedOutFilter,)
    search_fields = ("username", "=ip_address")
    date_hierarchy = "attempt_time"

    @admin.display(description=_("user name"), ordering="username")
    def user(self, obj):
        return obj.username

    @admin.display(description=_("failed at"), ordering="attempt_time")
    def failed_at(self, obj):
        return obj.attempt_time

    @admin.display(description=_("IP address"), ordering="ip_address")
    def address(self, obj):
        return obj.ip_address

    @admin.display(description=_("page"))
    def page(self, obj):
        return obj.path_info

    @admin.display(boolean=True, description=_("locked the account"), ordering="locked_out")
    def locked(self, obj):
        return obj.locked_out
