from django.urls import path

from . import views, views_import

app_name = "estate"

urlpatterns = [
    # --- console pages: buildings, building chart, units, parties (views.py) ---
    path("buildings/", views.building_list, name="building_list"),
    path("buildings/export/", views.building_export, name="building_export"),
    path("buildings/<int:pk>/", views.building_chart, name="building_chart"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/export/", views.unit_export, name="unit_export"),
    path("units/add/", views.unit_add, name="unit_add"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("units/<int:pk>/edit/", views.unit_edit, name="unit_edit"),
    path("parties/", views.party_list, name="party_list"),
    path("parties/export/", views.party_export, name="party_export"),
    path("parties/add/", views.party_add, name="party_add"),
    path("parties/<int:pk>/", views.party_detail, name="party_detail"),
    path("parties/<int:pk>/edit/", views.party_edit, name="party_edit"),
    path("parties/<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("parties/<int:pk>/occupancies/add/", views.occupancy_add, name="occupancy_add"),
    path("occupancies/<int:pk>/end/", views.occupancy_end, name="occupancy_end"),
    # --- ledger import and export (views_import.py) ---
    path("import/", views_import.import_upload, name="import"),
    path("import/template/", views_import.import_template, name="import_template"),
    path("import/<int:pk>/", views_import.import_detail, name="import_detail"),
    path("import/<int:pk>/problems/", views_import.import_problems, name="import_problems"),
]
