from django.urls import path

from . import views

app_name = "telephony"

urlpatterns = [
    path("calls/", views.call_list, name="call_list"),
    path("screen-pop/", views.screen_pop, name="screen_pop"),
    path("screen-pop/<int:pk>/close/", views.close_screen_pop, name="close_screen_pop"),
]
