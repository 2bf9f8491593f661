"""Visitor tallies: kept as page views arrive, the same figures as counting page views, and really read.

The tests record page views through ``visits.record_page_view`` as the widget does. A tally covers
the periods that begin once it has begun; ``begin_tally`` dates that before the test's page views, as
for a tenant created before any of them.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import threading
import zoneinfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from conversations import visitor_tallies, visits
from conversations.models import PageView, Visitor, VisitorMark, VisitorTally
from reporting import kpis
from reporting.periods import Period
from tenants.models import Tenant
from tests import factories
from tests.plugins import services_required, skip_or_fail
from tests.sqlite_rerun import assert_all_passed

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")
PAGE = "https://kahvila.example/"
PAGE_VIEWS_TABLE = PageView._meta.db_table


def at(year: int, month: int, day: int, hour: int, minute: int = 0, zone=HELSINKI) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


def begin_tally(tenant: Tenant, since: dt.datetime) -> Tenant:
    Tenant.objects.filter(pk=tenant.pk).update(visitors_tallied_since=since, visitors_tallied_in=tenant.time_zone)
    tenant.refresh_from_db()
    return tenant


def view(tenant: Tenant, visitor: Visitor, moment: dt.datetime) -> PageView:
    return visits.record_page_view(tenant=tenant, visitor=visitor, url=PAGE, now=moment)


def tally(tenant: Tenant, span: str, first_day: dt.date) -> tuple[int, int]:
    row = VisitorTally.objects.filter(tenant=tenant, zone=tenant.time_zone, span=span, first_day=first_day).first()
    return (row.visitors, row.returning_visitors) if row else (0, 0)


def audience(tenants: list[Tenant], period_for, *, tallies: bool) -> dict[int, tuple[int, int]]:
    """Return each tenant's (visitors, returning visitors) and whether page views were read."""
    figures = kpis.kpis_for_tenants(tenants, period_for, tallies=tallies)
    return {tenant_id: (one.visitors, one.returning_visitors) for tenant_id, one in figures.items()}


def reads_page_views(call) -> bool:
    """Say whether the call counted visitors over the page views: a query whose main table is theirs.

    (The chats' own figures look up each chatting visitor's page views in the period with an EXISTS
    per chat; that is not counting visitors from the page views.)
    """
    with CaptureQueriesContext(connection) as captured:
        call()
    return any(_main_table(query["sql"]) == PAGE_VIEWS_TABLE for query in captured.captured_queries)


def _main_table(sql: str) -> str:
    depth, position = 0, 0
    while position < len(sql):
        character = sql[position]
        depth += character == "("
        depth -= character == ")"
        if depth == 0 and sql.startswith(" FROM ", position):
            table = re.match(r'"?(\w+)"?', sql[position + 6 :])
            return table.group(1) if table else ""
        position += 1
    return ""


# --- Counted by hand ------------------------------------------------------------------------------


@pytest.fixture
def anna_and_ben(tenant):
    """Two visitors of the Helsinki café over the last weekend of October 2026 (the month ends on Saturday).

    Anna: Sat 31 Oct 10:00 and 10:10 (one visit), 11:00 (50 min later: returning), Sun 1 Nov 09:00 (returning).
    Ben:  Sat 31 Oct 23:50, Sun 1 Nov 00:05 (15 min later: the same visit, not returning; a new day and month).
    """
    begin_tally(tenant, at(2026, 10, 1, 0))
    anna, ben = Visitor.objects.create(tenant=tenant), Visitor.objects.create(tenant=tenant)
    for who, moment in (
        (anna, at(2026, 10, 31, 10, 0)),
        (anna, at(2026, 10, 31, 10, 10)),
        (anna, at(2026, 10, 31, 11, 0)),
        (ben, at(2026, 10, 31, 23, 50)),
        (ben, at(2026, 11, 1, 0, 5)),
        (anna, at(2026, 11, 1, 9, 0)),
    ):
        view(tenant, who, moment)
    return tenant


# (span, first day, visitors, returning visitors), from the fixture's story:
# Sat 31 Oct: Anna and Ben; Anna returned. Sun 1 Nov: Anna (returning) and Ben (same visit as Saturday's).
# The week of Mon 26 Oct holds both days; October and November each hold one of them.
BY_HAND = (
    ("day", dt.date(2026, 10, 31), 2, 1),
    ("day", dt.date(2026, 11, 1), 2, 1),
    ("week", dt.date(2026, 10, 26), 2, 1),
    ("month", dt.date(2026, 10, 1), 2, 1),
    ("month", dt.date(2026, 11, 1), 2, 1),
)
PERIOD_OF_SPAN = {
    "day": lambda first_day: Period.day(first_day, zone=HELSINKI),
    "week": lambda first_day: Period.week(first_day, zone=HELSINKI),
    "month": lambda first_day: Period.month_of(first_day, zone=HELSINKI),
}


