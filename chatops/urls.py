from django.contrib import admin
from django.urls import include, path

from chatops import views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("conversations.urls")),
    path("", include("reporting.urls")),
    path("api/v1/", include("integrations.urls")),
]
