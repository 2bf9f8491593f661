"""Visitor tallies: each tenant's distinct visitors per local day, week and month, kept as page views arrive.

Why
    "Visitors" is a distinct count over page views, the largest table we have. Counting a month's
    distinct visitors for every tenant at once reads every page view of the month; the tally makes
    it one row per tenant instead (docs/performance.md, "KPIs at scale").

How it stays exact
    Recording a page view also inserts a *mark* for the visitor in the local day, week and month of
    the view (and, for a returning view, a returning mark in each), with ``ON CONFLICT DO NOTHING``.
    Only a mark that was new adds one to the period's tally, in the same transaction as the page view.
    The unique constraint on the marks decides, so two page views of one visitor at the same moment
    still count once. A view in the same local day as the visitor's previous one needs no marks (that
    view made them), unless it is the first returning one. Marks of periods that are over are pruned.

When the KPI module may use it (``covers``)
    A tally is read only for a whole local day, week (Monday first) or month in the zone the tenant
    tallies in, starting at or after ``Tenant.visitors_tallied_since``. Everything else (any other run
    of days, periods from before the tally began) is counted from the page views as before, so a
    figure is the same either way; tests compare the two.

Time zones
    A tenant tallies in its own zone. When the zone changes, the next page view starts the tally
    again from that moment in the new zone (periods begun before it are counted from page views) and
    queues a rebuild, which recounts every period of the tenant from its page views in the new zone.
    A rebuild also makes history from before the tally fast (``manage.py rebuild_visitor_tallies``).

Concurrency
    On PostgreSQL a page view holds a share lock on its tenant's row while it tallies, and a rebuild
    holds an update lock while it recounts, so a rebuild never misses or double-counts a view that is
    recorded meanwhile. Page views are assumed to be recorded when they happen (give or take a day):
    a view recorded for a period whose marks were already pruned would count its visitor again.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count, DateField, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from conversations import sql
from conversations.models import PageView, VisitorMark, VisitorSpan, VisitorTally
from tenants.models import Tenant

SPANS = (VisitorSpan.DAY, VisitorSpan.WEEK, VisitorSpan.MONTH)
# Marks are kept this long after their period ends; a UTC date is within a day of any local date.
PRUNE_MARGIN = dt.timedelta(days=2)
# "Since" after a rebuild: before any page view there was, so every period is covered.
ALL_HISTORY = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


# --- Periods ---------------------------------------------------------------------------------------


def first_day_of(span: str, day: dt.date) -> dt.date:
    """Return the first local day of the day, week (Monday) or month that ``day`` falls in."""
    if span == VisitorSpan.DAY:
        return day
    if span == VisitorSpan.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if span == VisitorSpan.MONTH:
        return day.replace(day=1)
    raise ValueError(f"Unknown span {span!r}.")


def spans_of(moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> list[tuple[str, dt.date]]:
    """Return the (span, first day) of the local day, week and month a moment falls in."""
    local_day = moment.astimezone(zone).date()
    return [(span, first_day_of(span, local_day)) for span in SPANS]


def covers(tenant: Tenant, *, span: str, zone: zoneinfo.ZoneInfo, start: dt.datetime) -> bool:
    """Say whether the tenant's tally holds the exact figures of a whole span in ``zone`` from ``start``.

    Decided on the tenant object as given (load it fresh: a stale one may still name the old zone).
    """
    return (
        span in SPANS
        and tenant.visitors_tallied_since is not None
        and tenant.visitors_tallied_in == zone.key
        and tenant.visitors_tallied_since <= start
    )


def tallies_for(wanted: Mapping[int, tuple[str, str, dt.date]]) -> QuerySet:
    """Return ``(tenant_id, visitors, returning_visitors)`` rows for each tenant's (zone, span, first day).

    One condition per distinct (zone, span, first day), so it grows with the periods asked for, not
    with the tenants. A tenant without a row had no visitors in its period.
    """
    tenants_by_key: dict[tuple[str, str, dt.date], list[int]] = defaultdict(list)
    for tenant_id, key in wanted.items():
        tenants_by_key[key].append(tenant_id)
    condition = Q(pk__in=[])
    for (zone, span, first_day), tenant_ids in tenants_by_key.items():
        condition |= Q(tenant_id__in=tenant_ids, zone=zone, span=span, first_day=first_day)
    return VisitorTally.objects.filter(condition).order_by().values_list("tenant_id", "visitors", "returning_visitors")


# --- Recording -------------------------------------------------------------------------------------


def tally_page_view(*, tenant: Tenant, view: PageView, previous: PageView | None) -> None:
    """Count the view's visitor in its local day, week and month if it is their first view there.

    Call inside the transaction that records the view; ``previous`` is the visitor's latest view
    before it, if any.
    """
    _start_again_if_zone_changed(tenant, view.viewed_at)
    state = _locked_state(tenant.pk)
    if state is None:
        return
    zone_key, since = state
    zone = zoneinfo.ZoneInfo(zone_key)
    if _marked_by_previous(view, previous, zone=zone, since=since):
        return
    first_days = dict(spans_of(view.viewed_at, zone))
    new_marks = _insert_marks(tenant_id=tenant.pk, zone=zone_key, view=view, first_days=first_days)
    _add_to_tallies(tenant_id=tenant.pk, zone=zone_key, first_days=first_days, new_marks=new_marks)


def _start_again_if_zone_changed(tenant: Tenant, moment: dt.datetime) -> None:
    """Begin the tally at ``moment`` if the tenant has none yet or now lives in another zone.

    Runs before the share lock below is taken, so two page views starting at once cannot deadlock:
    the second one's update finds nothing left to change.
    """
    if tenant.visitors_tallied_since is not None and tenant.visitors_tallied_in == tenant.time_zone:
        return
    changed_zone = bool(tenant.visitors_tallied_in)
    started = Tenant.objects.filter(
        Q(visitors_tallied_since__isnull=True) | ~Q(visitors_tallied_in=tenant.time_zone),
        pk=tenant.pk,
        time_zone=tenant.time_zone,
    ).update(visitors_tallied_since=moment, visitors_tallied_in=tenant.time_zone)
    if not started:
        return
    tenant.visitors_tallied_since, tenant.visitors_tallied_in = moment, tenant.time_zone
    if changed_zone:
        from conversations.tasks import rebuild_visitor_tallies

        transaction.on_commit(lambda: rebuild_visitor_tallies.delay(tenant.pk))


def _locked_state(tenant_id: int) -> tuple[str, dt.datetime] | None:
    """Return the zone and start of the tenant's tally, share-locking its row on PostgreSQL.

    None when the row says the zone changed and the tally has not started again yet: this view then
    lies before the new start, in periods that are counted from page views anyway.
    """
    table = connection.ops.quote_name(Tenant._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT time_zone, visitors_tallied_in, visitors_tallied_since FROM {table} WHERE id = %s"  # noqa: S608
            + sql.share_lock(),
            [tenant_id],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    time_zone, tallied_in, since = row
    if since is None or tallied_in != time_zone:
        return None
    if isinstance(since, str):  # SQLite through a raw cursor
        since = dt.datetime.fromisoformat(since)
    if timezone.is_naive(since):
        since = since.replace(tzinfo=dt.UTC)
    return time_zone, since


def _marked_by_previous(
    view: PageView, previous: PageView | None, *, zone: zoneinfo.ZoneInfo, since: dt.datetime
) -> bool:
    """Say whether the visitor's previous view, tallied in this zone, already made every mark this view needs."""
    if previous is None or previous.viewed_at < since or previous.viewed_at > view.viewed_at:
        return False
    same_day = previous.viewed_at.astimezone(zone).date() == view.viewed_at.astimezone(zone).date()
    return same_day and (previous.returning or not view.returning)


