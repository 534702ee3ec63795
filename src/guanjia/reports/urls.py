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
]
