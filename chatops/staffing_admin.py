"""The week plan page of the operations admin (/admin/staffing/week/): thin, over ``staffing_week``.

Operations managers only (the admin site's ``admin_view`` checks the role).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from chatops.staffing_services import copy_last_week, short_hours_lines
from chatops.staffing_week import WeekData, WhatIf, next_monday, planning_zone, week_plan
from workforce.pooling import Status


class WhatIfForm(forms.Form):
    """The week to show and what to try instead of the tenants' own settings (empty: as set)."""

    week = forms.DateField(label=gettext_lazy("week starting"), required=False)
    target_seconds = forms.IntegerField(
        label=gettext_lazy("target (seconds)"), min_value=1, max_value=600, required=False
    )
    target_percent = forms.IntegerField(
        label=gettext_lazy("share within target (%)"), min_value=1, max_value=99, required=False
    )
    concurrency = forms.IntegerField(label=gettext_lazy("chats per agent"), min_value=1, max_value=8, required=False)
    shrinkage_percent = forms.IntegerField(
        label=gettext_lazy("shrinkage (%)"), min_value=0, max_value=90, required=False
    )

    def what_if(self) -> WhatIf:
        data = self.cleaned_data
        return WhatIf(
            target_seconds=data.get("target_seconds"),
            target_share=data["target_percent"] / 100 if data.get("target_percent") else None,
            concurrency=data.get("concurrency"),
            shrinkage=data["shrinkage_percent"] / 100 if data.get("shrinkage_percent") is not None else None,
        )


def _monday(value: dt.date | None, now: dt.datetime) -> dt.date:
    if value is None:
        return next_monday(now, planning_zone())
    return value - dt.timedelta(days=value.weekday())


def _days(data: WeekData) -> list[dict]:
    """Return the week by local day: its hours' labels and, per tenant, each hour's cell."""
    by_day: dict[dt.date, list[int]] = {}
    for hour, start in enumerate(data.starts):
        by_day.setdefault(start.astimezone(data.zone).date(), []).append(hour)
    days = []
    for day, hours in by_day.items():
        rows = []
        for tenant_id, tenant in data.tenants.items():
            cells = [
                {
                    "status": plan.status,
                    "label": {Status.SHORT: _("short"), Status.RIGHT: _("right"), Status.OVER: _("over")}[plan.status],
                    "covered": plan.covered,
                    "needed": plan.required.scheduled,
                    "share": round(plan.expected_share * 100),
                }
                for plan in (data.plan.tenants[tenant_id][hour] for hour in hours)
            ]
            rows.append({"tenant": tenant, "cells": cells})
        pools = [
            {
                "names": ", ".join(data.tenants[tenant_id].name for tenant_id in group),
                "cells": [data.plan.pools[group][hour] for hour in hours],
            }
            for group in data.plan.pools
            if len(group) > 1
        ]
        days.append(
            {
                "day": day,
                "hours": [data.starts[hour].astimezone(data.zone) for hour in hours],
                "rows": rows,
                "pools": pools,
            }
        )
    return days


def _agents(data: WeekData) -> list[dict]:
    """Return each agent with a shift in the week and their shifts by local day (the week grid)."""
    dates = sorted({start.astimezone(data.zone).date() for start in data.starts})
    agents: dict[int, dict] = {}
    for shift in data.shifts:
        row = agents.setdefault(shift.agent_id, {"agent": shift.agent, "days": {day: [] for day in dates}})
        day = shift.starts_at.astimezone(data.zone).date()
        if day in row["days"]:
            row["days"][day].append(shift)
    return [{"agent": row["agent"], "days": list(row["days"].values())} for row in agents.values()]


def week_plan_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """Show the week plan: shifts per agent, each hour's coverage per tenant and pool, the short hours."""
    now = timezone.now()
    form = WhatIfForm(request.GET or None)
    valid = form.is_valid() if request.GET else True
    monday = _monday(form.cleaned_data.get("week") if valid and request.GET else None, now)
    if request.method == "POST" and "copy" in request.POST:
        monday = _monday(forms.DateField().clean(request.POST.get("week")), now)
        copied = copy_last_week(monday=monday)
        messages.success(request, _("%(count)d shifts copied from the week before.") % {"count": copied})
        return HttpResponseRedirect(f"{request.path}?week={monday.isoformat()}")
    data = week_plan(monday=monday, now=now, what_if=form.what_if() if valid and request.GET else None)
    context = {
        **admin_site.each_context(request),
        "title": _("Week plan"),
        "form": form,
        "monday": monday,
        "zone": str(data.zone),
        "days": _days(data),
        "agents": _agents(data),
        "dates": sorted({start.astimezone(data.zone).date() for start in data.starts}),
        "short_hours": short_hours_lines(data),
        "forecasts": [
            {"tenant": tenant, "forecast": data.forecasts[tenant_id], "fitted": data.fitted[tenant_id]}
            for tenant_id, tenant in data.tenants.items()
        ],
        "previous": monday - dt.timedelta(weeks=1),
        "next": monday + dt.timedelta(weeks=1),
    }
    return TemplateResponse(request, "admin/chatops/week_plan.html", context)


def short_hours_notice(request: HttpRequest) -> str | None:
    """Return the coming week's short hours per tenant with a link to the week plan, or None when none is short.

    Shown on the admin's front page and the shifts list (``chatops.admin``); the same plan as the page and
    the daily e-mail.
    """
    now = timezone.now()
    data = week_plan(monday=next_monday(now, planning_zone()), now=now)
    short: dict[int, int] = {}
    for tenant_id, _hour, _plan in data.plan.short_hours():
        short[tenant_id] = short.get(tenant_id, 0) + 1
    if not short:
        return None
    total = sum(short.values())
    text = ngettext(
        "The week from %(monday)s has %(count)d short-staffed hour: %(tenants)s.",
        "The week from %(monday)s has %(count)d short-staffed hours: %(tenants)s.",
        total,
    ) % {
        "monday": date_format(data.monday, "SHORT_DATE_FORMAT"),
        "count": total,
        "tenants": ", ".join(f"{data.tenants[tenant_id].name} {count}" for tenant_id, count in short.items()),
    }
    link = f"{reverse('admin:staffing-week')}?week={data.monday.isoformat()}"
    return format_html('{} <a href="{}">{}</a>', text, link, _("Open the week plan"))
