"""Every API route, read from the URL patterns, with a token of tenant B while only tenant A has rows: B sees
none of A's rows and changes none. A route added without an entry below fails here."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from conversations.models import Conversation, Handoff
from integrations import api_tokens
from integrations import urls as api_urls
from integrations.models import Scope
from tenants.models import KnowledgeArticle
from tests.integrations.api_helpers import NOW, api_client, make_chat

pytestmark = pytest.mark.frozen_time(NOW)

# For each route, by name: the kind of tenant A's row its <pk> names (detail routes), or None for a list.
DETAIL_ROWS = {"lead": "lead", "conversation": "conversation", "handoff": "handoff"}
LISTS = {"leads", "conversations", "handoffs", "ratings"}
OTHER = {"kpis", "articles"}


@pytest.fixture
def rows_of_a(tenant) -> dict:
    conversation = make_chat(tenant, minutes_ago=30, lead=True)
    Conversation.objects.filter(pk=conversation.pk).update(rating=5, rated_at=NOW - dt.timedelta(minutes=5))
    handoff = Handoff.objects.create(
        tenant=tenant,
        conversation=make_chat(tenant, minutes_ago=20),
        summary="Refund",
        visitor_email="v@example.fi",
        promise="Call back",
        promised_by=NOW + dt.timedelta(days=1),
    )
    KnowledgeArticle.objects.create(tenant=tenant, title="Prices", body="From 10 €")
    return {"lead": conversation.lead, "conversation": conversation, "handoff": handoff}


@pytest.fixture
def b_client(other_tenant):
    scopes = list(Scope.values)
    return api_client(api_tokens.issue_token(tenant=other_tenant, name="B", scopes=scopes)[1])


def test_every_api_route_is_checked_here():
    names = {pattern.name for pattern in api_urls.urlpatterns}

    assert names == set(DETAIL_ROWS) | LISTS | OTHER


@pytest.mark.parametrize("name", sorted(DETAIL_ROWS))
def test_a_token_of_b_gets_404_for_each_row_of_a(rows_of_a, b_client, name):
    row = rows_of_a[DETAIL_ROWS[name]]

    read = b_client.get(reverse(f"api:{name}", args=[row.pk]))
    write = b_client.patch(reverse(f"api:{name}", args=[row.pk]), {"handled": True}, format="json")

    assert read.status_code == 404
    assert write.status_code in (404, 405)
    row.refresh_from_db()
    assert getattr(row, "handled_at", None) is None


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_token_of_b_lists_none_of_as_rows(rows_of_a, b_client, name):
    answer = b_client.get(reverse(f"api:{name}"))

    assert answer.status_code == 200
    assert answer.json()["results"] == []


def test_a_token_of_b_counts_none_of_as_chats(rows_of_a, b_client):
    answer = b_client.get(reverse("api:kpis"), {"month": "2026-12"})

    assert answer.status_code == 200
    assert (answer.json()["chats"], answer.json()["leads"]) == (0, 0)


def test_an_article_from_a_token_of_b_goes_to_b_only(rows_of_a, b_client, tenant, other_tenant):
    answer = b_client.post(
        reverse("api:articles"), {"title": "Hours", "body": "9-17", "tenant": tenant.pk}, format="json"
    )

    assert answer.status_code == 201
    assert KnowledgeArticle.objects.get(pk=answer.json()["id"]).tenant == other_tenant
    assert list(KnowledgeArticle.objects.for_tenant(tenant).values_list("title", flat=True)) == ["Prices"]
