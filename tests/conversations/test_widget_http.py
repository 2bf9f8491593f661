"""The widget's HTTP endpoints: its script, its settings and the message form, answered only to the tenant's sites."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from conversations import access, offline, visits, widget_views
from conversations.models import Conversation, Message, Visitor, email_reference
from outbox import services as outbox
from outbox import tasks as outbox_tasks
from outbox.models import OutgoingEmail
from tenants.models import ReportRecipient, ServiceHours
from tests import factories
from tests.conftest import free_port

SITE = "https://www.kahvila.example"
OTHER_SITE = "https://www.silownia.example"


@pytest.fixture
def shop(db):
    return factories.make_tenant(
        name="Kahvila Oy",
        slug="kahvila-shop",
        language="fi",
        allowed_origins=f"{SITE}\nhttps://kahvila.example",
        widget_colour="#0f766e",
        greeting="Moi! Miten voimme auttaa?",
    )


@pytest.fixture
def gym(db):
    return factories.make_tenant(name="Siłownia", slug="silownia-gym", language="pl", allowed_origins=OTHER_SITE)


@pytest.fixture
def escalation_contacts(shop):
    ReportRecipient.objects.create(tenant=shop, email="owner@kahvila.example", escalations=True, weekly=False)
    ReportRecipient.objects.create(tenant=shop, email="support@kahvila.example", escalations=True, weekly=False)
    ReportRecipient.objects.create(tenant=shop, email="ceo@kahvila.example", escalations=False, weekly=True)
    return ["owner@kahvila.example", "support@kahvila.example"]


def open_all_week(tenant):
    for weekday in range(7):
        ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))


def config_url(tenant):
    return f"/widget/{tenant.widget_key}/config"


def form_url(tenant):
    return f"/widget/{tenant.widget_key}/offline-message"


def post_form(client, tenant, origin=SITE, **fields):
    data = {"name": "Maija Meikäläinen", "email": "maija@example.fi", "question": "Onko teillä gluteenitonta?"}
    data.update(fields)
    return client.post(form_url(tenant), data=data, content_type="application/json", headers={"origin": origin})


# ---- /widget.js --------------------------------------------------------------------------------


def test_widget_script_is_served_as_javascript_that_browsers_revalidate_cheaply(client):
    # when
    response = client.get("/widget.js")

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "max-age=300" in response["Cache-Control"]
    assert b"attachShadow" in response.content
    assert b"data-key" in response.content

    # when the browser asks again with the ETag it has
    again = client.get("/widget.js", headers={"if-none-match": response["ETag"]})

    # then nothing is sent again
    assert again.status_code == 304
    assert again.content == b""


def test_widget_script_is_gzipped_for_browsers_that_accept_it_and_stays_under_8_kb(client):
    # when
    response = client.get("/widget.js", headers={"accept-encoding": "gzip"})

    # then
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert len(response.content) < 8 * 1024

    # when the browser revalidates what it got compressed (the ETag is then a weak one)
    again = client.get("/widget.js", headers={"accept-encoding": "gzip", "if-none-match": response["ETag"]})

    # then
    assert response["ETag"].startswith("W/")
    assert again.status_code == 304


# ---- /widget/<key>/config ----------------------------------------------------------------------


def test_config_gives_an_allowed_site_the_tenants_look_greeting_and_strings_in_its_language(client, shop):
    # when
    response = client.get(config_url(shop), headers={"origin": SITE})

    # then
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response["Vary"]
    config = response.json()
    assert config["name"] == "Kahvila Oy"
    assert config["colour"] == "#0f766e"
    assert config["greeting"] == "Moi! Miten voimme auttaa?"
    assert config["language"] == "fi"
    with translation.override("fi"):
        expected = {name: str(text) for name, text in widget_views.UI_STRINGS.items()}
    assert config["strings"] == expected
    assert all(config["strings"].values())
    assert config["wait_minutes"]["2"]
    assert config["service_open"] is False


def test_config_without_a_greeting_gives_the_default_greeting_in_the_tenants_language(client, gym):
    # when
    response = client.get(config_url(gym), headers={"origin": OTHER_SITE})

    # then
    with translation.override("pl"):
        assert response.json()["greeting"] == str(widget_views.DEFAULT_GREETING)
    assert response.json()["language"] == "pl"


def test_config_says_the_service_is_open_within_the_tenants_service_hours(client, shop):
    # given
    open_all_week(shop)

    # when
    response = client.get(config_url(shop), headers={"origin": SITE})

    # then
    assert response.json()["service_open"] is True


def test_config_refuses_a_page_of_another_site_with_json_it_can_read_and_no_settings(client, shop):
    # when
    response = client.get(config_url(shop), headers={"origin": "https://evil.example"})

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert response.json()["error"]["message"]
    assert response["Access-Control-Allow-Origin"] == "https://evil.example"
    assert set(response.json()) == {"error"}


def test_config_refuses_the_site_of_another_tenant(client, shop, gym):
    # when the gym's site uses the shop's key
    response = client.get(config_url(shop), headers={"origin": OTHER_SITE})

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert response["Access-Control-Allow-Origin"] == OTHER_SITE
    assert set(response.json()) == {"error"}


def test_config_refuses_a_request_without_an_origin(client, shop):
    # when
    response = client.get(config_url(shop))

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"


def test_config_of_an_unknown_key_is_a_json_404(client, shop):
    # when
    response = client.get("/widget/wk_nobody/config", headers={"origin": SITE})

    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unknown_key"
    assert response["Access-Control-Allow-Origin"] == SITE
    assert set(response.json()) == {"error"}


# ---- /widget/<key>/offline-message -------------------------------------------------------------


def test_preflight_for_the_message_form_allows_the_tenants_site(client, shop):
    # when
    response = client.options(
        form_url(shop),
        headers={
            "origin": SITE,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )

    # then
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SITE
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"].lower()


def test_preflight_for_the_message_form_refuses_another_site(client, shop):
    # when
    response = client.options(form_url(shop), headers={"origin": "https://evil.example"})

    # then
    assert response.status_code == 403
    assert response["Access-Control-Allow-Origin"] == "https://evil.example"
    assert set(response.json()) == {"error"}


def test_message_form_stores_a_waiting_offline_conversation_and_emails_the_escalation_contacts(
    client, shop, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, shop, question="Onko teillä gluteenitonta pullaa?\nEntä laktoositonta?")

    # then the answer carries the token to keep and lets the site read it
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE
    body = response.json()
    visitor = access.visitor_from_token(tenant=shop, token=body["token"])
    assert visitor is not None
    assert (visitor.name, visitor.email) == ("Maija Meikäläinen", "maija@example.fi")

    # and the question waits in the tenant's queue for the next shift
    conversation = Conversation.objects.get(pk=body["conversation"])
    assert conversation.tenant == shop
    assert conversation.visitor == visitor
    assert conversation.origin == Conversation.Origin.OFFLINE_MESSAGE
    assert conversation.status == Conversation.Status.WAITING
    question = conversation.messages.get(sender=Message.Sender.VISITOR)
    assert question.body == "Onko teillä gluteenitonta pullaa?\nEntä laktoositonta?"
    assert conversation.first_visitor_message_at is not None

    # and one e-mail went to the escalation contacts only, with the question and how to reach the visitor
    assert len(smtp_server) == 1
    sent = smtp_server[0]
    assert sorted(sent["to"]) == escalation_contacts
    email = sent["message"]
    assert "Kahvila Oy" in email["Subject"]
    assert "Maija Meikäläinen" in email["Subject"]
    assert email["Reply-To"] == "maija@example.fi"
    text = email.get_content().replace("\r\n", "\n")
    assert "Onko teillä gluteenitonta pullaa?\nEntä laktoositonta?" in text
    assert "maija@example.fi" in text
    assert f"#{conversation.pk}" in text

    # and the conversation records that it went out
    assert conversation.messages.filter(sender=Message.Sender.SYSTEM).count() == 1


def test_message_email_is_sent_once_when_the_task_runs_again(
    client, shop, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, shop)
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    forwarded = OutgoingEmail.objects.get(reference=email_reference(conversation.pk))
    assert len(smtp_server) == 1

    # when the outbox's task is delivered a second time, and the sweep runs
    outbox_tasks.deliver_email.delay(forwarded.pk)
    outbox_tasks.deliver_due.delay()

    # then
    assert len(smtp_server) == 1
    assert conversation.messages.filter(sender=Message.Sender.SYSTEM).count() == 1


def test_message_email_that_smtp_refused_is_retried_and_then_sent_once(
    client, shop, escalation_contacts, smtp_server, settings, django_capture_on_commit_callbacks
):
    # given the mail server is down when the form is sent
    working_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, shop)
    assert response.status_code == 201
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    forwarded = OutgoingEmail.objects.get(reference=email_reference(conversation.pk))
    assert smtp_server == []
    assert forwarded.status == OutgoingEmail.Status.QUEUED and "ConnectionRefusedError" in forwarded.last_error

    # when it is back and the retry is due (the sweep runs twice)
    settings.EMAIL_PORT = working_port
    outbox.deliver_due(now=timezone.now() + dt.timedelta(hours=1))
    outbox.deliver_due(now=timezone.now() + dt.timedelta(hours=1))

    # then
    assert len(smtp_server) == 1
    assert smtp_server[0]["message"]["Message-ID"] == forwarded.message_id


def test_message_form_with_a_token_continues_as_the_same_visitor(
    client, shop, smtp_server, django_capture_on_commit_callbacks
):
    # given a visitor who opened the widget before
    visitor, token = visits.identify_visitor(tenant=shop, token="")

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, shop, token=token, name="")

    # then
    assert response.status_code == 201
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    assert conversation.visitor == visitor
    visitor.refresh_from_db()
    assert visitor.email == "maija@example.fi"
    assert Visitor.objects.count() == 1


def test_message_form_resent_with_the_same_id_is_stored_and_emailed_once(
    client, shop, escalation_contacts, smtp_server, django_capture_on_commit_callbacks
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        first = post_form(client, shop, client_msg_id="form-1")

    # when the widget did not get the answer and sends the form again
    with django_capture_on_commit_callbacks(execute=True):
        again = post_form(client, shop, token=first.json()["token"], client_msg_id="form-1")

    # then
    assert again.status_code == 201
    assert again.json()["conversation"] == first.json()["conversation"]
    assert Message.objects.filter(sender=Message.Sender.VISITOR).count() == 1
    assert len(smtp_server) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message", "params"),
    [
        ({"email": ""}, "email", offline.ERROR_EMAIL_REQUIRED, None),
        ({"email": "maija at example"}, "email", offline.ERROR_EMAIL_INVALID, None),
        ({"email": None}, "email", offline.ERROR_EMAIL_REQUIRED, None),
        ({"question": "   "}, "question", offline.ERROR_QUESTION_REQUIRED, None),
        ({"question": "x" * 4001}, "question", offline.ERROR_QUESTION_TOO_LONG, {"limit": 4000}),
        ({"name": "N" * 121}, "name", offline.ERROR_NAME_TOO_LONG, {"limit": 120}),
        ({"question": ["not", "text"]}, "question", offline.ERROR_NOT_TEXT, None),
    ],
)
def test_message_form_with_a_bad_field_says_which_in_json_and_stores_nothing(
    client, shop, fields, field, message, params, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_form(client, shop, **fields)

    # then
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == SITE
    error = response.json()["error"]
    assert error["code"] == "invalid"
    with translation.override("fi"):
        # formatted here, so the expected text is the tenant's Finnish and not English frozen at collection
        assert error["fields"][field] == [str(message) % params if params else str(message)]
    assert list(error["fields"]) == [field]
    assert callbacks == []
    assert not Visitor.objects.exists()
    assert not Conversation.objects.exists()


def test_message_form_reports_every_bad_field_at_once(client, shop):
    # when
    response = post_form(client, shop, name="N" * 121, email="nope", question="")

    # then
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name", "email", "question"}


def test_message_form_that_is_not_a_json_object_is_a_json_400(client, shop):
    # when
    response = client.post(form_url(shop), data="[1, 2]", content_type="application/json", headers={"origin": SITE})

    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_json"
    assert not Visitor.objects.exists()


def test_message_form_beyond_the_hourly_limit_of_new_chats_is_429_and_stores_nothing(client, shop, settings):
    # given the network has started as many chats as it may this hour
    now = timezone.now()
    for _ in range(settings.CHAT_CONVERSATIONS_PER_IP_PER_HOUR):
        visitor = Visitor.objects.create(tenant=shop)
        Conversation.objects.create(tenant=shop, visitor=visitor, started_at=now, ip_address="127.0.0.1")
    visitors_before = Visitor.objects.count()

    # when
    response = post_form(client, shop)

    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert response["Access-Control-Allow-Origin"] == SITE
    assert Visitor.objects.count() == visitors_before
    assert not Conversation.objects.filter(origin=Conversation.Origin.OFFLINE_MESSAGE).exists()


def test_message_form_from_another_site_is_refused_and_stores_nothing(client, shop, gym):
    # when
    response = post_form(client, shop, origin=OTHER_SITE)

    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert not Visitor.objects.exists()


def test_message_form_token_of_another_tenant_makes_a_new_visitor(
    client, shop, gym, django_capture_on_commit_callbacks
):
    # given a visitor of the gym
    gym_visitor, gym_token = visits.identify_visitor(tenant=gym, token="")

    # when the token is sent to the shop's form
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(client, shop, token=gym_token)

    # then the shop gets its own visitor and the gym's is untouched
    assert response.status_code == 201
    conversation = Conversation.objects.get(pk=response.json()["conversation"])
    assert conversation.visitor != gym_visitor
    assert conversation.visitor.tenant == shop
    gym_visitor.refresh_from_db()
    assert gym_visitor.email == ""


def test_message_form_answers_other_methods_with_json_405(client, shop):
    # when
    response = client.get(form_url(shop), headers={"origin": SITE})

    # then
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
