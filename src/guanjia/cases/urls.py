from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("bulk-dispatch/", views.bulk_dispatch, name="bulk_dispatch"),
    path("new/", views.case_new, name="case_new"),
    path("lookup/", views.lookup, name="lookup"),
    path("<int:pk>/", views.case_detail, name="case_detail"),
    path("<int:pk>/do/<slug:action>/", views.case_action, name="case_action"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.case_attachment, name="case_attachment"),
    path("tasks/<int:pk>/do/<slug:action>/", views.task_action, name="task_action"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/", views.follow_up, name="follow_up"),
]
