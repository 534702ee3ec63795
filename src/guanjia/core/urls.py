from django.contrib.auth import views as auth_views
from django.urls import path

from guanjia.security.forms import StaffLoginForm

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="core/login.html", authentication_form=StaffLoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("switch-project/", views.switch_project, name="switch_project"),
]
