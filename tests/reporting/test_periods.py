"""Reporting periods: local days, weeks and months of a zone, right across DST changes and month ends."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from reporting.periods import Kind, Period

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.UTC


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_a_month_starts_and_ends_at_local_midnight():
    # given October 2026 in Helsinki: summer time (UTC+3) until the 25th, winter time (UTC+2) after
    # when
    october = Period.month(2026, 10, zone=HELSINKI)

    # then it runs from 1 October 00:00 EEST to 1 November 00:00 EET, 31 days and one extra hour
    assert october.start == utc(2026, 9, 30, 21)
    assert october.end == utc(2026, 10, 31, 22)
    assert october.duration == dt.timedelta(days=31, hours=1)
    assert (october.first_day, october.last_day) == (dt.date(2026, 10, 1), dt.date(2026, 10, 31))


def test_a_week_across_the_october_change_is_169_hours_with_a_25_hour_sunday():
    # given a Wednesday in the week whose Sunday (25 October 2026) turns the clocks back at 04:00
    # when
    week = Period.week(dt.date(2026, 10, 21), zone=HELSINKI)
    days = list(week.day_periods())

    # then it runs Monday to Monday, 7 * 24 + 1 hours, and only its Sunday is 25 hours long
    assert (week.first_day, week.end_day) == (dt.date(2026, 10, 19), dt.date(2026, 10, 26))
    assert week.start == utc(2026, 10, 18, 21)
    assert week.end == utc(2026, 10, 25, 22)
    assert week.duration == dt.timedelta(hours=169)
    assert [day.duration.total_seconds() / 3600 for day in days] == [24, 24, 24, 24, 24, 24, 25]
    assert days[0].start == week.start and days[-1].end == week.end


def test_the_spring_change_makes_a_23_hour_day():
    # when
    day = Period.day(dt.date(2026, 3, 29), zone=HELSINKI)

    # then
    assert day.duration == dt.timedelta(hours=23)


def test_a_moment_is_placed_in_its_local_day_week_and_month():
    # given 31 October 2026 22:30 UTC, which is already 1 November 00:30 in Helsinki (UTC+2)
    # but still 31 October 18:30 in New York (UTC-4)
    moment = utc(2026, 10, 31, 22, 30)

    # then each zone puts it in its own day and month
    assert Period.day(moment, zone=HELSINKI).first_day == dt.date(2026, 11, 1)
    assert Period.month_of(moment, zone=HELSINKI) == Period.month(2026, 11, zone=HELSINKI)
    assert Period.month_of(moment, zone=NEW_YORK) == Period.month(2026, 10, zone=NEW_YORK)
    assert moment in Period.month(2026, 11, zone=HELSINKI)
    assert moment not in Period.month(2026, 10, zone=HELSINKI)
    # and 1 November is a Sunday, so its week started on Monday 26 October
    assert Period.week(moment, zone=HELSINKI).first_day == dt.date(2026, 10, 26)


def test_previous_period_is_the_same_kind_just_before():
    # given
    march = Period.month(2026, 3, zone=HELSINKI)
    week = Period.week(dt.date(2026, 11, 4), zone=HELSINKI)
    span = Period.days(dt.date(2026, 11, 10), dt.date(2026, 11, 12), zone=HELSINKI)

    # then a month goes back to the whole previous month (28 days), a week seven days
    assert march.previous() == Period.month(2026, 2, zone=HELSINKI)
    assert march.previous().end == march.start
    assert Period.month(2026, 1, zone=HELSINKI).previous() == Period.month(2025, 12, zone=HELSINKI)
    assert week.previous() == Period.week(dt.date(2026, 10, 28), zone=HELSINKI)
    assert week.previous().kind == Kind.WEEK
    # and a span of days the same number of days
    assert span.previous() == Period.days(dt.date(2026, 11, 7), dt.date(2026, 11, 9), zone=HELSINKI)


def test_local_days_cover_the_period_in_order():
    # when
    days = list(Period.month(2026, 2, zone=HELSINKI).local_days())

    # then
    assert days[0] == dt.date(2026, 2, 1)
    assert days[-1] == dt.date(2026, 2, 28)
    assert len(days) == 28


def test_last_complete_week_and_month_before_now():
    # given Monday 2 November 2026 01:00 in Helsinki
    now = dt.datetime(2026, 11, 2, 1, tzinfo=HELSINKI)

    # then the last whole week is 26 October – 1 November and the last whole month October
    week = Period.last_complete(Kind.WEEK, now=now, zone=HELSINKI)
    assert (week.first_day, week.last_day) == (dt.date(2026, 10, 26), dt.date(2026, 11, 1))
    assert Period.last_complete(Kind.MONTH, now=now, zone=HELSINKI) == Period.month(2026, 10, zone=HELSINKI)


def test_a_skipped_local_midnight_starts_the_day_when_the_clocks_jump():
    # given Santiago, where clocks jumped from 00:00 to 01:00 on 6 September 2026
    santiago = zoneinfo.ZoneInfo("America/Santiago")

    # when
    day = Period.day(dt.date(2026, 9, 6), zone=santiago)

    # then the day starts at the jump (04:00 UTC, the old offset -4 at 00:00) and lasts 23 hours
    assert day.start == utc(2026, 9, 6, 4)
    assert day.duration == dt.timedelta(hours=23)


def test_bad_periods_are_refused():
    with pytest.raises(ValueError, match="end after it starts"):
        Period(dt.date(2026, 11, 2), dt.date(2026, 11, 2), HELSINKI)
    with pytest.raises(ValueError, match="time zone"):
        Period.day(dt.datetime(2026, 11, 2, 12), zone=HELSINKI)
