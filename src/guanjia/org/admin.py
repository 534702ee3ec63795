from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from guanjia.core.admin import HistoryAdminMixin

from .models import Area, Company, Department, Project, Staff


@admin.register(Company)
class CompanyAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "parent", "city")
    list_filter = ("kind",)
    search_fields = ("name", "short_name")


@admin.register(Project)
class ProjectAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "company", "property_company", "delivered_on")
    list_filter = ("company",)
    search_fields = ("name", "code")


@admin.register(Department)
class DepartmentAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "company", "project")
    list_filter = ("kind", "company")


@admin.register(Area)
class AreaAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "project")
    list_filter = ("project",)
    filter_horizontal = ("butlers",)


@admin.register(Staff)
class StaffAdmin(HistoryAdminMixin, UserAdmin):
    list_display = ("username", "display_name", "role", "scope_level", "company", "project", "department", "is_active")
    list_filter = ("role", "scope_level", "is_active")
    search_fields = ("username", "display_name", "phone")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            _("Role and scope"),
            {"fields": ("display_name", "phone", "role", "scope_level", "company", "project", "department")},
        ),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        (_("Role and scope"), {"fields": ("display_name", "role", "scope_level", "company", "project", "department")}),
    )
