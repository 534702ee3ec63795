"""Owner pages, mounted under /m/ (the portal cookie is scoped to that path)."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/bind/", views.unit_bind, name="unit_bind"),
    path("units/<int:pk>/share/", views.unit_share, name="unit_share"),
    path("units/<int:pk>/remove/", views.unit_remove, name="unit_remove"),
    path("requests/", views.case_list, name="case_list"),
    path("requests/new/", views.case_new, name="case_new"),
    path("requests/<int:pk>/", views.case_detail, name="case_detail"),
    path("requests/<int:pk>/add/", views.case_add_information, name="case_add_information"),
    path("requests/<int:pk>/rate/", views.case_rate, name="case_rate"),
    path("requests/<int:pk>/photos/<int:attachment_pk>/", views.case_photo, name="case_photo"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:pk>/", views.notice_detail, name="notice_detail"),
]
