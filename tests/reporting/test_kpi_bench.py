"""The KPI bench's data builder at a tiny scale: it builds what it promises and the KPIs compute on it.

No timing here (the bench, ``bench/kpi_scale.py``, prints its figures); this keeps the bench from rotting.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count, F, Max, Min, Q

from bench.kpi_scale import SLUG_PREFIX, Scale, bench_tenants, build, last_month, load, rebuild_tallies, split_exactly
from conversations.models import Conversation, Lead, Message, PageView, Visitor
from conversations.visitor_tallies import ALL_HISTORY
from reporting.kpis import kpis_for_tenant, kpis_for_tenants
from reporting.periods import Period
from tests.plugins import services_required, skip_or_fail

NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
TINY = Scale(tenants=2, conversations=200, messages=2_000, days=42, visitors_per_chat=4, agents=3)


@pytest.fixture
def history():
    if connection.vendor != "postgresql":
        skip_or_fail("the bench loads with PostgreSQL's COPY", required=services_required(), switch="REQUIRE_SERVICES")
    # given the bench's history at a tiny scale, loaded in two steps as the bench does
    history = build(TINY, now=NOW)
    split = NOW - dt.timedelta(days=21)
    load(history, until=split)
    load(history, since=split)
    return history


def test_whole_numbers_split_in_proportion_add_up_exactly():
    assert split_exactly(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(split_exactly(100_000, [rank**-0.6 for rank in range(1, 51)])) == 100_000
    assert split_exactly(7, [0.5, 3.5]) == [1, 6]


def test_the_bench_builds_the_tenants_conversations_and_messages_it_promises(history):
    # then exactly the tenants, conversations and messages asked for, over the days asked for
    tenants = bench_tenants()
    assert [tenant.slug for tenant in tenants] == [f"{SLUG_PREFIX}01", f"{SLUG_PREFIX}02"]
    assert [(tenant.time_zone, tenant.language) for tenant in tenants] == [
        ("Europe/Helsinki", "fi"),
        ("Europe/Warsaw", "pl"),
    ]
    conversations = Conversation.objects.filter(tenant__in=tenants)
    assert conversations.count() == TINY.conversations
    assert Message.objects.filter(tenant__in=tenants).count() == TINY.messages
    span = conversations.aggregate(first=Min("started_at"), last=Max("started_at"))
    assert NOW - dt.timedelta(days=TINY.days) <= span["first"] and span["last"] < NOW
    # and every conversation's messages are numbered 1..last_seq, in its own tenant
    numbered = conversations.annotate(
        stored=Count("messages"),
        highest=Max("messages__seq"),
        foreign=Count("messages", ~Q(messages__tenant=F("tenant"))),
    )
    assert not numbered.exclude(stored=F("last_seq")).exists()
    assert not numbered.filter(stored__gt=0).exclude(highest=F("last_seq")).exists()
    assert not numbered.filter(foreign__gt=0).exists()


def test_every_chat_has_a_visitor_of_its_tenant_who_viewed_a_page_first_and_most_visitors_only_browse(history):
    conversations = Conversation.objects.filter(tenant__in=bench_tenants())
    # then each chat's visitor is of the chat's tenant and opened a page of it before the chat started
    assert not conversations.exclude(visitor__tenant=F("tenant")).exists()
    viewed_first = conversations.filter(
        visitor__page_views__viewed_at__lte=F("started_at"), visitor__page_views__tenant=F("tenant")
    )
    assert viewed_first.distinct().count() == TINY.conversations
    # and there are visitors who never chat, all with page views, several per chatting visitor
    visitors = Visitor.objects.filter(tenant__in=bench_tenants())
    chatting = visitors.filter(conversations__isnull=False).distinct().count()
    assert visitors.count() >= 2 * chatting
    assert not visitors.filter(page_views__isnull=True).exists()
    assert PageView.objects.filter(tenant__in=bench_tenants()).count() > visitors.count()
    # and leads belong to lead outcomes of the same tenant
    leads = Lead.objects.filter(tenant__in=bench_tenants())
    assert leads.exists()
    assert not leads.exclude(conversation__outcome=Conversation.Outcome.LEAD).exists()
    assert not leads.exclude(conversation__tenant=F("tenant")).exists()


def test_the_kpis_compute_on_the_bench_history(history):
    tenants = bench_tenants()

    # when the figures of the whole history are computed for both tenants at once, and one month alone
    def whole_history(tenant):
        zone = tenant.zone
        return Period.days(history.start.astimezone(zone).date(), NOW.astimezone(zone).date(), zone=zone)

    figures = kpis_for_tenants(tenants, whole_history)
    month = kpis_for_tenant(tenants[0], last_month(tenants[0], NOW))

    # then every chat counts once, with visitors, answers, outcomes and origins of every kind
    for tenant in tenants:
        assert figures[tenant.pk].chats == Conversation.objects.for_tenant(tenant).count()
    assert sum(f.chats for f in figures.values()) == TINY.conversations
    total = figures[tenants[0].pk]
    assert total.visitors > total.chats
    assert total.answered_chats > 0 and total.first_response_median is not None
    assert total.closed_chats > 0 and total.resolved_chats > 0
    assert total.reactive_chats > 0 and total.proactive_chats + total.offline_messages > 0
    assert total.average_concurrent_chats is not None
    assert 0 < month.chats < total.chats


def test_the_rebuilt_tallies_give_the_bench_the_same_visitors_as_its_page_views(history):
    # given the tallies rebuilt from the bench's page views, as the bench does after loading
    rebuild_tallies(NOW)
    tenants = bench_tenants()
    assert all(tenant.visitors_tallied_since == ALL_HISTORY for tenant in tenants)  # so the tallies are read

    # when each whole week and month of the history is computed from the tallies and from the page views
    weeks = [NOW - dt.timedelta(weeks=back) for back in range(TINY.days // 7 + 1)]
    for moment in weeks:
        for builder in (Period.week, Period.month_of):

            def period_for(tenant, moment=moment, builder=builder):
                return builder(moment, zone=tenant.zone)

            tallied = kpis_for_tenants(tenants, period_for)
            counted = kpis_for_tenants(tenants, period_for, tallies=False)

            # then they agree
            for tenant in tenants:
                assert (tallied[tenant.pk].visitors, tallied[tenant.pk].returning_visitors) == (
                    counted[tenant.pk].visitors,
                    counted[tenant.pk].returning_visitors,
                ), (tenant.slug, period_for(tenant))
    assert tallied[tenants[0].pk].visitors > 0
