"""The only ways in by key, token or id. "Not found" is the same answer for missing and not yours.

Everything here only reads: a new visitor or a page view is written by ``conversations.visits``.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation, Visitor
from tenants.models import ChangeNotice, Tenant, normalize_origin
from tenants.scoping import trained_tenant_ids
from workforce.models import Agent

VISITOR_TOKEN_SALT = "chatops.visitor"  # noqa: S105 (a namespace for signing, not a secret)
VISITOR_TOKEN_MAX_AGE = dt.timedelta(days=400)

ERROR_UNKNOWN_KEY = _("This chat is not available: unknown widget key.")
ERROR_ORIGIN_NOT_ALLOWED = _("This chat is not available on this site.")
ERROR_TENANT_NOT_SERVING = _("This chat is not available right now.")
ERROR_CONVERSATION_NOT_FOUND = _("Conversation not found.")
ERROR_NOTICE_NOT_FOUND = _("Change notice not found.")
ERROR_AGENT_NOT_FOUND = "Agent not found."


class AccessDenied(Exception):
    """Refused, with a code for the client and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, str(message)


def _normalized(origin: str) -> str | None:
    try:
        return normalize_origin(origin or "")
    except (ValidationError, ValueError):  # ValueError: a port out of range
        return None


def is_own_origin(origin: str) -> bool:
    """Say whether a page of this origin is served by chatops itself: one of OWN_ORIGINS, scheme, host and port.

    Our own pages, such as the widget preview in the admin, may run any tenant's widget; they never
    count as the widget being installed on the client's site. ALLOWED_HOSTS says nothing here: a
    wildcard there must not make every site ours.
    """
    normalized = _normalized(origin)
    return normalized is not None and normalized in {_normalized(own) for own in settings.OWN_ORIGINS}


def page_origin(*, origin: str, fetch_site: str, own_origin: str) -> str:
    """Return the origin of the page that made a request: its Origin header, or, for a same-origin request
    that carries none (a browser's same-origin GET), the address the request was sent to.

    Browsers set Sec-Fetch-Site on every request and no page can change it, so "same-origin" without an
    Origin is a page of the server the request went to; anything else without an Origin has none.
    """
    if origin:
        return origin
    return own_origin if fetch_site == "same-origin" else ""


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
    try:
        public_id = uuid.UUID(str(data.get("v")))
    except ValueError:
        return None
    visitor = next(iter(Visitor.objects.raw(*_visitor_by_public_id(tenant_id=tenant.pk, public_id=public_id))), None)
    if visitor is not None:
        visitor.tenant = tenant  # known already: no query when it is asked for
    return visitor


def _visitor_query(*, tenant_id: int, public_id: uuid.UUID):
    """Return the query of a tenant's visitor by public id, with their open conversation's id."""
    open_conversations = Conversation.objects.for_tenant(tenant_id).open_of(OuterRef("pk")).values("pk")[:1]
    return (
        Visitor.objects.for_tenant(tenant_id)
        .filter(public_id=public_id)
        .annotate(open_conversation_id=Subquery(open_conversations))
        .order_by("pk")[:1]
    )


# Stand-ins compiled in place of a real tenant and visitor (no row has them), then swapped for real ones.
_SOME_TENANT, _SOME_VISITOR = -424242, uuid.UUID("00000000-0000-4000-8000-0000000c4a75")


def _visitor_by_public_id(*, tenant_id: int, public_id: uuid.UUID) -> tuple[str, list]:
    """Return the SQL and parameters of ``_visitor_query``, compiled once per process and database.

    Every reconnecting widget asks this; building and compiling the query took about three quarters of
    its CPU (1.1 of 1.7 ms). The ORM still writes the SQL (the open-conversation rule stays in one place);
    only the tenant and the visitor change between calls.
    """
    sql, params, tenant_at, visitor_at = _compiled_visitor_query(connection.vendor)
    params = list(params)
    for position in tenant_at:
        params[position] = tenant_id
    prepared = Visitor._meta.get_field("public_id").get_db_prep_value(public_id, connection)
    for position in visitor_at:
        params[position] = prepared
    return sql, params


@functools.cache
def _compiled_visitor_query(vendor: str) -> tuple[str, tuple, list[int], list[int]]:
    sql, params = _visitor_query(tenant_id=_SOME_TENANT, public_id=_SOME_VISITOR).query.sql_with_params()
    prepared = Visitor._meta.get_field("public_id").get_db_prep_value(_SOME_VISITOR, connection)
    tenant_at = [n for n, value in enumerate(params) if value == _SOME_TENANT]
    visitor_at = [n for n, value in enumerate(params) if value == prepared]
    if not tenant_at or len(visitor_at) != 1:
        raise RuntimeError(f"The visitor query's parameters were not found in {params!r}")
    return sql, params, tenant_at, visitor_at


def access_conversation_for_agent(*, agent: Agent, conversation_id: object) -> Conversation:
    """Return a conversation of a tenant the agent is trained for, or raise AccessDenied("not_found")."""
    try:
        return Conversation.objects.visible_to(agent).select_related("tenant").get(pk=int(conversation_id))
    except (Conversation.DoesNotExist, TypeError, ValueError):
        raise AccessDenied("not_found", ERROR_CONVERSATION_NOT_FOUND) from None


def agent_still_allowed(*, agent_id: int) -> Agent | None:
    """Return the agent read again, if their login is still active; None when it is not (or is gone)."""
    return Agent.objects.select_related("user").filter(pk=agent_id, user__is_active=True).first()


def login_read_again(user: AbstractBaseUser) -> AbstractBaseUser | None:
    """Return the login as the database has it now (a socket's copy is as old as the socket); None if deleted."""
    return get_user_model()._default_manager.filter(pk=user.pk).first()


def trained_tenant_id_list(*, agent: Agent) -> list[int]:
    """Return the ids of the tenants the agent has completed training for (whose queues they may hear)."""
    return list(trained_tenant_ids(agent))


def visible_conversation_ids(*, agent: Agent, ids: set[int]) -> set[int]:
    """Return those of the conversation ids that the agent may see now (their tenants' only)."""
    return set(Conversation.objects.visible_to(agent).filter(pk__in=ids).values_list("pk", flat=True))


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


def agent_of_user(user: AbstractBaseUser | AnonymousUser | None) -> Agent | None:
    """Return the agent profile of an active, signed-in user; None for anyone else."""
    if not user or not user.is_authenticated or not user.is_active:
        return None
    return Agent.objects.filter(user=user).first()


def access_agent(*, agent_id: object) -> Agent:
    """Return the agent of that id (a colleague to hand a chat to), or raise AccessDenied("not_found")."""
    try:
        return Agent.objects.get(pk=int(agent_id))
    except (Agent.DoesNotExist, TypeError, ValueError):
        raise AccessDenied("not_found", ERROR_AGENT_NOT_FOUND) from None
