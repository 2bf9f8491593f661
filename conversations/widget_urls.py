"""The widget's public routes: its script, its settings and its message form, per widget key."""

from django.urls import path

from conversations import widget_views

urlpatterns = [
    path("widget.js", widget_views.widget_script, name="widget_script"),
    path("widget/<str:key>/config", widget_views.widget_config, name="widget_config"),
    path("widget/<str:key>/offline-message", widget_views.offline_message, name="widget_offline_message"),
]
