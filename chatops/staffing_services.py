"""Writes of the week plan: copying last week's shifts, and the daily e-mail of the coming week's short hours."""

from __future__ import annotations

import datetime as dt

from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from accounts import roles
from chatops.staffing_week import WeekData, next_monday, planning_zone, week_plan
from moments.formatting import show_day
from outbox.services import queue_email
from workforce.models import Shift

SHORT_HOURS_KIND = "staffing-short-hours"


def _same_local_time_a_week_later(moment: dt.datetime, zone) -> dt.datetime:
    local = moment.astimezone(zone).replace(tzinfo=None) + dt.timedelta(weeks=1)
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


@transaction.atomic
def copy_last_week(*, monday: dt.date) -> int:
    """Copy the shifts that start in the week before ``monday`` into its week, at the same local times.

    A copy that would overlap a shift the agent already has is left out; return the shifts copied.
    """
    zone = planning_zone()
    start = dt.datetime.combine(monday - dt.timedelta(weeks=1), dt.time(), tzinfo=zone)
    end = dt.datetime.combine(monday, dt.time(), tzinfo=zone)
    copied = 0
    for shift in (
        Shift.objects.filter(starts_at__gte=start, starts_at__lt=end).select_for_update().order_by("starts_at")
    ):
        starts_at = _same_local_time_a_week_later(shift.starts_at, zone)
        ends_at = _same_local_time_a_week_later(shift.ends_at, zone)
        if Shift.objects.filter(agent_id=shift.agent_id).overlapping(starts_at, ends_at).exists():
            continue
        Shift.objects.create(agent_id=shift.agent_id, starts_at=starts_at, ends_at=ends_at, note=shift.note)
        copied += 1
    return copied


def short_hours_lines(data: WeekData) -> list[str]:
    """Return one line per short tenant-hour: tenant, local day and hour, agents on shift against needed."""
    lines = []
    for tenant_id, hour, plan in data.plan.short_hours():
        local = data.starts[hour].astimezone(data.zone)
        lines.append(
            _("%(tenant)s, %(day)s %(hour)s: %(covered).1f of %(needed)d agents, %(share)d %% within target")
            % {
                "tenant": data.tenants[tenant_id].name,
                "day": show_day(local.date()),
                "hour": time_format(local, "TIME_FORMAT"),
                "covered": plan.covered,
                "needed": plan.required.scheduled,
                "share": round(plan.expected_share * 100),
            }
        )
    return lines


@transaction.atomic
def email_short_hours(*, now: dt.datetime) -> int:
    """Queue the coming week's short hours to the operations managers (nothing when none is short); return them."""
    data = week_plan(monday=next_monday(now, planning_zone()), now=now)
    lines = short_hours_lines(data)
    recipients = roles.operations_manager_emails()
    if not lines or not recipients:
        return 0
    body = render_to_string(
        "chatops/email/short_hours.txt", {"lines": lines, "monday": data.monday, "zone": str(data.zone)}
    )
    message = EmailMessage(
        subject=_("Short-staffed hours next week: %(count)d") % {"count": len(lines)}, body=body, to=recipients
    )
    queue_email(message=message, kind=SHORT_HOURS_KIND, reference=data.monday.isoformat(), now=now)
    return len(lines)
