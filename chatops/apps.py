from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatopsConfig(AppConfig):
    """The project on top: settings, URLs, ASGI, Celery, the demo. Its models moved to the workforce app."""

    name = "chatops"
    verbose_name = _("Operations")
