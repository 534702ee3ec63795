from django.urls import path

from . import views

app_name = "privacy"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("parties/<int:pk>/id-number/", views.reveal_id_number, name="reveal_id_number"),
    path("parties/<int:pk>/export/", views.person_export, name="person_export"),
    path("parties/<int:pk>/anonymise/", views.anonymise, name="anonymise"),
]
