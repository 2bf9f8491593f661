"""HTTP routes of the live chat: the widget's (public, per tenant key) and the agent console's."""

from django.urls import include, path

urlpatterns = [
    path("", include("conversations.widget_urls")),
    path("", include("conversations.console_urls")),
]
