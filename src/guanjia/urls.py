from django.contrib import admin
from django.urls import include, path

from guanjia.core.api import api
from guanjia.core.health import health

urlpatterns = [
    path("", include("guanjia.core.urls")),
    path("org/", include("guanjia.org.urls")),
    path("ledger/", include("guanjia.estate.urls")),
    path("cases/", include("guanjia.cases.urls")),
    path("notifications/", include("guanjia.notifications.urls")),
    path("reports/", include("guanjia.reports.urls")),
    path("telephony/", include("guanjia.telephony.urls")),
    path("wechat/", include("guanjia.wechat.urls")),
    path("m/", include("guanjia.portal.urls")),
    path("portal/", include("guanjia.portal.console_urls")),
    path("privacy/", include("guanjia.privacy.urls")),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # For load balancers and monitoring (docs/deploy.md).
    path("healthz/", health, name="health"),
]
