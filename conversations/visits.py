"""Visitors and the pages they open: one at a time as the widget reports them, or a history at once.

The widget reports pages one by one (``identify_visitor``, ``record_page_view``); a history (the demo's
weeks of traffic, or one imported from another chat) comes in thousands, and ``create_visitors`` and
``record_page_views`` write it in a few statements with the same rules: a page view is returning by
``is_returning``, a visitor's last sighting never moves back, and the tenant's visitor tallies are
recounted from its page views afterwards, so the KPIs read the same as if each page had come live.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Greatest
from django.utils import timezone

from conversations import access, visitor_tallies
from conversations.models import PageView, Visitor
from conversations.safe_text import recorded_text
from tenants.models import Tenant

BATCH_SIZE = 1000
MAX_URL_LENGTH = 2000
MAX_TITLE_LENGTH = 300
# A page view this long after the previous one starts a new visit.
NEW_VISIT_AFTER = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class PageOpened:
    """One page of the client's site a visitor opened with the widget on it, and when."""

    visitor: Visitor
    url: str
    title: str
    at: dt.datetime


def is_returning(*, previous: PageView | None, at: dt.datetime) -> bool:
    """Say whether a page view at ``at`` is a returning visitor's, given their previous one (None: a first visit).

    A view that starts a new visit after a pause is returning; the later views of a visit are as its first.
    """
    if previous is None:
        return False
    if at - previous.viewed_at >= NEW_VISIT_AFTER:
        return True
    return previous.returning


# --- Live: one visitor, one page at a time -------------------------------------------------------------


@transaction.atomic
def identify_visitor(*, tenant: Tenant, token: str | None, now: dt.datetime | None = None) -> tuple[Visitor, str]:
    """Return the token's visitor (with ``open_conversation_id``), or a new one, with the token to keep."""
    visitor = access.visitor_from_token(tenant=tenant, token=token)
    if visitor is not None:
        return visitor, token
    now = now or timezone.now()
    visitor = Visitor.objects.create(tenant=tenant, first_seen_at=now, last_seen_at=now)
    visitor.open_conversation_id = None
    return visitor, access.issue_visitor_token(visitor)


@transaction.atomic
def record_page_view(
    *, tenant: Tenant, visitor: Visitor, url: str, title: str = "", now: dt.datetime | None = None
) -> PageView:
    """Record a page of the client's site opened with the widget; a new visit after a pause is 'returning'."""
    now = now or timezone.now()
    previous = PageView.objects.for_tenant(tenant).filter(visitor=visitor).order_by("-viewed_at").first()
    Visitor.objects.for_tenant(tenant).filter(pk=visitor.pk).update(last_seen_at=now)
    view = PageView.objects.create(
        tenant=tenant,
        visitor=visitor,
        url=recorded_text(url)[:MAX_URL_LENGTH],
        title=recorded_text(title)[:MAX_TITLE_LENGTH],
        viewed_at=now,
        returning=is_returning(previous=previous, at=now),
    )
    visitor_tallies.tally_page_view(tenant=tenant, view=view, previous=previous)
    return view


# --- A history: many visitors and pages at once --------------------------------------------------------


@transaction.atomic
def create_visitors(*, tenant: Tenant, first_seen: Sequence[dt.datetime]) -> list[Visitor]:
    """Create one visitor of the tenant per moment they were first seen, in order."""
    visitors = [Visitor(tenant=tenant, first_seen_at=moment, last_seen_at=moment) for moment in first_seen]
    return Visitor.objects.bulk_create(visitors, batch_size=BATCH_SIZE)


@transaction.atomic
def record_page_views(*, tenant: Tenant, views: Iterable[PageOpened], now: dt.datetime | None = None) -> list[PageView]:
    """Record many page views of the tenant's visitors at once, then recount the tenant's visitor tallies.

    Each view is returning or not by the same rule as a live one, counting the visitor's views
    recorded before; a view older than one recorded already is refused (ValueError: a history is
    written forward). The recount (``visitor_tallies.rebuild`` as of ``now``) reads every page view
    of the tenant, so write a history in few large batches, not visit by visit.
    """
    views = sorted(views, key=lambda view: (view.visitor.pk, view.at))
    if any(view.visitor.tenant_id != tenant.pk for view in views):
        raise ValueError("Every page view must be of a visitor of the tenant.")
    latest = _latest_views(tenant=tenant, visitor_ids={view.visitor.pk for view in views})
    rows = []
    for view in views:
        previous = latest.get(view.visitor.pk)
        if previous is not None and view.at < previous.viewed_at:
            raise ValueError(f"Visitor {view.visitor.pk} has a page view after {view.at.isoformat()} already.")
        row = PageView(
            tenant=tenant,
            visitor=view.visitor,
            url=recorded_text(view.url)[:MAX_URL_LENGTH],
            title=recorded_text(view.title)[:MAX_TITLE_LENGTH],
            viewed_at=view.at,
            returning=is_returning(previous=previous, at=view.at),
        )
        rows.append(row)
        latest[view.visitor.pk] = row
    PageView.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    _move_last_seen(tenant=tenant, visitor_ids=set(latest))
    visitor_tallies.rebuild([tenant], now=now or timezone.now())
    return rows


def _latest_views(*, tenant: Tenant, visitor_ids: set[int]) -> dict[int, PageView]:
    """Return each of the visitors' latest page view recorded so far."""
    latest: dict[int, PageView] = {}
    recorded = PageView.objects.for_tenant(tenant).filter(visitor_id__in=visitor_ids).order_by("viewed_at", "pk")
    for view in recorded.only("visitor_id", "viewed_at", "returning").iterator(chunk_size=BATCH_SIZE):
        latest[view.visitor_id] = view
    return latest


def _move_last_seen(*, tenant: Tenant, visitor_ids: set[int]) -> None:
    """Move each visitor's last sighting to their latest page view, never back, in one statement."""
    latest = (
        PageView.objects.filter(visitor=OuterRef("pk"))
        .order_by()
        .values("visitor")
        .annotate(latest=Max("viewed_at"))
        .values("latest")
    )
    Visitor.objects.for_tenant(tenant).filter(pk__in=visitor_ids).update(
        last_seen_at=Greatest("last_seen_at", Subquery(latest))
    )