def _insert_marks(
    *, tenant_id: int, zone: str, view: PageView, first_days: Mapping[str, dt.date]
) -> list[tuple[str, bool]]:
    """Insert the view's marks that are missing; return the (span, returning) of those that were new."""
    kinds = (False, True) if view.returning else (False,)
    rows = [
        (tenant_id, zone, span, first_day, returning, view.visitor_id)
        for span, first_day in first_days.items()
        for returning in kinds
    ]
    table, columns = _quoted(VisitorMark, "tenant_id", "zone", "span", "first_day", "returning", "visitor_id")
    inserted = sql.insert_ignoring_conflicts(table=table, columns=columns, rows=rows, returning=columns[2:5:2])
    return [(span, bool(returning)) for span, returning in inserted]


def _add_to_tallies(
    *, tenant_id: int, zone: str, first_days: Mapping[str, dt.date], new_marks: list[tuple[str, bool]]
) -> None:
    """Add one per new mark to the tallies of the view's periods (creating a tally where none is yet)."""
    if not new_marks:
        return
    increments: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for span, returning in new_marks:
        increments[span][1 if returning else 0] += 1
    rows = [
        (tenant_id, zone, span, first_days[span], plain, returning) for span, (plain, returning) in increments.items()
    ]
    table, columns = _quoted(VisitorTally, "tenant_id", "zone", "span", "first_day", "visitors", "returning_visitors")
    sql.insert_or_add(table=table, columns=columns, key=columns[:4], rows=rows)


def _quoted(model: type, *columns: str) -> tuple[str, list[str]]:
    """Return the model's table and the columns quoted for raw SQL ("returning" is an SQL keyword)."""
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(column) for column in columns]