@pytest.mark.parametrize(("span", "first_day", "visitors", "returning"), BY_HAND)
def test_each_visitor_counts_once_per_day_week_and_month(anna_and_ben, span, first_day, visitors, returning):
    assert tally(anna_and_ben, span, first_day) == (visitors, returning)


@pytest.mark.parametrize(("span", "first_day", "visitors", "returning"), BY_HAND)
def test_the_kpis_read_the_tally_and_show_the_same_figures_as_the_page_views(
    anna_and_ben, span, first_day, visitors, returning
):
    # given a period the tally covers
    period = PERIOD_OF_SPAN[span](first_day)

    # when the KPIs are computed from the tally, and again from the page views
    def from_tally():
        return kpis.kpis_for_tenant(anna_and_ben, period)

    # then the figures are the hand-counted ones both ways, and only the second read page views
    assert reads_page_views(from_tally) is False
    tallied, counted = from_tally(), kpis.kpis_for_tenant(anna_and_ben, period, tallies=False)
    assert (tallied.visitors, tallied.returning_visitors) == (visitors, returning)
    assert (counted.visitors, counted.returning_visitors) == (visitors, returning)


def test_a_run_of_days_and_a_period_before_the_tally_are_counted_from_page_views(anna_and_ben):
    weekend = Period.days(dt.date(2026, 10, 31), dt.date(2026, 11, 1), zone=HELSINKI)
    september = Period.month(2026, 9, zone=HELSINKI)

    assert reads_page_views(lambda: kpis.kpis_for_tenant(anna_and_ben, weekend)) is True
    assert reads_page_views(lambda: kpis.kpis_for_tenant(anna_and_ben, september)) is True
    assert kpis.kpis_for_tenant(anna_and_ben, weekend).visitors == 2


def test_tallied_and_counted_tenants_share_one_query(anna_and_ben, other_tenant, django_assert_num_queries):
    # given one tenant whose month is tallied and one whose month began before its tally
    begin_tally(other_tenant, at(2026, 10, 15, 0))
    gym_visitor = Visitor.objects.create(tenant=other_tenant)
    view(other_tenant, gym_visitor, at(2026, 10, 20, 12))

    # when both tenants' October is computed at once
    def october(tenant):
        return Period.month(2026, 10, zone=tenant.zone)

    extra = 0 if connection.vendor == "postgresql" else 1  # SQLite fetches first response times once more
    with django_assert_num_queries(kpis.QUERIES + extra):
        figures = audience([anna_and_ben, other_tenant], october, tallies=True)

    # then each has its figures: the café's from its tally, the gym's from its page views
    assert figures == {anna_and_ben.pk: (2, 1), other_tenant.pk: (1, 0)}


# --- The same figures on a random history --------------------------------------------------------


def random_history(tenants: list[Tenant], *, seed: int, views: int) -> dt.datetime:
    """Record page views of a few dozen visitors per tenant, 20 Oct - 10 Nov 2026; return the last moment.

    The span crosses the EU (25 Oct) and US (1 Nov) daylight-saving changes, a month boundary and three
    week boundaries in every zone; gaps of minutes to days make some views returning.
    """
    rng = random.Random(seed)
    visitors = {tenant.pk: [Visitor.objects.create(tenant=tenant) for _ in range(25)] for tenant in tenants}
    moment = dt.datetime(2026, 10, 20, tzinfo=dt.UTC)
    for _ in range(views):
        moment += dt.timedelta(minutes=rng.choice((1, 5, 20, 45, 90, 240, 600)))
        tenant = rng.choice(tenants)
        view(tenant, rng.choice(visitors[tenant.pk]), moment)
    return moment


def calendar_periods(zone: zoneinfo.ZoneInfo) -> list[Period]:
    days = [dt.date(2026, 10, 19) + dt.timedelta(days=offset) for offset in range(24)]
    periods = {Period.day(day, zone=zone) for day in days}
    periods |= {Period.week(day, zone=zone) for day in days}
    periods |= {Period.month_of(day, zone=zone) for day in days}
    return sorted(periods, key=lambda period: (period.kind, period.first_day))


