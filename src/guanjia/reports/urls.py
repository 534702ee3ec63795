from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("start/", views.landing, name="landing"),
    path("cases.xlsx", views.case_export, name="case_export"),
    path("periodic/", views.report_list, name="report_list"),
    path("periodic/<int:pk>/", views.report_detail, name="report_detail"),
    path("periodic/<int:pk>/report.xlsx", views.report_xlsx, name="report_xlsx"),
    path("periodic/<int:pk>/report.pdf", views.report_pdf, name="report_pdf"),
    path("casebook/", views.casebook, name="casebook"),
    path("casebook/booklet.pdf", views.casebook_pdf, name="casebook_pdf"),
    path("casebook/<int:pk>/", views.case_study_detail, name="case_study_detail"),
    path("casebook/<int:pk>/<str:action>/", views.case_study_action, name="case_study_action"),
    path("casebook/mark/<int:case_id>/", views.case_study_mark, name="case_study_mark"),
]
