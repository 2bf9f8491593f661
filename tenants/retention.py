"""What a tenant's retention setting means: the moment before which its old chats go, said in words.

The deleting itself is the conversations' (``conversations/retention.py``), a layer above.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from tenants.models import Tenant


def cutoff_for(tenant: Tenant, *, now: dt.datetime | None = None) -> dt.datetime:
    """Return the moment before which the tenant's closed conversations, page views and visitors go."""
    return (now or timezone.now()) - dt.timedelta(days=tenant.retention_days)


def retention_help_text(tenant: Tenant | None, *, now: dt.datetime | None = None) -> str:
    """Say what the retention setting deletes and when; for a saved tenant, the date it reaches today."""
    text = gettext(
        "Every night, closed conversations that started longer ago than this are deleted with their "
        "messages, notes and leads, and so are older page views and the visitors not seen since. "
        "Visitor counts in reports stay."
    )
    if tenant is None or tenant.pk is None:
        return text
    day = cutoff_for(tenant, now=now).astimezone(tenant.zone).date()
    return (
        text
        + " "
        + gettext("As saved: conversations started before %(date)s.") % {"date": date_format(day, "DATE_FORMAT")}
    )
