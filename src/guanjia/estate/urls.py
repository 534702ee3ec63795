from django.urls import path  # noqa: F401

app_name = "estate"

urlpatterns = [
    # --- console pages: buildings, building chart, units, parties (views.py) ---
    # --- ledger import and export (views_import.py) ---
]
