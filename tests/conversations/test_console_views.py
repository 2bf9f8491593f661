"""The console page and the login page: who gets in, and what the page starts with."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from accounts import roles
from conversations.models import Conversation, Visitor
from tests import factories

pytestmark = pytest.mark.django_db


def waiting_conversation(tenant) -> Conversation:
    visitor = Visitor.objects.create(tenant=tenant)
    return Conversation.objects.create(tenant=tenant, visitor=visitor)


def embedded_json(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.DOTALL)
    assert match, f"no #{element_id} in the page"
    return json.loads(match.group(1))


def test_anonymous_visitor_of_the_console_is_sent_to_the_login_page(client):
    # when
    response = client.get(reverse("console"))

    # then
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/console/"


def test_console_lives_at_slash_console():
    assert reverse("console") == "/console/"


def test_client_user_without_an_agent_profile_gets_a_clear_403_page(client, client_user):
    # given
    client.force_login(client_user.user)

    # when
    response = client.get(reverse("console"))

    # then
    assert response.status_code == 403
    assert "conversations/console_forbidden.html" in [template.name for template in response.templates]
    assert "The console is for chat agents" in response.content.decode()
    assert 'id="console-state"' not in response.content.decode()


def test_operations_manager_without_an_agent_profile_gets_a_clear_403_page(client, ops_manager):
    # given
    client.force_login(ops_manager)

    # when
    response = client.get(reverse("console"))

    # then
    assert response.status_code == 403
    assert "has no agent profile" in response.content.decode()


def test_agent_sees_waiting_chats_of_the_tenants_they_are_trained_for_only(client, agent, tenant, other_tenant):
    # given
    ours = waiting_conversation(tenant)
    theirs = waiting_conversation(other_tenant)
    client.force_login(agent.user)

    # when
    response = client.get(reverse("console"))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    state = embedded_json(html, "console-state")
    assert state["agent"] == {"id": agent.pk, "name": "Anna", "presence": "offline"}
    assert [chat["conversation"] for chat in state["queue"]] == [ours.pk]
    assert state["queue"][0]["tenant_name"] == tenant.name
    assert state["chats"] == []
    assert theirs.pk not in [chat["conversation"] for chat in state["queue"] + state["chats"]]
    assert other_tenant.name not in html


def test_agent_sees_their_own_assigned_chats_apart_from_the_queue(client, agent, tenant):
    # given
    waiting = waiting_conversation(tenant)
    assigned = waiting_conversation(tenant)
    Conversation.objects.filter(pk=assigned.pk).update(status=Conversation.Status.ACTIVE, agent=agent)
    client.force_login(agent.user)

    # when
    state = embedded_json(client.get(reverse("console")).content.decode(), "console-state")

    # then
    assert [chat["conversation"] for chat in state["queue"]] == [waiting.pk]
    assert [chat["conversation"] for chat in state["chats"]] == [assigned.pk]


def test_agent_not_trained_for_any_tenant_sees_an_empty_console(client, tenant):
    # given an agent whose training is not complete for the tenant that has a waiting chat
    untrained = factories.make_agent()
    waiting_conversation(tenant)
    client.force_login(untrained.user)

    # when
    response = client.get(reverse("console"))

    # then
    state = embedded_json(response.content.decode(), "console-state")
    assert state["queue"] == [] and state["chats"] == []
    assert tenant.name not in response.content.decode()


def test_console_page_carries_its_script_strings_socket_and_controls(client, agent):
    # given
    client.force_login(agent.user)

    # when
    html = client.get(reverse("console")).content.decode()

    # then
    strings = embedded_json(html, "console-strings")
    config = embedded_json(html, "console-config")
    assert strings["title_counter"] == "(%(count)s) %(title)s"
    assert config == {"socket_path": "/ws/console/", "agent_id": agent.pk}
    assert "conversations/console/main.js" in html and "conversations/console.css" in html
    assert '<option value="online">Online</option>' in html
    assert '<option value="spam">Spam or no message</option>' in html
    assert 'value="visitor_left"' not in html  # the clock's outcome alone
    assert "<title>Console — chatops</title>" in html


def test_console_page_is_never_cached_since_it_holds_the_agents_live_state(client, agent):
    # given
    client.force_login(agent.user)

    # when
    response = client.get(reverse("console"))

    # then
    assert "no-store" in response["Cache-Control"]


def test_message_text_in_the_initial_state_cannot_break_out_of_the_script_block(client, agent, tenant):
    # given a visitor whose name is markup
    visitor = Visitor.objects.create(tenant=tenant, name="</script><script>alert(1)</script>")
    Conversation.objects.create(tenant=tenant, visitor=visitor)
    client.force_login(agent.user)

    # when
    html = client.get(reverse("console")).content.decode()

    # then
    assert "<script>alert(1)" not in html
    assert embedded_json(html, "console-state")["queue"][0]["visitor"] == "</script><script>alert(1)</script>"


def test_login_page_renders_with_its_form(client):
    # when
    response = client.get(reverse("login"))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "registration/login.html" in [template.name for template in response.templates]
    assert 'name="username"' in html and 'name="password"' in html
    assert "Sign in to chatops" in html


def test_login_with_a_wrong_password_says_so_clearly(client, agent):
    # when
    response = client.post(reverse("login"), {"username": agent.user.username, "password": "wrong"})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "Please enter a correct username and password" in html
    assert 'aria-invalid="true"' in html
    assert f'value="{agent.user.username}"' in html


def test_agent_logging_in_is_sent_home_and_from_there_to_the_console(client, agent):
    # when
    response = client.post(
        reverse("login"), {"username": agent.user.username, "password": factories.PASSWORD}, follow=True
    )

    # then
    assert response.redirect_chain == [(reverse("home"), 302), ("/console/", 302)]
    assert response.status_code == 200
    assert "conversations/console.html" in [template.name for template in response.templates]


def test_login_with_next_returns_to_the_console(client, agent):
    # when
    response = client.post(
        f"{reverse('login')}?next=/console/",
        {"username": agent.user.username, "password": factories.PASSWORD, "next": "/console/"},
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/console/"


def test_client_user_logging_in_does_not_land_on_the_console(client):
    # given
    user = factories.make_user(role=roles.CLIENT_USER)

    # when
    response = client.post(reverse("login"), {"username": user.username, "password": factories.PASSWORD}, follow=True)

    # then
    assert response.redirect_chain == [(reverse("home"), 302)]
    assert "/console/" not in [url for url, _status in response.redirect_chain]


def test_the_console_links_to_the_wall_of_fame(client, agent):
    # given a signed-in agent
    client.force_login(agent.user)

    # when the console opens
    page = client.get(reverse("console")).content.decode()

    # then its top bar links to the wall of fame, which the agent may open
    assert f'href="{reverse("wall-of-fame")}"' in page
    assert client.get(reverse("wall-of-fame")).status_code == 200
