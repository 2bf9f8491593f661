"""The console's JSON endpoints beside a chat: context card, notices, knowledge base, canned responses,
visitor, notes and tags — each only for agents trained for the chat's tenant."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Note, PageView, Tag, Visitor
from tenants.models import CannedResponse, ChangeNotice, KnowledgeArticle, Tenant
from tests import factories
from workforce.models import ChangeNoticeAcknowledgement

pytestmark = pytest.mark.django_db

CHAT_ENDPOINTS = ["context", "visitor", "search", "canned", "notes", "tags"]


def chat_url(conversation_or_id, endpoint: str) -> str:
    conversation_id = getattr(conversation_or_id, "pk", conversation_or_id)
    return reverse(f"console_api_chat_{endpoint}", args=[conversation_id])


def chat_of(tenant, **fields) -> Conversation:
    visitor = fields.pop("visitor", None) or Visitor.objects.create(tenant=tenant)
    return Conversation.objects.create(tenant=tenant, visitor=visitor, **fields)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent.user)
    return client


# --- who gets in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", CHAT_ENDPOINTS)
def test_a_chat_of_a_tenant_the_agent_is_not_trained_for_is_refused_like_a_missing_one(
    agent_client, other_tenant, endpoint
):
    # given a chat of a tenant the agent is not trained for
    theirs = chat_of(other_tenant)

    # when
    response = agent_client.get(chat_url(theirs, endpoint), {"q": "karnet", "prefix": ""})
    missing = agent_client.get(chat_url(theirs.pk + 1000, endpoint))

    # then the answer is the same as for a chat that does not exist, and says nothing of the tenant
    assert response.status_code == 404
    assert response.json() == missing.json() == {"error": {"code": "not_found", "message": "Conversation not found."}}
    assert other_tenant.name not in response.content.decode()


@pytest.mark.parametrize("endpoint", ["notes", "tags"])
def test_writing_to_a_chat_of_an_untrained_tenant_is_refused_and_stores_nothing(agent_client, other_tenant, endpoint):
    # given
    theirs = chat_of(other_tenant)

    # when
    response = agent_client.post(
        chat_url(theirs, endpoint), {"body": "hello", "tags": ["vip"]}, content_type="application/json"
    )

    # then
    assert response.status_code == 404
    assert not Note.objects.exists() and not Tag.objects.exists()


def test_an_agent_whose_training_is_not_complete_cannot_open_the_tenants_chats(client, tenant):
    # given an agent still in training for the tenant
    trainee = factories.make_agent()
    trainee.qualifications.create(tenant=tenant, training_started_on=dt.date(2026, 11, 2))
    client.force_login(trainee.user)

    # when
    response = client.get(chat_url(chat_of(tenant), "context"))

    # then
    assert response.status_code == 404


def test_without_a_session_the_api_answers_401_in_json_not_a_login_page(client, tenant):
    # when
    response = client.get(chat_url(chat_of(tenant), "context"))

    # then
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "login_required"


def test_a_signed_in_user_without_an_agent_profile_gets_403_in_json(client, client_user, tenant):
    # given
    client.force_login(client_user.user)

    # when
    response = client.get(chat_url(chat_of(tenant), "context"))

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_agent"


def test_a_write_without_the_csrf_token_is_refused_in_json_and_with_it_goes_through(agent, tenant):
    # given a browser-like client that enforces CSRF, signed in and holding the console page's token
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent.user)
    browser.get(reverse("console"))
    token = browser.cookies["csrftoken"].value
    conversation = chat_of(tenant)

    # when
    refused = browser.post(chat_url(conversation, "notes"), {"body": "x"}, content_type="application/json")
    accepted = browser.post(
        chat_url(conversation, "notes"), {"body": "x"}, content_type="application/json", headers={"X-CSRFToken": token}
    )

    # then
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert accepted.status_code == 201
    assert Note.objects.count() == 1


def test_a_wrong_method_and_an_unknown_address_get_json_errors(agent_client, tenant):
    # when
    wrong_method = agent_client.delete(chat_url(chat_of(tenant), "notes"))
    unknown = agent_client.get("/console/api/chats/abc/context/")

    # then
    assert wrong_method.status_code == 405
    assert wrong_method["Allow"] == "GET, POST"
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_a_body_that_is_not_a_json_object_gets_a_clear_400(agent_client, tenant):
    # when
    response = agent_client.post(chat_url(chat_of(tenant), "notes"), "not json", content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "bad_json", "message": "Send the data as a JSON object."}


# --- the context card and change notices ------------------------------------------------------------


def test_the_context_card_shows_the_tenants_tone_style_goals_rules_and_notices(
    agent_client, agent, tenant, other_tenant, django_assert_max_num_queries
):
    # given a tenant's tone and rules, two notices (one read by the agent), and another tenant's notice
    Tenant.objects.filter(pk=tenant.pk).update(
        tone=Tenant.Tone.CASUAL,
        style_notes="Sinuttele. Ei hymiöitä.",
        goals=["leads", "support"],
        escalation_rules="Reklamaatiot asiakkaalle; lupaa vastaus seuraavana arkipäivänä.",
    )
    read = ChangeNotice.objects.create(tenant=tenant, title="Uusi hinnasto", body="Hinnat nousevat 1.12.")
    unread = ChangeNotice.objects.create(tenant=tenant, title="Joulun aukioloajat", body="24.12. suljettu.")
    ChangeNotice.objects.create(tenant=other_tenant, title="Nowy cennik", body="Od grudnia.")
    ChangeNoticeAcknowledgement.objects.create(notice=read, agent=agent)
    conversation = chat_of(tenant)

    # when
    with django_assert_max_num_queries(8):
        response = agent_client.get(chat_url(conversation, "context"))

    # then
    assert response.status_code == 200
    card = response.json()
    assert card["tenant"] == {
        "id": tenant.pk,
        "name": "Kahvila Oy",
        "language": "fi",
        "time_zone": "Europe/Helsinki",
        "tone": "casual",
        "tone_label": "Casual",
        "style_notes": "Sinuttele. Ei hymiöitä.",
        "goals": [{"value": "leads", "label": "Sales leads"}, {"value": "support", "label": "Customer support"}],
        "escalation_rules": "Reklamaatiot asiakkaalle; lupaa vastaus seuraavana arkipäivänä.",
    }
    assert [(notice["id"], notice["acknowledged"]) for notice in card["notices"]] == [
        (unread.pk, False),
        (read.pk, True),
    ]
    assert "Nowy cennik" not in response.content.decode()


def test_an_agent_acknowledges_a_notice_once_and_it_leaves_their_open_notices(agent_client, agent, tenant):
    # given two notices the agent has not read
    first = ChangeNotice.objects.create(tenant=tenant, title="Uusi hinnasto", body="Hinnat nousevat.")
    ChangeNotice.objects.create(tenant=tenant, title="Joulun aukioloajat", body="24.12. suljettu.")
    url = reverse("console_api_acknowledge_notice", args=[first.pk])

    # when the agent acknowledges the first, twice (a double click)
    response = agent_client.post(url)
    again = agent_client.post(url)

    # then it is recorded once, at the first time, and only the other one is still open
    assert response.status_code == again.status_code == 200
    assert response.json()["notice"]["acknowledged"] is True
    assert response.json()["open_count"] == 1
    assert again.json()["notice"]["acknowledged_at"] == response.json()["notice"]["acknowledged_at"]
    assert ChangeNoticeAcknowledgement.objects.filter(notice=first, agent=agent).count() == 1
    still_open = agent_client.get(reverse("console_api_notices")).json()["notices"]
    assert [notice["title"] for notice in still_open] == ["Joulun aukioloajat"]


def test_open_notices_are_those_of_every_tenant_the_agent_is_trained_for_and_no_other(client, tenant, other_tenant):
    # given an agent trained for two tenants, and a third tenant's notice
    third = factories.make_tenant(name="Kolmas")
    agent = factories.make_agent(trained_for=[tenant, other_tenant])
    ChangeNotice.objects.create(tenant=tenant, title="Uusi hinnasto", body="…")
    ChangeNotice.objects.create(tenant=other_tenant, title="Nowy cennik", body="…")
    ChangeNotice.objects.create(tenant=third, title="Third's secret", body="…")
    client.force_login(agent.user)

    # when
    notices = client.get(reverse("console_api_notices")).json()["notices"]

    # then
    assert sorted((notice["tenant_name"], notice["title"]) for notice in notices) == [
        ("Kahvila Oy", "Uusi hinnasto"),
        ("Siłownia Sp. z o.o.", "Nowy cennik"),
    ]


def test_a_notice_of_an_untrained_tenant_cannot_be_acknowledged(agent_client, other_tenant):
    # given
    theirs = ChangeNotice.objects.create(tenant=other_tenant, title="Nowy cennik", body="…")

    # when
    response = agent_client.post(reverse("console_api_acknowledge_notice", args=[theirs.pk]))

    # then
    assert response.status_code == 404
    assert not ChangeNoticeAcknowledgement.objects.exists()


def test_the_console_page_carries_the_unread_notices_so_the_nag_survives_a_reload(agent_client, tenant):
    # given
    ChangeNotice.objects.create(tenant=tenant, title="Uusi hinnasto", body="<b>Hinnat</b> nousevat.")

    # when
    html = agent_client.get(reverse("console")).content.decode()

    # then
    from tests.conversations.test_console_views import embedded_json

    config = embedded_json(html, "workspace-config")
    assert [notice["title"] for notice in config["open_notices"]] == ["Uusi hinnasto"]
    assert config["notices_url"] == "/console/api/notices/"
    assert config["chat_url"] == "/console/api/chats/"
    assert "<b>Hinnat</b>" not in html


# --- knowledge base and canned responses ------------------------------------------------------------


def test_knowledge_base_search_finds_only_the_chats_tenants_articles(agent_client, tenant, other_tenant):
    # given the same article in two tenants
    ours = KnowledgeArticle.objects.create(tenant=tenant, title="Lounas", keywords="lounas", body="Lounas klo 11–14.")
    KnowledgeArticle.objects.create(tenant=other_tenant, title="Lounas", keywords="lounas", body="Obiad 12–15.")

    # when
    response = agent_client.get(chat_url(chat_of(tenant), "search"), {"q": "Milloin on lounas?"})

    # then
    results = response.json()["results"]
    assert [result["id"] for result in results] == [ours.pk]
    assert results[0]["text"] == "Lounas klo 11–14."
    assert any(piece["hit"] for piece in results[0]["snippet"])


def test_canned_responses_come_from_the_chats_own_tenant_only(agent, agent_client, tenant, other_tenant):
    # given the same shortcut in two tenants the agent is trained for
    agent.qualifications.create(
        tenant=other_tenant, training_started_on=dt.date(2026, 11, 2), training_completed_on=dt.date(2026, 11, 3)
    )
    CannedResponse.objects.create(tenant=tenant, shortcut="price", text="Kahvi maksaa 3,50 €.")
    CannedResponse.objects.create(tenant=tenant, shortcut="prices-lunch", text="Lounas 12,90 €.")
    CannedResponse.objects.create(tenant=tenant, shortcut="hours", text="Auki 7–18.")
    CannedResponse.objects.create(tenant=other_tenant, shortcut="price", text="Karnet kosztuje 149 zł.")

    # when
    ours = agent_client.get(chat_url(chat_of(tenant), "canned"), {"prefix": "PRI"}).json()["results"]
    theirs = agent_client.get(chat_url(chat_of(other_tenant), "canned"), {"prefix": "/pri"}).json()["results"]
    all_ours = agent_client.get(chat_url(chat_of(tenant), "canned")).json()["results"]

    # then
    assert ours == [
        {"shortcut": "price", "text": "Kahvi maksaa 3,50 €."},
        {"shortcut": "prices-lunch", "text": "Lounas 12,90 €."},
    ]
    assert theirs == [{"shortcut": "price", "text": "Karnet kosztuje 149 zł."}]
    assert [response["shortcut"] for response in all_ours] == ["hours", "price", "prices-lunch"]


# --- the visitor ------------------------------------------------------------------------------------


def test_the_visitor_panel_shows_this_visits_pages_and_earlier_chats_with_their_outcomes(agent_client, tenant):
    # given a visitor who came yesterday (one chat, closed as a lead) and is back today on two pages
    now = timezone.now()
    visitor = Visitor.objects.create(tenant=tenant, name="Maija", first_seen_at=now - dt.timedelta(days=1))
    for minutes_ago, url, title, returning in [
        (24 * 60, "https://kahvila.example/", "Etusivu", False),
        (20, "https://kahvila.example/kakut", "Kakut", True),
        (2, "https://kahvila.example/tilaa", "Tilaa kakku", True),
    ]:
        PageView.objects.create(
            tenant=tenant,
            visitor=visitor,
            url=url,
            title=title,
            viewed_at=now - dt.timedelta(minutes=minutes_ago),
            returning=returning,
        )
    yesterday = chat_of(
        tenant,
        visitor=visitor,
        started_at=now - dt.timedelta(days=1),
        status=Conversation.Status.CLOSED,
        closed_at=now - dt.timedelta(hours=23),
        outcome=Conversation.Outcome.LEAD,
        summary="Wants a wedding cake",
    )
    chat_of(tenant, started_at=now - dt.timedelta(days=2))  # someone else's chat
    today = chat_of(tenant, visitor=visitor, started_at=now - dt.timedelta(minutes=1))

    # when
    panel = agent_client.get(chat_url(today, "visitor")).json()

    # then
    assert panel["visitor"]["name"] == "Maija"
    assert panel["visitor"]["returning"] is True
    assert panel["current_page"]["url"] == "https://kahvila.example/tilaa"
    assert [page["title"] for page in panel["visit_pages"]] == ["Tilaa kakku", "Kakut"]
    assert panel["earlier_count"] == 1
    assert panel["earlier"][0]["conversation"] == yesterday.pk
    assert (panel["earlier"][0]["outcome"], panel["earlier"][0]["outcome_label"]) == ("lead", "Lead")
    assert panel["earlier"][0]["summary"] == "Wants a wedding cake"


def test_a_first_time_visitor_is_new_with_no_earlier_chats(agent_client, tenant):
    # given
    visitor = Visitor.objects.create(tenant=tenant)
    PageView.objects.create(tenant=tenant, visitor=visitor, url="https://kahvila.example/")

    # when
    panel = agent_client.get(chat_url(chat_of(tenant, visitor=visitor), "visitor")).json()

    # then
    assert panel["visitor"]["returning"] is False
    assert panel["earlier"] == [] and panel["earlier_count"] == 0
    assert len(panel["visit_pages"]) == 1


# --- notes and tags ---------------------------------------------------------------------------------


def test_agents_add_private_notes_and_colleagues_see_them_in_order(agent_client, agent, tenant, client):
    # given a chat, and a colleague trained for the same tenant
    conversation = chat_of(tenant)
    colleague = factories.make_agent(trained_for=[tenant], display_name="Bea")

    # when Anna writes two notes
    first = agent_client.post(
        chat_url(conversation, "notes"), {"body": "  Asks for a refund  "}, content_type="application/json"
    )
    agent_client.post(chat_url(conversation, "notes"), {"body": "Order 1234"}, content_type="application/json")
    client.force_login(colleague.user)
    seen_by_colleague = client.get(chat_url(conversation, "notes")).json()["notes"]

    # then they are stored trimmed, as hers, and the colleague sees both, oldest first
    assert first.status_code == 201
    assert first.json()["note"]["body"] == "Asks for a refund"
    assert first.json()["note"]["mine"] is True
    assert [(note["body"], note["agent_name"], note["mine"]) for note in seen_by_colleague] == [
        ("Asks for a refund", "Anna", False),
        ("Order 1234", "Anna", False),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "Write the note first."), ("x" * 4001, "A note can be at most 4000 characters long."), (None, None)],
)
def test_an_empty_or_too_long_note_is_refused_with_the_reason_by_field(agent_client, tenant, body, message):
    # when
    response = agent_client.post(chat_url(chat_of(tenant), "notes"), {"body": body}, content_type="application/json")

    # then
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["body"] == [message or "Write the note first."]
    assert not Note.objects.exists()


def test_tags_are_set_from_free_text_reusing_the_tenants_tags_and_never_another_tenants(
    agent_client, tenant, other_tenant
):
    # given the tenant's tag "Pricing", and another tenant's tag "vip"
    pricing = Tag.objects.create(tenant=tenant, name="Pricing")
    Tag.objects.create(tenant=tenant, name="complaint")
    theirs = Tag.objects.create(tenant=other_tenant, name="vip")
    conversation = chat_of(tenant)

    # when the agent tags the chat "pricing", " vip ", "#cakes" and "pricing" again
    tags = ["pricing", " vip ", "#cakes", "PRICING"]
    response = agent_client.post(chat_url(conversation, "tags"), {"tags": tags}, content_type="application/json")

    # then the existing tag is reused, the new ones become the tenant's own, and suggestions are the tenant's
    assert response.status_code == 200
    assert response.json()["tags"] == ["cakes", "Pricing", "vip"]
    assert response.json()["suggestions"] == ["complaint"]
    assert pricing in conversation.tags.all()
    assert set(conversation.tags.values_list("tenant_id", flat=True)) == {tenant.pk}
    assert theirs not in conversation.tags.all()
    assert Tag.objects.filter(tenant=tenant, name="vip").exists()


def test_setting_no_tags_clears_them_and_bad_input_is_refused(agent_client, tenant):
    # given
    conversation = chat_of(tenant)
    conversation.tags.add(Tag.objects.create(tenant=tenant, name="old"))

    # when
    bad = agent_client.post(chat_url(conversation, "tags"), {"tags": "old"}, content_type="application/json")
    too_long = agent_client.post(chat_url(conversation, "tags"), {"tags": ["x" * 41]}, content_type="application/json")
    cleared = agent_client.post(chat_url(conversation, "tags"), {"tags": []}, content_type="application/json")

    # then
    assert bad.status_code == too_long.status_code == 400
    assert bad.json()["error"]["fields"]["tags"] == ["Send the tags as a list of names."]
    assert cleared.json()["tags"] == []
    assert cleared.json()["suggestions"] == ["old"]


def test_the_close_dialog_offers_every_agent_outcome_with_none_chosen_in_advance(agent_client):
    # when
    html = agent_client.get(reverse("console")).content.decode()

    # then the outcome list starts with an empty choice, nothing is preselected, and each outcome has its fields
    from tests.conversations.test_console_views import embedded_json

    select = html[html.index('<select id="close-outcome"') : html.index("</select>", html.index('id="close-outcome"'))]
    # every outcome an agent may give; "visitor left" is the clock's alone
    values = [value for value in Conversation.Outcome.values if value != Conversation.Outcome.VISITOR_LEFT]
    assert select.index('<option value="">') < min(select.index(f'value="{value}"') for value in values)
    assert 'value="visitor_left"' not in select
    assert "selected" not in select
    for field in ("lead-name", "lead-email", "lead-phone", "lead-wants", "handoff-promise", "handoff-promised_by"):
        assert f'id="close-{field}"' in html and f'id="close-{field}-error"' in html
    strings = embedded_json(html, "console-strings")
    assert strings["close_choose_outcome"] == "Choose an outcome."
    assert strings["canned_none"] == "No canned response starts with /%(prefix)s"
