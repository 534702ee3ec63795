from django.contrib import admin

from guanjia.core.admin import HistoryAdminMixin, ReadOnlyAdmin

from .models import DraftCase, TemplateMessage, WeChatFollower, WeChatMessage


@admin.register(WeChatFollower)
class WeChatFollowerAdmin(HistoryAdminMixin, admin.ModelAdmin):
    """Followers and their binding to a customer; unbinding here is kept in the change history."""

    list_display = ("__str__", "party", "bound_by", "bound_at", "subscribed")
    list_filter = ("subscribed",)
    search_fields = ("openid", "party__name")
    raw_id_fields = ("party",)
    readonly_fields = ("openid", "bound_by", "bound_at", "subscribed")

    def has_add_permission(self, request):
        return False


class MessageAdmin(ReadOnlyAdmin):
    """Written by the WeChat gateway; an administrator may clear old rows."""

    deletable = True


@admin.register(DraftCase)
class DraftCaseAdmin(MessageAdmin):
    list_display = ("__str__", "project", "status", "images", "case", "handled_by")
    list_filter = ("status",)


@admin.register(WeChatMessage)
class WeChatMessageAdmin(MessageAdmin):
    list_display = ("msg_id", "follower", "msg_type", "sent_at", "draft")
    list_filter = ("msg_type",)


@admin.register(TemplateMessage)
class TemplateMessageAdmin(MessageAdmin):
    list_display = ("kind", "follower", "case", "created_at", "delivered_at", "delivery_error")
    list_filter = ("kind",)
