from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    """The people who answer: agents, their training per tenant, their shifts, and staffing by Erlang C."""

    name = "workforce"
    verbose_name = _("Operations")