@pytest.fixture
def three_zones(tenant):
    helsinki = begin_tally(tenant, at(2026, 10, 1, 0))
    new_york = begin_tally(factories.make_tenant(time_zone="America/New_York"), at(2026, 10, 1, 0))
    sydney = begin_tally(factories.make_tenant(time_zone="Australia/Sydney"), at(2026, 9, 30, 0))
    return [helsinki, new_york, sydney]


def test_the_tally_equals_the_page_view_count_for_every_day_week_and_month(three_zones):
    # given a random history in three zones
    random_history(three_zones, seed=7, views=500)

    # when every day, week and month of it is computed both ways, for the three tenants at once
    for index, _ in enumerate(calendar_periods(HELSINKI)):
        # (the same kind and position in each tenant's own zone)
        def period_for(tenant, index=index):
            return calendar_periods(tenant.zone)[index]

        tallied = audience(three_zones, period_for, tallies=True)
        counted = audience(three_zones, period_for, tallies=False)

        # then the figures are the same, and not all zero
        assert tallied == counted, period_for(three_zones[0])
    assert (
        sum(
            audience(three_zones, lambda t: Period.month(2026, 10, zone=t.zone), tallies=True)[t.pk][0]
            for t in three_zones
        )
        > 50
    )


def tally_rows(tenants: list[Tenant]) -> set[tuple]:
    return set(
        VisitorTally.objects.filter(tenant__in=tenants).values_list(
            "tenant_id", "zone", "span", "first_day", "visitors", "returning_visitors"
        )
    )


def test_a_rebuild_writes_exactly_the_tallies_kept_as_the_views_arrived(three_zones):
    # given tallies kept as a random history arrived
    last = random_history(three_zones, seed=11, views=300)
    kept = tally_rows(three_zones)

    # when they are rebuilt from the page views
    rebuilt = visitor_tallies.rebuild(three_zones, now=last)

    # then the rows are the same, and the tally now covers the tenants' whole history
    assert rebuilt.tenants == 3
    assert rebuilt.tallies == len(kept) > 0
    assert tally_rows(three_zones) == kept
    for tenant in three_zones:
        tenant.refresh_from_db()
        assert tenant.visitors_tallied_since < Period.month(2026, 9, zone=tenant.zone).start


def test_after_a_rebuild_the_running_periods_still_count_each_visitor_once(tenant):
    # given a history recorded without any tally (as before an upgrade), then rebuilt on 10 Nov at 12:00
    Tenant.objects.filter(pk=tenant.pk).update(visitors_tallied_since=None, visitors_tallied_in="")
    anna, ben = Visitor.objects.create(tenant=tenant), Visitor.objects.create(tenant=tenant)
    PageView.objects.create(tenant=tenant, visitor=anna, url=PAGE, viewed_at=at(2026, 11, 2, 9))
    PageView.objects.create(tenant=tenant, visitor=anna, url=PAGE, viewed_at=at(2026, 11, 10, 9))
    visitor_tallies.rebuild([tenant], now=at(2026, 11, 10, 12))
    tenant.refresh_from_db()

    # when Anna comes back the same day and Ben for the first time
    view(tenant, anna, at(2026, 11, 10, 13))
    view(tenant, ben, at(2026, 11, 10, 14))

    # then 10 Nov, its week (from Mon 9 Nov) and November each have two visitors; Anna's return counts once
    assert tally(tenant, "day", dt.date(2026, 11, 10)) == (2, 1)
    assert tally(tenant, "week", dt.date(2026, 11, 9)) == (2, 1)
    assert tally(tenant, "month", dt.date(2026, 11, 1)) == (2, 1)
    assert kpis.kpis_for_tenant(tenant, Period.month(2026, 11, zone=HELSINKI)).visitors == 2


# --- Time zones, concurrency, pruning, the command ------------------------------------------------


