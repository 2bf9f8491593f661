"""The only ways in by key, token or id. "Not found" is the same answer for missing and not yours."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http.request import validate_host
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import visitor_tallies
from conversations.models import Conversation, PageView, Visitor
from tenants.models import ChangeNotice, Tenant
from workforce.models import Agent

VISITOR_TOKEN_SALT = "chatops.visitor"  # noqa: S105 (a namespace for signing, not a secret)
VISITOR_TOKEN_MAX_AGE = dt.timedelta(days=400)
# A page view this long after the previous one starts a new visit.
NEW_VISIT_AFTER = dt.timedelta(minutes=30)

ERROR_UNKNOWN_KEY = _("This chat is not available: unknown widget key.")
ERROR_ORIGIN_NOT_ALLOWED = _("This chat is not available on this site.")
ERROR_TENANT_NOT_SERVING = _("This chat is not available right now.")
ERROR_CONVERSATION_NOT_FOUND = _("Conversation not found.")
ERROR_NOTICE_NOT_FOUND = _("Change notice not found.")


class AccessDenied(Exception):
    """Refused, with a code for the client and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, str(message)


def is_own_origin(origin: str) -> bool:
    """Say whether a page of this origin is served by chatops itself (its host is one of ALLOWED_HOSTS).

    Our own pages, such as the widget preview in the admin, may run any tenant's widget; they never
    count as the widget being installed on the client's site.
    """
    host = urlsplit(origin or "").hostname
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


def access_tenant_for_widget(*, widget_key: str, origin: str) -> Tenant:
    """Return the tenant whose widget key this is, if the page's origin is one of its sites (or ours)."""
    return check_widget_origin(tenant=tenant_of_widget_key(widget_key=widget_key), origin=origin)


def tenant_of_widget_key(*, widget_key: str) -> Tenant:
    """Return the tenant whose widget key this is, or raise AccessDenied("unknown_key")."""
    tenant = Tenant.objects.filter(widget_key=widget_key or "").first()
    if tenant is None:
        raise AccessDenied("unknown_key", ERROR_UNKNOWN_KEY)
    return tenant


def check_widget_origin(*, tenant: Tenant, origin: str) -> Tenant:
    """Return the tenant if it serves its widget on a page of this origin (its sites, or ours); else raise."""
    if tenant.status == Tenant.Status.ENDED:
        raise AccessDenied("not_serving", ERROR_TENANT_NOT_SERVING)
    if not (tenant.accepts_origin(origin or "") or is_own_origin(origin)):
        raise AccessDenied("origin_not_allowed", ERROR_ORIGIN_NOT_ALLOWED)
    return tenant


def issue_visitor_token(visitor: Visitor) -> str:
    """Return the signed token the widget keeps so a reload continues as the same visitor."""
    return signing.dumps({"v": str(visitor.public_id), "t": visitor.tenant_id}, salt=VISITOR_TOKEN_SALT)


def visitor_from_token(*, tenant: Tenant, token: str | None) -> Visitor | None:
    """Return the visitor a token names, if it is genuine, fresh and of this tenant.

    The visitor comes with ``open_conversation_id``: their conversation that has not been closed, or None
    (one query for both, as a reconnecting widget needs both).
    """
    if not token:
        return None
    try:
        data = signing.loads(token, salt=VISITOR_TOKEN_SALT, max_age=VISITOR_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != tenant.pk:
        return None
    open_conversations = (
        Conversation.objects.filter(visitor=OuterRef("pk"))
        .exclude(status=Conversation.Status.CLOSED)
        .order_by("-started_at")
        .values("pk")[:1]
    )
    visitor = (
        Visitor.objects.for_tenant(tenant)
        .filter(public_id=data.get("v"))
        .annotate(open_conversation_id=Subquery(open_conversations))
        .first()
    )
    if visitor is not None:
        visitor.tenant = tenant  # known already: no query when it is asked for
    return visitor


def identify_visitor(*, tenant: Tenant, token: str | None, now: dt.datetime | None = None) -> tuple[Visitor, str]:
    """Return the token's visitor (with ``open_conversation_id``), or a new one, with the token to keep."""
    now = now or timezone.now()
    visitor = visitor_from_token(tenant=tenant, token=token)
    if visitor is None:
        visitor = Visitor.objects.create(tenant=tenant, first_seen_at=now, last_seen_at=now)
        visitor.open_conversation_id = None
        return visitor, issue_visitor_token(visitor)
    return visitor, token


def is_returning(*, previous: PageView | None, at: dt.datetime) -> bool:
    """Say whether a page view at ``at`` is a returning visitor's, given their previous one (None: a first visit).

    A view that starts a new visit after a pause is returning; the later views of a visit are as its first.
    """
    if previous is None:
        return False
    if at - previous.viewed_at >= NEW_VISIT_AFTER:
        return True
    return previous.returning


def record_page_view(
    *, tenant: Tenant, visitor: Visitor, url: str, title: str = "", now: dt.datetime | None = None
) -> PageView:
    """Record a page of the client's site opened with the widget; a new visit after a pause is 'returning'."""
    now = now or timezone.now()
    previous = PageView.objects.for_tenant(tenant).filter(visitor=visitor).order_by("-viewed_at").first()
    returning = is_returning(previous=previous, at=now)
    with transaction.atomic():
        Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=now)
        view = PageView.objects.create(
            tenant=tenant, visitor=visitor, url=url[:2000], title=title[:300], viewed_at=now, returning=returning
        )
        visitor_tallies.tally_page_view(tenant=tenant, view=view, previous=previous)
    return view


def access_conversation_for_agent(*, agent: Agent, conversation_id: object) -> Conversation:
    """Return a conversation of a tenant the agent is trained for, or raise AccessDenied("not_found")."""
    try:
        return Conversation.objects.visible_to(agent).select_related("tenant").get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, TypeError, ValueError):
        raise AccessDenied("not_found", ERROR_CONVERSATION_NOT_FOUND) from None


def access_conversation_for_visitor(*, visitor: Visitor, conversation_id: object) -> Conversation:
    """Return one of the visitor's own conversations, or raise AccessDenied("not_found")."""
    try:
        return Conversation.objects.for_tenant(visitor.tenant).get(pk=int(conversation_id), visitor=visitor)
    except (Conversation.DoesNotExist, TypeError, ValueError):
        raise AccessDenied("not_found", ERROR_CONVERSATION_NOT_FOUND) from None


def access_notice_for_agent(*, agent: Agent, notice_id: object) -> ChangeNotice:
    """Return a change notice of a tenant the agent is trained for, or raise AccessDenied("not_found")."""
    try:
        return ChangeNotice.objects.visible_to(agent).select_related("tenant").get(pk=int(notice_id))
    except (ChangeNotice.DoesNotExist, TypeError, ValueError):
        raise AccessDenied("not_found", ERROR_NOTICE_NOT_FOUND) from None
