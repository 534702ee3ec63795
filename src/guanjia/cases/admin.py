from django.contrib import admin

from guanjia.core.admin import HistoryAdminMixin, ReadOnlyAdmin

from .models import Case, CaseEvent, CaseTask, Category, CompanyCalendar, FollowUp, RoutingRule, SlaPolicy


@admin.register(Category)
class CategoryAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "parent", "active", "sort")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sort", "active", "company", "case_type", "category", "category_keyword", "severity")
    list_filter = ("active", "case_type", "severity")


@admin.register(RoutingRule)
class RoutingRuleAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("name", "sort", "active", "company", "project", "building", "case_type", "category", "department")
    list_filter = ("active", "case_type")
    filter_horizontal = ("team",)


@admin.register(CompanyCalendar)
class CompanyCalendarAdmin(HistoryAdminMixin, admin.ModelAdmin):
    list_display = ("company",)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "project", "case_type", "status", "owner", "assignee", "received_at", "resolution_due")
    list_filter = ("status", "case_type", "channel", "severity")
    search_fields = ("number", "caller_name", "caller_phone")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "time", "actor", "kind", "from_status", "to_status", "visibility")
    list_filter = ("kind", "visibility")


@admin.register(CaseTask)
class CaseTaskAdmin(ReadOnlyAdmin):
    list_display = ("title", "case", "department", "assignee", "status", "due")
    list_filter = ("status",)


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("case", "due", "attempts", "outcome", "agent", "done_at")
    list_filter = ("outcome",)