def test_a_new_zone_starts_the_tally_again_and_queues_a_rebuild(tenant, django_capture_on_commit_callbacks):
    # given a Helsinki tally with a visitor on 3 November
    begin_tally(tenant, at(2026, 10, 1, 0))
    visitor = Visitor.objects.create(tenant=tenant)
    view(tenant, visitor, at(2026, 11, 3, 12))

    # when the client moves to New York and the visitor comes back on 4 November
    tenant.time_zone = "America/New_York"
    tenant.save(update_fields=["time_zone"])
    back = at(2026, 11, 4, 12, zone=NEW_YORK)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        view(tenant, visitor, back)

    # then the tally starts again then, in the new zone: November is counted from the page views
    tenant.refresh_from_db()
    assert (tenant.visitors_tallied_in, tenant.visitors_tallied_since) == ("America/New_York", back)
    november = Period.month(2026, 11, zone=NEW_YORK)
    assert reads_page_views(lambda: kpis.kpis_for_tenant(tenant, november)) is True
    assert kpis.kpis_for_tenant(tenant, november).visitors == 1

    # and the queued rebuild recounts it in New York time, after which November reads the tally again
    assert len(queued) == 1
    queued[0]()
    tenant.refresh_from_db()
    assert reads_page_views(lambda: kpis.kpis_for_tenant(tenant, november)) is False
    assert kpis.kpis_for_tenant(tenant, november).visitors == 1
    assert tally(tenant, "day", dt.date(2026, 11, 3)) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_two_first_views_at_the_same_moment_count_once():
    if connection.vendor != "postgresql":
        skip_or_fail(
            "needs PostgreSQL for two connections at once", required=services_required(), switch="REQUIRE_SERVICES"
        )
    # given a visitor whose first view of the day is being recorded but not yet committed
    tenant = begin_tally(factories.make_tenant(), at(2026, 10, 1, 0))
    visitor = Visitor.objects.create(tenant=tenant)
    moment = at(2026, 11, 5, 10)
    recorded, go_on = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first_tab():
        try:
            with transaction.atomic():
                view(tenant, visitor, moment)
                recorded.set()
                go_on.wait(10)
        except BaseException as error:  # reported by the test below
            errors.append(error)
            recorded.set()
        finally:
            connection.close()

    def second_tab():
        try:
            view(tenant, visitor, moment)  # waits for the first tab's transaction
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    # when a second tab records a view of the same moment meanwhile
    first = threading.Thread(target=first_tab)
    first.start()
    recorded.wait(10)
    second = threading.Thread(target=second_tab)
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the second view should wait for the first one's mark"
    go_on.set()
    first.join(10)
    second.join(10)

    # then both views are stored and the visitor counts once
    assert errors == []
    assert PageView.objects.filter(visitor=visitor).count() == 2
    assert tally(tenant, "day", dt.date(2026, 11, 5)) == (1, 0)
    assert tally(tenant, "month", dt.date(2026, 11, 1)) == (1, 0)


def test_marks_of_periods_that_are_over_are_pruned(tenant):
    # given marks from a view on Sat 31 Oct and one on Tue 10 Nov
    begin_tally(tenant, at(2026, 10, 1, 0))
    visitor = Visitor.objects.create(tenant=tenant)
    view(tenant, visitor, at(2026, 10, 31, 12))
    view(tenant, visitor, at(2026, 11, 10, 12))

    # when marks are pruned on Thu 12 Nov at noon
    pruned = visitor_tallies.prune_marks(now=at(2026, 11, 12, 12))

    # then Saturday's day, its week and October are gone (3). 10 Nov, its week (from Mon 9 Nov) and November
    # remain: marks are kept two days past their period's end in UTC (10 Nov ended 36 hours ago here)
    assert pruned == 3
    assert set(VisitorMark.objects.values_list("span", "first_day")) == {
        ("day", dt.date(2026, 11, 10)),
        ("week", dt.date(2026, 11, 9)),
        ("month", dt.date(2026, 11, 1)),
    }
    assert tally(tenant, "month", dt.date(2026, 10, 1)) == (1, 0)


def test_the_command_rebuilds_every_tenant_or_the_ones_named(anna_and_ben, other_tenant, capsys):
    VisitorTally.objects.all().delete()

    call_command("rebuild_visitor_tallies", "--tenant", anna_and_ben.slug)

    output = capsys.readouterr().out
    assert f"[1/1] {anna_and_ben.slug}: " in output
    assert "Rebuilt 1 tenants" in output
    assert tally(anna_and_ben, "month", dt.date(2026, 10, 1)) == (2, 1)
    with pytest.raises(CommandError, match="no-such-client"):
        call_command("rebuild_visitor_tallies", "--tenant", "no-such-client")


def test_the_tallies_hold_on_the_embedded_sqlite_default(sqlite_rerun):
    """Run this module again on SQLite: the marks and tallies are written with raw SQL there too."""
    # given the embedded default, when this module runs there
    run = sqlite_rerun.of(__file__)

    # then every test passes there too
    assert_all_passed(run)
