from django.urls import path

from . import views

app_name = "wechat"

urlpatterns = [
    path("callback/", views.callback, name="callback"),
    path("drafts/", views.draft_list, name="draft_list"),
    path("drafts/<int:pk>/", views.draft_detail, name="draft_detail"),
    path("drafts/<int:pk>/dismiss/", views.draft_dismiss, name="draft_dismiss"),
]
