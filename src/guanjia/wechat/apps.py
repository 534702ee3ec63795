from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class WeChatConfig(AppConfig):
    name = "guanjia.wechat"
    label = "wechat"
    verbose_name = _("WeChat")

    def ready(self) -> None:
        from guanjia.cases.models import CaseEvent

        from .signals import on_case_event_saved

        post_save.connect(on_case_event_saved, sender=CaseEvent, dispatch_uid="wechat_case_event")
