"""HTTP route of the agent console; its live part is the WebSocket at /ws/console/."""

from django.urls import path

from conversations import console_views

urlpatterns = [
    path("console/", console_views.console, name="console"),
]
