"""The demand to staff for, read from the chat history: expected chats this hour and handle time.

The workforce's staffing (``workforce.staffing``, Erlang C) sits below the conversations and cannot
read them; the live board reads the demand here and passes it in.

The expected arrivals of the current hour are the chats (reactive and proactive; offline messages
need nobody online) that started in the same local hour of the same weekday in each of the last
``WEEKS_OF_HISTORY`` weeks, averaged. The solo handle time and the concurrency factors are fitted
(``workforce.staffing.fit_concurrency``) from the live chats agents handled in those weeks (the
KPIs' ``HANDLED``: no offline messages, no spam). Both come from one query each for all tenants.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, Q

from conversations.models import Conversation
from reporting.kpis import HANDLED, LIVE
from reporting.periods import Period
from reporting.sql import LocalHourOfWeek
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


def fitted_from_history(
    limits: dict[int, float], *, start: dt.datetime, end: dt.datetime
) -> dict[int, staffing.Fitted]:
    """Return each tenant's fitted model for the agents' chat limit ``limits[tenant_id]``, in one query.

    Every agent's handled live chats assigned in [start, end) are read (an agent's load counts whatever
    the tenant).
    """
    rows = (
        Conversation.objects.filter(HANDLED, agent__isnull=False, assigned_at__gte=start, assigned_at__lt=end)
        .order_by()
        .values_list("agent_id", "tenant_id", "assigned_at", "closed_at")
    )
    return staffing.fitted_models(staffing.handle_history(rows), limits)


def live_chats_by_hour_of_week(tenant_ids: Iterable[int], period: Period) -> dict[int, list[int]]:
    """Return each tenant's live chats per local hour of the week of the period (on its clock), in one query."""
    tenant_ids = list(tenant_ids)
    found = {tenant_id: [0] * 168 for tenant_id in tenant_ids}
    if not tenant_ids:
        return found
    rows = (
        Conversation.objects.filter(LIVE, tenant_id__in=tenant_ids)
        .filter(started_at__gte=period.start, started_at__lt=period.end)
        .order_by()
        .annotate(hour_of_week=LocalHourOfWeek("started_at", zone=period.zone))
        .values_list("tenant_id", "hour_of_week")
        .annotate(chats=Count("pk"))
    )
    for tenant_id, hour_of_week, chats in rows:
        found[tenant_id][hour_of_week] += chats
    return found


def staffing_now(tenants: Iterable[Tenant], *, now: dt.datetime) -> dict[int, staffing.StaffingNow]:
    """Return each tenant's agents needed this hour and working now; three queries in all."""
    tenants = list(tenants)
    cover = staffing.agent_cover(tenants, now=now)
    fitted = fitted_from_history(
        {tenant.pk: cover[tenant.pk].concurrency for tenant in tenants},
        start=now - dt.timedelta(weeks=WEEKS_OF_HISTORY),
        end=now,
    )
    return staffing.staffing_now(
        tenants, arrivals=expected_arrivals_per_hour(tenants, now=now), fitted=fitted, cover=cover
    )
