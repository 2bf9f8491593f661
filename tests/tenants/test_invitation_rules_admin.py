"""Invitation rules in the admin: on the tenant's page and on their own list, with how many chats each started."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from conversations.models import Conversation, Visitor
from tenants.models import ProactiveRule
from tests.tenants.test_admin import change_url, form_data

LIST_URL = reverse("admin:tenants_proactiverule_changelist")
ADD_URL = reverse("admin:tenants_proactiverule_add")

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


def rule(tenant, **fields):
    defaults = {"name": "Pricing, 30 s", "url_pattern": "/pricing*", "message": "Questions about prices?"}
    return ProactiveRule.objects.create(tenant=tenant, **(defaults | fields))


def proactive_chats(tenant, rule, count):
    for _ in range(count):
        Conversation.objects.create(
            tenant=tenant,
            visitor=Visitor.objects.create(tenant=tenant),
            origin=Conversation.Origin.PROACTIVE,
            proactive_rule=rule,
        )


def test_the_rule_list_shows_pattern_seconds_conditions_and_chats_started(manager_client, tenant, other_tenant):
    # given
    pricing = rule(tenant, seconds_on_page=45, returning_only=True, only_when_agent_free=False)
    rule(
        other_tenant, name="Karnety", url_pattern="*/karnety/*", only_in_service_hours=False, only_when_agent_free=False
    )
    proactive_chats(tenant, pricing, 3)

    # when
    response = manager_client.get(LIST_URL)

    # then
    assert response.status_code == 200
    rows = {row.name: row for row in response.context["cl"].result_list}
    assert rows["Pricing, 30 s"].conversations_started == 3
    assert rows["Karnety"].conversations_started == 0
    page = html.unescape(response.content.decode())
    assert "/pricing*" in page and "*/karnety/*" in page
    assert "returning visitors only · during service hours" in page
    assert "always" in page
    assert ">45<" in page


def test_the_rule_list_is_counted_without_a_query_per_rule(manager_client, tenant, django_assert_max_num_queries):
    # given
    for n in range(5):
        proactive_chats(tenant, rule(tenant, name=f"Rule {n}"), 2)

    # then
    with django_assert_max_num_queries(12):
        response = manager_client.get(LIST_URL)
    assert response.status_code == 200


def test_a_rule_is_added_on_its_own_page_with_help_for_every_condition(manager_client, tenant):
    # given
    page = manager_client.get(ADD_URL)
    text = page.content.decode()
    assert "Only visitors who come back after a pause of 30 minutes or more." in text
    assert "Only when an agent trained for this tenant is online" in text

    # when
    response = manager_client.post(
        ADD_URL,
        {
            "tenant": tenant.pk,
            "name": "Checkout help",
            "is_active": "on",
            "position": "2",
            "url_pattern": "  */checkout/*  ",
            "seconds_on_page": "10",
            "only_in_service_hours": "on",
            "message": "Need a hand with your order?",
        },
    )

    # then
    assert response.status_code == 302
    created = ProactiveRule.objects.get(name="Checkout help")
    assert (created.tenant, created.url_pattern, created.seconds_on_page) == (tenant, "*/checkout/*", 10)
    assert created.only_in_service_hours and not created.only_when_agent_free and not created.returning_only


def test_a_pattern_with_spaces_is_refused_on_the_form(manager_client, tenant):
    # when
    response = manager_client.post(
        ADD_URL,
        {
            "tenant": tenant.pk,
            "name": "Typo",
            "position": "0",
            "url_pattern": "/pricing page",
            "seconds_on_page": "10",
            "message": "Hi",
        },
    )

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url_pattern"]
    assert not ProactiveRule.objects.exists()


def test_a_rule_keeps_its_tenant_once_saved(manager_client, tenant, other_tenant):
    # given
    pricing = rule(tenant)
    url = reverse("admin:tenants_proactiverule_change", args=[pricing.pk])

    # when
    response = manager_client.post(
        url,
        {
            "tenant": other_tenant.pk,
            "name": "Pricing",
            "position": "0",
            "url_pattern": "/pricing*",
            "seconds_on_page": "30",
            "message": "Hi",
        },
    )

    # then
    assert response.status_code == 302
    pricing.refresh_from_db()
    assert (pricing.tenant, pricing.name) == (tenant, "Pricing")


def test_the_tenant_page_lists_its_rules_with_the_chats_each_started_and_adds_one(manager_client, tenant):
    # given
    pricing = rule(tenant)
    proactive_chats(tenant, pricing, 2)

    # when
    page = manager_client.get(change_url(tenant))

    # then the rules are on the tenant's page with their count
    inline = next(i for i in page.context["inline_admin_formsets"] if i.formset.model is ProactiveRule)
    assert [form.instance for form in inline.formset.forms] == [pricing]
    assert inline.formset.forms[0].instance.conversations_started == 2

    # when a rule is added there
    data = form_data(page)
    data.update(
        {
            "proactiverule_set-TOTAL_FORMS": "2",
            "proactiverule_set-1-position": "1",
            "proactiverule_set-1-name": "Returning visitors",
            "proactiverule_set-1-url_pattern": "*",
            "proactiverule_set-1-seconds_on_page": "5",
            "proactiverule_set-1-returning_only": "on",
            "proactiverule_set-1-message": "Welcome back!",
            "proactiverule_set-1-is_active": "on",
        }
    )
    response = manager_client.post(change_url(tenant), data)

    # then
    assert response.status_code == 302
    added = ProactiveRule.objects.get(name="Returning visitors")
    assert (added.tenant, added.returning_only, added.seconds_on_page) == (tenant, True, 5)


def test_an_agent_cannot_open_the_rules(client, agent):
    client.force_login(agent.user)

    response = client.get(LIST_URL)

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
