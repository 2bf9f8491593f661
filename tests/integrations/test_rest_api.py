"""The read-only REST API: a tenant's token sees that tenant's leads and conversations, and nothing else."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from integrations import api_tokens
from integrations.models import ApiToken
from tests.integrations.api_helpers import NOW, api_client, make_chat

pytestmark = pytest.mark.frozen_time(NOW)


@pytest.fixture
def key_a(tenant) -> str:
    return api_tokens.issue_token(tenant=tenant, name="CRM")[1]


@pytest.fixture
def chats(tenant, other_tenant):
    ours = [make_chat(tenant, minutes_ago=m, lead=True) for m in (30, 20, 10)]
    theirs = [make_chat(other_tenant, minutes_ago=m, lead=True) for m in (25, 15)]
    return ours, theirs


def test_a_token_lists_only_its_tenants_leads_newest_first(key_a, chats):
    # given
    ours, _theirs = chats

    # when
    answer = api_client(key_a).get(reverse("api:leads"))

    # then
    assert answer.status_code == 200
    assert [lead["conversation_id"] for lead in answer.json()["results"]] == [c.pk for c in reversed(ours)]


def test_a_token_lists_only_its_tenants_conversations(key_a, chats):
    ours, _theirs = chats

    answer = api_client(key_a).get(reverse("api:conversations"))

    assert [c["id"] for c in answer.json()["results"]] == [c.pk for c in reversed(ours)]


def test_a_conversation_comes_with_its_messages(key_a, chats):
    ours, _theirs = chats

    answer = api_client(key_a).get(reverse("api:conversation", args=[ours[0].pk]))

    assert answer.status_code == 200
    assert [(m["seq"], m["sender"], m["body"]) for m in answer.json()["messages"]] == [(1, "visitor", "Question 30")]


@pytest.mark.parametrize("route", ["api:conversation", "api:lead"])
def test_another_tenants_id_answers_404_like_a_missing_one(key_a, chats, route):
    # given
    _ours, theirs = chats
    theirs_id = theirs[0].pk if route == "api:conversation" else theirs[0].lead.pk

    # when
    foreign = api_client(key_a).get(reverse(route, args=[theirs_id]))
    missing = api_client(key_a).get(reverse(route, args=[10**9]))

    # then
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_a_tenant_parameter_does_not_widen_the_scope(key_a, chats, other_tenant):
    ours, _theirs = chats

    answer = api_client(key_a).get(reverse("api:leads"), {"tenant": other_tenant.pk, "tenant_id": other_tenant.pk})

    assert {lead["conversation_id"] for lead in answer.json()["results"]} == {c.pk for c in ours}


@pytest.mark.parametrize("route", ["api:leads", "api:conversations"])
def test_without_a_live_token_nothing_is_shown(tenant, key_a, chats, route, client, ops_manager):
    # given
    token = ApiToken.objects.get()
    revoked_key = api_tokens.issue_token(tenant=tenant, name="old")[1]
    api_tokens.revoke(tokens=ApiToken.objects.filter(name="old"))
    client.force_login(ops_manager)  # a signed-in staff session is not a token

    # then
    assert APIClient().get(reverse(route)).status_code == 401
    assert api_client("chatops_not-a-token").get(reverse(route)).status_code == 401
    assert api_client(revoked_key).get(reverse(route)).status_code == 401
    assert client.get(reverse(route)).status_code == 401
    assert api_client(key_a).get(reverse(route)).status_code == 200
    assert token.revoked_at is None


def test_the_token_is_stored_only_as_a_digest_and_its_use_is_noted(tenant, key_a):
    # given
    token = ApiToken.objects.get()
    assert key_a not in (token.key_digest, token.key_start) and len(key_a) > 40
    assert token.last_used_at is None

    # when
    api_client(key_a).get(reverse("api:leads"))

    # then
    token.refresh_from_db()
    assert token.key_digest == api_tokens.digest(key_a)
    assert token.last_used_at == NOW


def test_cursor_pages_are_stable_while_conversations_arrive(tenant, key_a):
    # given: five conversations, pages of two
    older = [make_chat(tenant, minutes_ago=m) for m in (50, 40, 30, 20, 10)]
    client = api_client(key_a)
    first = client.get(reverse("api:conversations"), {"page_size": 2}).json()

    # when: new chats arrive between the pages
    make_chat(tenant, minutes_ago=5)
    make_chat(tenant, minutes_ago=1)
    seen = [c["id"] for c in first["results"]]
    page = first
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [c["id"] for c in page["results"]]

    # then: every older one exactly once, in order, none of the new ones pushed in
    assert seen == [c.pk for c in reversed(older)]


def test_an_operations_manager_makes_a_token_whose_key_is_shown_once(client, ops_manager, tenant):
    # given
    client.force_login(ops_manager)

    # when
    page = client.post(
        reverse("admin:integrations_apitoken_add"),
        {"tenant": tenant.pk, "name": "Pipedrive", "scopes": ["read"]},
        follow=True,
    )

    # then
    [message] = [str(m) for m in page.context["messages"] if "<code>" in str(m)]
    key = message.split("<code>")[1].split("</code>")[0]
    assert api_client(key).get(reverse("api:leads")).status_code == 200
    assert ApiToken.objects.get().key_digest == api_tokens.digest(key)
