"""The KPIs' SQL building blocks on the database the suite runs on, and again on SQLite."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db import NotSupportedError, connection

from conversations.models import Conversation
from reporting.sql import LocalHourOfWeek, PercentileCont, Seconds, percentile, seconds_sql
from tests.reporting.histories import make_chat
from tests.sqlite_rerun import assert_all_passed

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")


@pytest.mark.django_db
def test_seconds_between_two_moments_to_the_millisecond(tenant):
    # given a chat answered 2.5 s after the visitor wrote, and one never answered
    make_chat(tenant, dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC), wrote=1, replied=2.5)
    make_chat(tenant, dt.datetime(2026, 11, 3, 11, tzinfo=dt.UTC), wrote=1)

    # when
    rows = (
        Conversation.objects.order_by("started_at")
        .annotate(seconds=Seconds("first_agent_reply_at", "first_visitor_message_at"))
        .values_list("seconds", flat=True)
    )

    # then
    assert list(rows) == [pytest.approx(2.5, abs=0.001), None]


@pytest.mark.django_db
def test_local_hour_of_the_week_in_the_tenants_zone(tenant):
    # given Monday 2 November 2026 00:30 in Helsinki (Sunday 22:30 UTC) and Sunday 8 November 23:30 local
    make_chat(tenant, dt.datetime(2026, 11, 2, 0, 30, tzinfo=HELSINKI))
    make_chat(tenant, dt.datetime(2026, 11, 8, 23, 30, tzinfo=HELSINKI))

    # when
    hours = (
        Conversation.objects.order_by("started_at")
        .annotate(hour=LocalHourOfWeek("started_at", zone=HELSINKI))
        .values_list("hour", flat=True)
    )

    # then Monday 00:xx is hour 0 and Sunday 23:xx hour 167
    assert list(hours) == [0, 167]


@pytest.mark.django_db
def test_the_continuous_percentile_agrees_with_its_python_twin(tenant):
    # given first responses of 3, 5, 8, 12 and 30 s
    for replied in (3, 5, 8, 12, 30):
        make_chat(tenant, dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC), replied=replied)
    seconds = Seconds("first_agent_reply_at", "first_visitor_message_at")

    # then PostgreSQL's percentile_cont gives 22.8 s for p90, as percentile() does; SQLite has none
    assert percentile([3, 5, 8, 12, 30], 0.9) == pytest.approx(22.8)
    if connection.vendor == "postgresql":
        found = Conversation.objects.aggregate(p90=PercentileCont(seconds, fraction=0.9))
        assert found["p90"] == pytest.approx(22.8)
    else:
        with pytest.raises(NotSupportedError):
            Conversation.objects.aggregate(p90=PercentileCont(seconds, fraction=0.9))


def test_another_database_is_refused_by_name():
    with pytest.raises(NotSupportedError, match="mysql"):
        seconds_sql("mysql", later="a", earlier="b")


def test_every_helper_holds_on_the_embedded_sqlite_default(sqlite_rerun):
    """Run this module's tests again on SQLite."""
    run = sqlite_rerun.of(__file__)
    assert_all_passed(run)
