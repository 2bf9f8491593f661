"""Scopes and the API's writes: a CRM marks its tenant's leads handled and adds knowledge-base articles,
each only with the scope for it, never for another tenant, and a bad request is a clear 400."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from conversations.models import Lead
from integrations import api_tokens
from integrations.models import ApiToken, Scope
from tenants.models import KnowledgeArticle
from tests.integrations.api_helpers import NOW, api_client, make_chat

pytestmark = pytest.mark.frozen_time(NOW)


def key_with(tenant, *scopes: str) -> str:
    return api_tokens.issue_token(tenant=tenant, name="CRM", scopes=list(scopes))[1]


@pytest.fixture
def lead(tenant) -> Lead:
    return make_chat(tenant, minutes_ago=30, lead=True).lead


@pytest.fixture
def their_lead(other_tenant) -> Lead:
    return make_chat(other_tenant, minutes_ago=20, lead=True).lead


# --- Scopes ------------------------------------------------------------------------------------------


def test_a_token_made_without_a_choice_may_only_read(tenant):
    token, _key = api_tokens.issue_token(tenant=tenant, name="CRM")

    assert token.scopes == [Scope.READ]


def test_a_token_without_the_read_scope_reads_nothing(tenant, lead):
    key = key_with(tenant, Scope.LEADS_WRITE)

    answer = api_client(key).get(reverse("api:leads"))

    assert answer.status_code == 403
    assert "read" in answer.json()["detail"]


def test_an_unknown_scope_is_refused_when_the_token_is_made(tenant):
    with pytest.raises(Exception, match="scopes"):
        api_tokens.issue_token(tenant=tenant, name="CRM", scopes=["admin"])
    assert not ApiToken.objects.exists()


def test_an_operations_manager_chooses_the_scopes_of_a_new_token(client, ops_manager, tenant, lead):
    # given
    client.force_login(ops_manager)
    form = client.get(reverse("admin:integrations_apitoken_add"))
    assert 'value="knowledge:write"' in form.content.decode()

    # when
    page = client.post(
        reverse("admin:integrations_apitoken_add"),
        {"tenant": tenant.pk, "name": "HubSpot", "scopes": [Scope.READ, Scope.LEADS_WRITE]},
        follow=True,
    )

    # then
    assert ApiToken.objects.get().scopes == [Scope.READ, Scope.LEADS_WRITE]
    [message] = [str(m) for m in page.context["messages"] if "<code>" in str(m)]
    key = message.split("<code>")[1].split("</code>")[0]
    assert (
        api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json").status_code == 200
    )
    listing = client.get(reverse("admin:integrations_apitoken_changelist")).content.decode()
    assert "leads:write" in listing


# --- Marking a lead handled ----------------------------------------------------------------------------


def test_a_token_with_leads_write_marks_its_tenants_lead_handled(tenant, lead):
    key = key_with(tenant, Scope.READ, Scope.LEADS_WRITE)

    answer = api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json")

    assert answer.status_code == 200
    assert answer.json()["handled_at"] == NOW.isoformat().replace("+00:00", "Z")
    lead.refresh_from_db()
    assert lead.handled_at == NOW


def test_marking_a_lead_handled_twice_keeps_the_first_moment(tenant, lead, _frozen_time):
    key = key_with(tenant, Scope.LEADS_WRITE)
    api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json")
    _frozen_time.move_to(NOW + dt.timedelta(hours=1))

    api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json")

    lead.refresh_from_db()
    assert lead.handled_at == NOW


def test_operations_managers_filter_the_leads_the_client_has_handled(tenant, lead, client, ops_manager):
    # given one lead handled through the API, one not
    open_lead = make_chat(tenant, minutes_ago=10, lead=True).lead
    api_client(key_with(tenant, Scope.LEADS_WRITE)).patch(
        reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json"
    )
    client.force_login(ops_manager)

    # when
    handled = client.get(reverse("admin:conversations_lead_changelist"), {"handled_at__isnull": "False"})
    waiting = client.get(reverse("admin:conversations_lead_changelist"), {"handled_at__isnull": "True"})

    # then
    assert [row.pk for row in handled.context["cl"].result_list] == [lead.pk]
    assert [row.pk for row in waiting.context["cl"].result_list] == [open_lead.pk]


def test_a_lead_marked_handled_by_mistake_is_open_again(tenant, lead):
    key = key_with(tenant, Scope.LEADS_WRITE)
    api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json")

    answer = api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": False}, format="json")

    assert answer.status_code == 200 and answer.json()["handled_at"] is None
    lead.refresh_from_db()
    assert lead.handled_at is None


def test_a_read_only_token_cannot_mark_a_lead_handled(tenant, lead):
    key = key_with(tenant, Scope.READ)

    answer = api_client(key).patch(reverse("api:lead", args=[lead.pk]), {"handled": True}, format="json")

    assert answer.status_code == 403
    assert "leads:write" in answer.json()["detail"]
    lead.refresh_from_db()
    assert lead.handled_at is None


def test_another_tenants_lead_answers_404_and_stays_open(tenant, their_lead):
    key = key_with(tenant, Scope.READ, Scope.LEADS_WRITE)

    foreign = api_client(key).patch(reverse("api:lead", args=[their_lead.pk]), {"handled": True}, format="json")
    missing = api_client(key).patch(reverse("api:lead", args=[10**9]), {"handled": True}, format="json")

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    their_lead.refresh_from_db()
    assert their_lead.handled_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "handled"), ({"handled": "perhaps"}, "handled"), ({"handled": None}, "handled")],
)
def test_a_bad_request_to_mark_a_lead_answers_400_naming_the_field(tenant, lead, body, field):
    key = key_with(tenant, Scope.LEADS_WRITE)

    answer = api_client(key).patch(reverse("api:lead", args=[lead.pk]), body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()
    lead.refresh_from_db()
    assert lead.handled_at is None


def test_a_body_that_is_not_json_answers_400(tenant, lead):
    key = key_with(tenant, Scope.LEADS_WRITE)

    answer = api_client(key).generic(
        "PATCH", reverse("api:lead", args=[lead.pk]), "{handled: yes", content_type="application/json"
    )

    assert answer.status_code == 400
    assert "detail" in answer.json()


# --- Adding a knowledge-base article ------------------------------------------------------------------

ARTICLE = {"title": "Delivery times", "body": "Orders ship within two working days.", "keywords": "delivery"}


def test_a_token_with_knowledge_write_adds_an_article_to_its_own_tenant(tenant, other_tenant):
    key = key_with(tenant, Scope.KNOWLEDGE_WRITE)

    answer = api_client(key).post(
        reverse("api:articles"), {**ARTICLE, "tenant": other_tenant.pk, "tenant_id": other_tenant.pk}, format="json"
    )

    assert answer.status_code == 201
    article = KnowledgeArticle.objects.get()
    assert (article.tenant, article.title, article.body, article.is_published) == (
        tenant,
        ARTICLE["title"],
        ARTICLE["body"],
        True,
    )
    assert answer.json()["id"] == article.pk


def test_a_token_without_knowledge_write_adds_no_article(tenant):
    key = key_with(tenant, Scope.READ, Scope.LEADS_WRITE)

    answer = api_client(key).post(reverse("api:articles"), ARTICLE, format="json")

    assert answer.status_code == 403
    assert "knowledge:write" in answer.json()["detail"]
    assert not KnowledgeArticle.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": "No title"}, "title"),
        ({"title": "No text"}, "body"),
        ({**ARTICLE, "title": "x" * 201}, "title"),
        ({**ARTICLE, "is_published": "sometimes"}, "is_published"),
        ({**ARTICLE, "body": "NUL \x00 in the text"}, "body"),
        ({**ARTICLE, "keywords": "k" * 301}, "keywords"),
    ],
)
def test_a_bad_article_answers_400_naming_the_field(tenant, body, field):
    key = key_with(tenant, Scope.KNOWLEDGE_WRITE)

    answer = api_client(key).post(reverse("api:articles"), body, format="json")

    assert answer.status_code == 400
    assert field in answer.json()
    assert not KnowledgeArticle.objects.exists()


def test_an_article_sent_as_a_list_answers_400(tenant):
    key = key_with(tenant, Scope.KNOWLEDGE_WRITE)

    answer = api_client(key).post(reverse("api:articles"), [ARTICLE], format="json")

    assert answer.status_code == 400
    assert not KnowledgeArticle.objects.exists()
