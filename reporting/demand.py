"""The demand to staff for, read from the chat history: expected chats this hour and handle time.

The workforce's staffing (``workforce.staffing``, Erlang C) sits below the conversations and cannot
read them; the live board reads the demand here and passes it in.

The expected arrivals of the current hour are the chats (reactive and proactive; offline messages
need nobody online) that started in the same local hour of the same weekday in each of the last
``WEEKS_OF_HISTORY`` weeks, averaged. The handle time is the tenant's mean over the chats started in
those weeks. Both come from one query each for all tenants.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Avg, Count, Q

from conversations.models import Conversation
from reporting.kpis import HANDLED, Seconds
from tenants.models import Tenant
from workforce import staffing

WEEKS_OF_HISTORY = 4


def same_hour_in_past_weeks(
    now: dt.datetime, zone: zoneinfo.ZoneInfo, weeks: int = WEEKS_OF_HISTORY
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Return the moments [start, end) of the local hour ``now`` falls in, 1 to ``weeks`` weeks back.

    Weeks are counted on the local clock, so across a daylight-saving change it is still 14:00-15:00
    local time on the same weekday.
    """
    hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    windows = []
    for week in range(1, weeks + 1):
        start = (hour - dt.timedelta(weeks=week)).replace(tzinfo=zone).astimezone(dt.UTC)
        windows.append((start, start + dt.timedelta(hours=1)))
    return windows


def expected_arrivals_per_hour(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, float]:
    """Return each tenant's expected live chats in the current hour, in one query for all tenants."""
    ids_by_zone: dict[zoneinfo.ZoneInfo, list[int]] = defaultdict(list)
    for tenant in tenants:
        ids_by_zone[tenant.zone].append(tenant.pk)
    if not ids_by_zone:
        return {}
    windows = Q(pk__in=[])
    for zone, tenant_ids in ids_by_zone.items():
        for start, end in same_hour_in_past_weeks(now, zone):
            windows |= Q(tenant_id__in=tenant_ids, started_at__gte=start, started_at__lt=end)
    rows = (
        Conversation.objects.filter(windows)
        .exclude(origin=Conversation.Origin.OFFLINE_MESSAGE)
        .order_by()
        .values("tenant_id")
        .annotate(chats=Count("pk"))
    )
    counts = {row["tenant_id"]: row["chats"] for row in rows}
    return {
        tenant_id: counts.get(tenant_id, 0) / WEEKS_OF_HISTORY
        for tenant_ids in ids_by_zone.values()
        for tenant_id in tenant_ids
    }


def recent_handle_seconds(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, float]:
    """Return each tenant's mean handle time over the chats of the last weeks (a default without any)."""
    tenant_ids = [tenant.pk for tenant in tenants]
    rows = (
        Conversation.objects.filter(
            HANDLED,
            tenant_id__in=tenant_ids,
            started_at__gte=now - dt.timedelta(weeks=WEEKS_OF_HISTORY),
            started_at__lt=now,
        )
        .order_by()
        .values("tenant_id")
        .annotate(seconds=Avg(Seconds("closed_at", "assigned_at")))
    )
    found = {row["tenant_id"]: row["seconds"] for row in rows if row["seconds"]}
    return {tenant_id: found.get(tenant_id, staffing.DEFAULT_HANDLE_SECONDS) for tenant_id in tenant_ids}


def staffing_now(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, staffing.StaffingNow]:
    """Return each tenant's agents needed this hour (Erlang C) and working now; three queries in all."""
    tenants = list(tenants)
    return staffing.staffing_now(
        tenants,
        now=now,
        arrivals=expected_arrivals_per_hour(tenants, now=now),
        handle=recent_handle_seconds(tenants, now=now),
    )