# --- Rebuilding and pruning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild wrote."""

    tenants: int
    tallies: int
    marks: int


TRUNCATE_TO_SPAN = {VisitorSpan.DAY: TruncDate, VisitorSpan.WEEK: TruncWeek, VisitorSpan.MONTH: TruncMonth}


@transaction.atomic
def rebuild(tenants: Iterable[Tenant] | None = None, *, now: dt.datetime | None = None) -> Rebuilt:
    """Recount the tallies of the tenants (all by default) from their page views, in their zones today.

    Every day, week and month with page views gets its tally, and the periods still running get their
    marks; afterwards the tally covers the tenant's whole history. Locks the tenants' rows meanwhile.
    """
    now = now or timezone.now()
    ids = [tenant.pk for tenant in tenants] if tenants is not None else None
    locked = Tenant.objects.select_for_update().order_by("pk")
    locked = list(locked if ids is None else locked.filter(pk__in=ids))
    tenant_ids = [tenant.pk for tenant in locked]
    VisitorMark.objects.filter(tenant_id__in=tenant_ids).delete()
    VisitorTally.objects.filter(tenant_id__in=tenant_ids).delete()
    by_zone: dict[str, list[int]] = defaultdict(list)
    for tenant in locked:
        by_zone[tenant.time_zone].append(tenant.pk)
    tallies = marks = 0
    for zone_key, zone_tenant_ids in by_zone.items():
        views = PageView.objects.filter(tenant_id__in=zone_tenant_ids).order_by()
        zone = zoneinfo.ZoneInfo(zone_key)
        tallies += _recount_tallies(views, zone)
        marks += _remark_running_periods(views, zone, now=now)
    # Every page view the tenants ever had is now tallied, so the tally covers any period at all.
    Tenant.objects.filter(pk__in=tenant_ids).update(visitors_tallied_since=ALL_HISTORY)
    for zone_key, zone_tenant_ids in by_zone.items():
        Tenant.objects.filter(pk__in=zone_tenant_ids).update(visitors_tallied_in=zone_key)
    return Rebuilt(tenants=len(locked), tallies=tallies, marks=marks)


def _recount_tallies(views: QuerySet, zone: zoneinfo.ZoneInfo) -> int:
    """Write the tallies of every local day, week and month of the views; return how many."""
    tallies = []
    for span, truncate in TRUNCATE_TO_SPAN.items():
        first_day = truncate("viewed_at", tzinfo=zone, output_field=DateField())
        rows = (
            views.annotate(first_day=first_day)
            .values("tenant_id", "first_day")
            .annotate(
                visitors=Count("visitor_id", distinct=True),
                returning_visitors=Count("visitor_id", distinct=True, filter=Q(returning=True)),
            )
        )
        tallies += [VisitorTally(zone=zone.key, span=span, **row) for row in rows]
    VisitorTally.objects.bulk_create(tallies, batch_size=2000)
    return len(tallies)


def _remark_running_periods(views: QuerySet, zone: zoneinfo.ZoneInfo, *, now: dt.datetime) -> int:
    """Write the marks of the day, week and month that ``now`` falls in (those still take page views)."""
    count = 0
    for span, first_day in spans_of(now, zone):
        start = dt.datetime.combine(first_day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
        seen = (
            views.filter(viewed_at__gte=start)
            .values("tenant_id", "visitor_id")
            .annotate(returned=Count("pk", filter=Q(returning=True)))
            .values_list("tenant_id", "visitor_id", "returned")
        )
        marks = []
        for tenant_id, visitor_id, returned in seen.iterator(chunk_size=5000):
            common = {"tenant_id": tenant_id, "zone": zone.key, "span": span, "first_day": first_day}
            marks.append(VisitorMark(visitor_id=visitor_id, returning=False, **common))
            if returned:
                marks.append(VisitorMark(visitor_id=visitor_id, returning=True, **common))
        VisitorMark.objects.bulk_create(marks, batch_size=2000)
        count += len(marks)
    return count


def prune_marks(*, now: dt.datetime | None = None) -> int:
    """Delete the marks of periods that ended more than a day ago everywhere; return how many."""
    now = now or timezone.now()
    today = (now - PRUNE_MARGIN).date()
    ended = (
        Q(span=VisitorSpan.DAY, first_day__lt=today)
        | Q(span=VisitorSpan.WEEK, first_day__lt=first_day_of(VisitorSpan.WEEK, today))
        | Q(span=VisitorSpan.MONTH, first_day__lt=first_day_of(VisitorSpan.MONTH, today))
    )
    # A sweep over every tenant's marks, run by the scheduler.
    deleted, _ = VisitorMark.objects.unscoped().filter(ended).delete()
    return deleted
