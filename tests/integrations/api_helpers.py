"""What the REST API's tests share: a chat at a moment, a client with a token's key."""

from __future__ import annotations

import datetime as dt

from rest_framework.test import APIClient

from conversations import services
from conversations.models import Conversation, Lead, Visitor

NOW = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)


def make_chat(tenant, *, minutes_ago: int, lead: bool = False, now: dt.datetime = NOW) -> Conversation:
    """Start a chat of the tenant ``minutes_ago`` before ``now`` with one visitor message (and a lead)."""
    at = now - dt.timedelta(minutes=minutes_ago)
    visitor = Visitor.objects.create(tenant=tenant)
    conversation = services.start_conversation(tenant=tenant, visitor=visitor, now=at, route=False)
    services.post_visitor_message(conversation=conversation, body=f"Question {minutes_ago}", now=at)
    if lead:
        Lead.objects.create(
            tenant=tenant, conversation=conversation, email=f"v{minutes_ago}@example.fi", wants="x", created_at=at
        )
    return conversation


def api_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def ids_paging_through(
    client: APIClient, url: str, *, params: dict | None = None, field: str = "id", meanwhile=lambda: None
) -> list:
    """Return the ``field`` of every row, walking pages of two; ``meanwhile`` runs after the first page."""
    page = client.get(url, {**(params or {}), "page_size": 2}).json()
    seen = [row[field] for row in page["results"]]
    meanwhile()
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [row[field] for row in page["results"]]
    return seen
