"""is_open: wall-clock hours in the tenant's zone, across midnight, holidays and DST changes."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from tenants import hours as tenant_hours
from tenants.hours import is_open
from tenants.models import ServiceException, ServiceHours

UTC = dt.UTC
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def hours(tenant, weekday, opens, closes):
    ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(*opens), closes=dt.time(*closes))


def local(*args):
    return dt.datetime(*args, tzinfo=HELSINKI)


@pytest.mark.django_db
def test_a_day_range_is_open_from_its_opening_minute_until_just_before_closing(tenant):
    # given Monday 09:00–17:00 in Helsinki (2026-11-23 is a Monday)
    hours(tenant, MON, (9, 0), (17, 0))

    # then
    assert not is_open(tenant, local(2026, 11, 23, 8, 59))
    assert is_open(tenant, local(2026, 11, 23, 9, 0))
    assert is_open(tenant, local(2026, 11, 23, 16, 59, 59))
    assert not is_open(tenant, local(2026, 11, 23, 17, 0))
    assert not is_open(tenant, local(2026, 11, 24, 12, 0))  # Tuesday has no hours


@pytest.mark.django_db
def test_the_moment_is_read_in_the_tenants_time_zone_not_utc(tenant):
    # given Monday 09:00–17:00 in Helsinki (UTC+2 in November)
    hours(tenant, MON, (9, 0), (17, 0))

    # then 07:30 UTC is 09:30 in Helsinki, and 15:30 UTC is 17:30
    assert is_open(tenant, dt.datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
    assert not is_open(tenant, dt.datetime(2026, 11, 23, 15, 30, tzinfo=UTC))


@pytest.mark.django_db
def test_a_range_that_closes_after_midnight_runs_into_the_next_morning(tenant):
    # given Friday 18:00–02:00 (2026-11-27 is a Friday)
    hours(tenant, FRI, (18, 0), (2, 0))

    # then
    assert not is_open(tenant, local(2026, 11, 27, 17, 59))
    assert is_open(tenant, local(2026, 11, 27, 23, 59))
    assert is_open(tenant, local(2026, 11, 28, 0, 0))
    assert is_open(tenant, local(2026, 11, 28, 1, 59))
    assert not is_open(tenant, local(2026, 11, 28, 2, 0))
    assert not is_open(tenant, local(2026, 11, 27, 1, 0))  # Friday early morning belongs to Thursday


@pytest.mark.django_db
def test_midnight_to_midnight_is_the_whole_day(tenant):
    hours(tenant, SUN, (0, 0), (0, 0))

    assert is_open(tenant, local(2026, 11, 29, 0, 0))
    assert is_open(tenant, local(2026, 11, 29, 23, 59))
    assert not is_open(tenant, local(2026, 11, 30, 0, 0))


@pytest.mark.django_db
def test_a_day_may_have_several_ranges(tenant):
    hours(tenant, TUE, (8, 0), (11, 0))
    hours(tenant, TUE, (13, 0), (16, 0))

    assert is_open(tenant, local(2026, 11, 24, 10, 0))
    assert not is_open(tenant, local(2026, 11, 24, 12, 0))
    assert is_open(tenant, local(2026, 11, 24, 15, 0))


@pytest.mark.django_db
def test_a_holiday_closes_its_day_but_not_the_night_range_of_the_day_before(tenant):
    # given Thursday and Friday 09:00–17:00, Thursday also 22:00–02:00, and Friday 2026-12-04 a holiday
    for weekday in (THU, FRI):
        hours(tenant, weekday, (9, 0), (17, 0))
    hours(tenant, THU, (22, 0), (2, 0))
    ServiceException.objects.create(tenant=tenant, date=dt.date(2026, 12, 4), closed=True, note="Holiday")

    # then Friday is closed during the day, yet Thursday's night range still reaches into it
    assert not is_open(tenant, local(2026, 12, 4, 12, 0))
    assert is_open(tenant, local(2026, 12, 4, 1, 0))
    assert is_open(tenant, local(2026, 12, 3, 12, 0))


@pytest.mark.django_db
def test_an_exception_with_hours_replaces_the_weekly_hours_of_its_day(tenant):
    hours(tenant, THU, (9, 0), (17, 0))
    ServiceException.objects.create(
        tenant=tenant, date=dt.date(2026, 12, 24), closed=False, opens=dt.time(10, 0), closes=dt.time(14, 0)
    )

    assert not is_open(tenant, local(2026, 12, 24, 9, 30))
    assert is_open(tenant, local(2026, 12, 24, 13, 0))
    assert not is_open(tenant, local(2026, 12, 24, 15, 0))
    assert is_open(tenant, local(2026, 12, 31, 15, 0))  # the next Thursday is ordinary


@pytest.mark.django_db
def test_hours_follow_the_local_clock_on_the_day_summer_time_starts(tenant):
    # given Saturday and Sunday 09:00–17:00; Helsinki moves from UTC+2 to UTC+3 on Sunday 2026-03-29
    hours(tenant, SAT, (9, 0), (17, 0))
    hours(tenant, SUN, (9, 0), (17, 0))

    # then 06:30 UTC is 08:30 on Saturday (closed) but 09:30 on Sunday (open)
    assert not is_open(tenant, dt.datetime(2026, 3, 28, 6, 30, tzinfo=UTC))
    assert is_open(tenant, dt.datetime(2026, 3, 29, 6, 30, tzinfo=UTC))
    # and 14:30 UTC is 16:30 on Saturday (open) but 17:30 on Sunday (closed)
    assert is_open(tenant, dt.datetime(2026, 3, 28, 14, 30, tzinfo=UTC))
    assert not is_open(tenant, dt.datetime(2026, 3, 29, 14, 30, tzinfo=UTC))


@pytest.mark.django_db
def test_a_night_range_covers_both_passes_of_the_repeated_hour_when_summer_time_ends(tenant):
    # given Saturday 22:00–03:30; on Sunday 2026-10-25 Helsinki's clock goes from 04:00 back to 03:00
    hours(tenant, SAT, (22, 0), (3, 30))

    # then 03:15 is open both times it happens, and 03:45 is closed
    assert is_open(tenant, dt.datetime(2026, 10, 25, 0, 15, tzinfo=UTC))  # 03:15 summer time
    assert is_open(tenant, dt.datetime(2026, 10, 25, 1, 15, tzinfo=UTC))  # 03:15 again, winter time
    assert not is_open(tenant, dt.datetime(2026, 10, 25, 1, 45, tzinfo=UTC))  # 03:45 winter time


@pytest.mark.django_db
def test_another_tenants_hours_do_not_open_this_tenant(tenant, other_tenant):
    hours(other_tenant, MON, (0, 0), (0, 0))

    assert not is_open(tenant, local(2026, 11, 23, 12, 0))
    assert is_open(other_tenant, local(2026, 11, 23, 12, 0))


def open_at(stretches, moment):
    return any(opened <= moment < closed for opened, closed in stretches)


@pytest.mark.django_db
def test_open_intervals_agree_with_is_open_across_midnight_holidays_and_a_dst_change(tenant):
    # given overlapping and midnight-crossing ranges, a whole day, a holiday and a day of other hours,
    # over the week the clocks go back in Helsinki (Sunday 2026-10-25, 04:00 → 03:00)
    hours(tenant, MON, (8, 0), (22, 0))
    hours(tenant, MON, (21, 0), (1, 0))
    hours(tenant, TUE, (9, 0), (17, 0))
    hours(tenant, WED, (0, 0), (0, 0))
    hours(tenant, FRI, (18, 0), (2, 0))
    hours(tenant, SAT, (10, 0), (16, 0))
    hours(tenant, SUN, (12, 0), (18, 0))
    ServiceException.objects.create(tenant=tenant, date=dt.date(2026, 10, 20), closed=True)
    ServiceException.objects.create(
        tenant=tenant, date=dt.date(2026, 10, 24), closed=False, opens=dt.time(11), closes=dt.time(13)
    )
    start, end = local(2026, 10, 19, 0, 0), local(2026, 10, 27, 0, 0)

    # when
    stretches = tenant_hours.open_intervals(tenant, start=start, end=end)

    # then they are ordered and apart, and every quarter hour and every edge (and a second before it)
    # reads the same as is_open
    assert all(earlier[1] < later[0] for earlier, later in itertools.pairwise(stretches))
    moments = [start.astimezone(UTC) + dt.timedelta(minutes=15 * step) for step in range(8 * 24 * 4 + 4)]
    edges = [edge for stretch in stretches for edge in stretch]
    moments += edges + [edge - dt.timedelta(seconds=1) for edge in edges]
    wrong = [
        moment for moment in moments if start <= moment < end and open_at(stretches, moment) != is_open(tenant, moment)
    ]
    assert len(moments) > 700
    assert wrong == []
    # and the window cuts them: nothing before its start or after its end
    assert stretches[0][0] >= start and stretches[-1][1] <= end


@pytest.mark.django_db
def test_open_intervals_of_a_tenant_without_hours_are_none(tenant):
    assert tenant_hours.open_intervals(tenant, start=local(2026, 11, 23, 0, 0), end=local(2026, 11, 30, 0, 0)) == []
