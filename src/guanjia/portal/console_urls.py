"""Console pages of the portal for staff, mounted under /portal/."""

from django.urls import path

from . import console_views as views

app_name = "portal_console"

urlpatterns = [
    path("bindings/", views.binding_review, name="binding_review"),
    path("bindings/<int:pk>/decide/", views.binding_decide, name="binding_decide"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/new/", views.notice_new, name="notice_new"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/withdraw/", views.notice_withdraw, name="notice_withdraw"),
    path("dev/sms/", views.dev_outbox, name="dev_outbox"),
]
