"""Figures as shown: rounding, changes worked out from the shown figures, and verdicts that agree with them."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import translation

from reporting import formatting
from reporting.headlines import Basis, comparison_basis, headlines
from reporting.kpis import Target, kpis_for_tenant
from reporting.periods import Period
from tests.reporting.histories import make_chat

MINUS = "\N{MINUS SIGN}"
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def test_a_change_of_a_rate_is_the_difference_of_the_shown_figures():
    # given 87.6 % now (shown 88 %) and 89.0 % before (shown 89 %): unrounded -1.4 points
    # then the change reads -1 pp, as 88 - 89 does
    assert formatting.percent(0.876) == "88 %"
    assert formatting.points_change(0.876, 0.890) == f"{MINUS}1 pp"
    # and 88.4 % (88 %) against 89.6 % (90 %): unrounded -1.2, shown -2 pp, as 88 - 90 does
    assert formatting.points_change(0.884, 0.896) == f"{MINUS}2 pp"


def test_a_missed_rate_is_never_shown_at_its_target():
    # given 89.6 % and 89.96 % against a goal of 90 %: both missed
    # then they are shown cut down to one decimal, never as "90 %"
    assert formatting.percent(0.896, goal_percent=90) == "89.6 %"
    assert formatting.percent(0.8996, goal_percent=90) == "89.9 %"
    # and a share that reaches the goal, or one far from it, is shown whole
    assert formatting.percent(0.9, goal_percent=90) == "90 %"
    assert formatting.percent(0.876, goal_percent=90) == "88 %"
    # and the change of such a figure is worked out from it: 89.6 - 88 = +1.6 pp
    assert formatting.points_change(0.896, 0.876, goal_now=90, goal_before=90) == "+1.6 pp"


def test_a_target_is_judged_in_whole_numbers_and_its_figure_agrees():
    # given 899 of 1000 (89.9 %) and 900 of 1000 against 90 %
    missed, met = Target("share", 899, 1000, 90), Target("share", 900, 1000, 90)

    # then
    assert (missed.met, formatting.target_percent(missed)) == (False, "89.9 %")
    assert (met.met, formatting.target_percent(met)) == (True, "90 %")
    assert Target("share", 0, 0, 90).met is None


def test_durations_and_counts_per_day_change_by_their_shown_figures():
    # given medians of 8.04 s (8.0) and 30.06 s (30.1): -22.1 s, not the unrounded -22.02
    assert formatting.seconds_change(8.04, 30.06) == f"{MINUS}22.1 s"
    # and 900 chats in 30 days (30.0 a day) against 340 in 17 (20.0 a day)
    assert formatting.per_day(900, 30) == "30.0 a day"
    assert formatting.per_day_change(900, 30, 340, 17) == "+10.0 a day (+50 %)"
    assert formatting.count_change(5, 2) == "+3 (+150 %)"
    assert formatting.count_change(0, 0) == "±0"


@pytest.mark.django_db
def test_a_partial_previous_month_is_compared_per_open_day_and_a_first_month_not_at_all(tenant):
    # given a tenant that went live on 15 October 2026 (Helsinki): 17 open days in October, 30 in November
    tenant.went_live_at = dt.datetime(2026, 10, 15, 8, tzinfo=dt.UTC)
    tenant.save(update_fields=["went_live_at"])
    october, november = Period.month(2026, 10, zone=HELSINKI), Period.month(2026, 11, zone=HELSINKI)
    for day in range(15, 32):  # one chat a day in October: 17
        make_chat(tenant, dt.datetime(2026, 10, day, 12, tzinfo=HELSINKI), replied=3, closed=600)
    for day in range(1, 31):  # two a day in November: 60, i.e. +253 % in totals
        for hour in (10, 14):
            make_chat(tenant, dt.datetime(2026, 11, day, hour, tzinfo=HELSINKI), replied=3, closed=600)
    now, before = kpis_for_tenant(tenant, november), kpis_for_tenant(tenant, october)

    # when
    chats = next(headline for headline in headlines(now, before) if headline.key == "chats")

    # then November's chats are compared per open day: 2.0 against 1.0 a day, +100 %
    assert comparison_basis(now, before) == Basis.PER_OPEN_DAY
    assert chats.value.endswith("; 2.0 a day")
    assert chats.previous.endswith("; 1.0 a day")
    assert chats.change == "+1.0 a day (+100 %)"
    assert chats.rule == "Compared per open day."

    # and October, the first month, is compared with nothing
    september = kpis_for_tenant(tenant, october.previous())
    first = {headline.key: headline for headline in headlines(before, september)}
    assert comparison_basis(before, september) == Basis.NONE
    assert (first["chats"].change, first["first_response"].change) == ("–", "–")
