"""Visits: the widget's visitor and pages written live by the services, and a history written at once,
which reads the same as the same pages coming live, one by one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import access, visitor_tallies, visits
from conversations.models import PageView, Visitor, VisitorTally
from reporting import kpis
from reporting.periods import Period
from tests import factories

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
START = dt.datetime(2026, 11, 9, 8, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]

# Three visitors' pages, minutes after START: a first visit, a pause of 20 minutes (same visit), a pause of
# an hour (a new, returning visit), and a visitor who comes back the next week.
PAGES = {
    0: [0, 2, 22, 90, 93],
    1: [5, 6],
    2: [10, 60 * 24 * 8, 60 * 24 * 8 + 1],
}


def pages_of(visitor_index: int) -> list[tuple[str, dt.datetime]]:
    return [
        (f"https://shop.example/p{minute}", START + dt.timedelta(minutes=minute)) for minute in PAGES[visitor_index]
    ]


def history_tenant(slug: str):
    return factories.make_tenant(slug=slug, name=slug, time_zone="Europe/Helsinki")


def test_a_batch_of_page_views_gives_the_flags_last_sightings_and_figures_of_the_live_path():
    # given the same visits recorded live, page by page, at one tenant
    live = history_tenant("live")
    live_visitors = [Visitor.objects.create(tenant=live, first_seen_at=START, last_seen_at=START) for _i in PAGES]
    for index, visitor in enumerate(live_visitors):
        for url, at in pages_of(index):
            visits.record_page_view(tenant=live, visitor=visitor, url=url, now=at)

    # when they are written at once, visitors first, at another
    batch = history_tenant("batch")
    visitors = visits.create_visitors(tenant=batch, first_seen=[START] * len(PAGES))
    opened = [
        visits.PageOpened(visitor=visitors[index], url=url, title="", at=at)
        for index in reversed(PAGES)
        for url, at in reversed(pages_of(index))
    ]
    visits.record_page_views(tenant=batch, views=opened, now=NOW)

    # then each view is returning or not as it was live, and each visitor was last seen at their last page
    def flags(tenant):
        return list(PageView.objects.for_tenant(tenant).order_by("visitor_id", "viewed_at").values_list("returning"))

    assert flags(batch) == flags(live)
    assert sum(returning for (returning,) in flags(batch)) == 4
    assert [visitor.last_seen_at for visitor in Visitor.objects.for_tenant(batch).order_by("pk")] == [
        START + dt.timedelta(minutes=PAGES[index][-1]) for index in PAGES
    ]
    # and the tenant's visitor tallies hold those weeks, so the KPIs read them, and read the live figures
    batch.refresh_from_db()
    for week in (START, START + dt.timedelta(days=8)):
        period = Period.week(week, zone=batch.zone)
        assert visitor_tallies.covers(batch, span="week", zone=batch.zone, start=period.start)
    assert VisitorTally.objects.for_tenant(batch).filter(span="week").count() == 2
    for week in (Period.week(START, zone=live.zone), Period.week(START + dt.timedelta(days=8), zone=live.zone)):
        live_figures, batch_figures = kpis.kpis_for_tenant(live, week), kpis.kpis_for_tenant(batch, week)
        assert (batch_figures.visitors, batch_figures.returning_visitors) == (
            live_figures.visitors,
            live_figures.returning_visitors,
        )
        assert batch_figures.visitors > 0


def test_a_batch_continues_from_the_views_recorded_before_and_never_moves_a_sighting_back():
    # given a visitor seen live a while ago, whose last sighting is later than their last page (they chatted)
    tenant = history_tenant("shop")
    visitor = Visitor.objects.create(tenant=tenant, first_seen_at=START, last_seen_at=START)
    visits.record_page_view(tenant=tenant, visitor=visitor, url="https://shop.example/", now=START)
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=START + dt.timedelta(hours=3))

    # when a page of theirs ten minutes after the first is recorded in a batch
    (view,) = visits.record_page_views(
        tenant=tenant,
        views=[
            visits.PageOpened(
                visitor=visitor, url="https://shop.example/a", title="A", at=START + dt.timedelta(minutes=10)
            )
        ],
        now=NOW,
    )

    # then it belongs to the same first visit, and the later sighting stays
    assert view.returning is False
    visitor.refresh_from_db()
    assert visitor.last_seen_at == START + dt.timedelta(hours=3)


def test_a_batch_refuses_a_view_older_than_one_recorded_and_a_visitor_of_another_tenant(other_tenant):
    # given a visitor with a page view recorded
    tenant = history_tenant("shop")
    visitor = Visitor.objects.create(tenant=tenant)
    visits.record_page_view(tenant=tenant, visitor=visitor, url="https://shop.example/", now=START)
    stranger = Visitor.objects.create(tenant=other_tenant)

    # when / then a page from before it, or a visitor of another tenant, is refused and nothing is written
    for who, at in ((visitor, START - dt.timedelta(minutes=1)), (stranger, START)):
        with pytest.raises(ValueError):
            visits.record_page_views(
                tenant=tenant, views=[visits.PageOpened(visitor=who, url="https://shop.example/b", title="", at=at)]
            )
    assert PageView.objects.for_tenant(tenant).count() == 1


# --- Live: the widget's visitor and page, written by the visits services, read by access -------------------


def test_a_visitor_without_a_token_is_created_by_the_service_with_a_token_that_finds_them_again(tenant):
    # given a page with no token yet
    # when the widget session identifies its visitor
    visitor, token = visits.identify_visitor(tenant=tenant, token="", now=START)

    # then a visitor is stored, first seen now, and the token read back finds the same visitor
    assert Visitor.objects.for_tenant(tenant).get().pk == visitor.pk
    assert visitor.first_seen_at == START
    assert access.visitor_from_token(tenant=tenant, token=token).pk == visitor.pk
    # and the same token again identifies them without a new row
    again, same_token = visits.identify_visitor(tenant=tenant, token=token, now=NOW)
    assert (again.pk, same_token) == (visitor.pk, token)
    assert Visitor.objects.for_tenant(tenant).count() == 1


def test_reading_a_visitor_by_token_writes_nothing(tenant, other_tenant):
    # given a visitor of the tenant and their token, and tokens that name nobody here
    visitor, token = visits.identify_visitor(tenant=tenant, token="", now=START)
    _stranger, strangers_token = visits.identify_visitor(tenant=other_tenant, token="", now=START)

    # when access reads each of them
    with CaptureQueriesContext(connection) as queries:
        found = access.visitor_from_token(tenant=tenant, token=token)
        foreign = access.visitor_from_token(tenant=tenant, token=strangers_token)
        forged = access.visitor_from_token(tenant=tenant, token="not-a-token")

    # then it finds the visitor, nobody for the others, and every statement only read
    assert (found.pk, foreign, forged) == (visitor.pk, None, None)
    assert queries.captured_queries
    assert all(query["sql"].lstrip().upper().startswith("SELECT") for query in queries.captured_queries)
    assert Visitor.objects.count() == 2


def test_a_live_page_view_moves_the_last_sighting_and_marks_a_new_visit_after_a_pause_as_returning(tenant):
    # given a visitor who opened a page at START
    visitor, _token = visits.identify_visitor(tenant=tenant, token="", now=START)
    first = visits.record_page_view(tenant=tenant, visitor=visitor, url="https://shop.example/", now=START)

    # when they open one a minute later and another after a pause of a new visit
    same_visit = visits.record_page_view(
        tenant=tenant, visitor=visitor, url="https://shop.example/a", now=START + dt.timedelta(minutes=1)
    )
    later = START + dt.timedelta(minutes=1) + visits.NEW_VISIT_AFTER
    new_visit = visits.record_page_view(tenant=tenant, visitor=visitor, url="https://shop.example/b", now=later)

    # then only the view after the pause is returning, and the visitor was last seen then
    assert [first.returning, same_visit.returning, new_visit.returning] == [False, False, True]
    visitor.refresh_from_db()
    assert visitor.last_seen_at == later
