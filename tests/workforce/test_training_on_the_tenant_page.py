"""Training entered on the tenant's page goes through the workforce's services, as on the agent's page:
the checklist follows, and an agent whose training completes may take the tenant's waiting chats at once."""

from __future__ import annotations

import datetime as dt

import pytest

from tenants import onboarding
from tenants.models import OnboardingItem
from tests import factories
from tests.tenants.test_admin import change_url, form_data
from workforce.models import Agent, Qualification
from workforce.signals import agent_may_take_chats

pytestmark = pytest.mark.frozen_time(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


@pytest.fixture
def told_to_route():
    """Collect the agents routing is told may take chats now."""
    agents: list[Agent] = []

    def receiver(sender, agent: Agent, **kwargs) -> None:
        agents.append(agent)

    agent_may_take_chats.connect(receiver, dispatch_uid="test-told-to-route")
    yield agents
    agent_may_take_chats.disconnect(dispatch_uid="test-told-to-route")


def training_prefix(page) -> str:
    return next(
        inline.formset.prefix
        for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is Qualification
    )


def test_a_training_completed_on_the_tenant_page_lets_the_agent_take_chats_at_once(
    manager_client, tenant, agent, told_to_route, django_capture_on_commit_callbacks
):
    # given the tenant's page, with one agent trained, and a colleague not yet trained
    onboarding.schedule_checklist(tenant)
    colleague = factories.make_agent(display_name="Bartek", languages=["pl"])
    page = manager_client.get(change_url(tenant))
    prefix = training_prefix(page)
    data = form_data(page)
    row = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(row + 1),
            f"{prefix}-{row}-agent": str(colleague.pk),
            f"{prefix}-{row}-training_started_on": "2026-11-10",
            f"{prefix}-{row}-training_completed_on": "2026-11-12",
        }
    )

    # when the colleague's completed training is entered there
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(change_url(tenant), data)

    # then it is stored, the tenant's step completes and routing hears of the colleague
    assert response.status_code == 302, response.context and response.context["errors"]
    assert Qualification.objects.completed().filter(agent=colleague, tenant=tenant).exists()
    assert OnboardingItem.objects.get(tenant=tenant, key="agents_trained").done_automatically
    assert colleague in told_to_route


def test_a_training_deleted_on_the_tenant_page_reopens_the_tenants_step(manager_client, tenant, agent):
    # given two agents trained for the tenant: its step is done
    onboarding.schedule_checklist(tenant)
    factories.make_agent(trained_for=[tenant], display_name="Bartek", languages=["pl"])
    onboarding.refresh_checklist(tenant)
    assert OnboardingItem.objects.get(tenant=tenant, key="agents_trained").is_done
    page = manager_client.get(change_url(tenant))
    prefix = training_prefix(page)
    data = form_data(page)
    data[f"{prefix}-0-DELETE"] = "on"

    # when one training is deleted there
    response = manager_client.post(change_url(tenant), data)

    # then the step reopens
    assert response.status_code == 302
    assert Qualification.objects.filter(tenant=tenant).count() == 1
    assert not OnboardingItem.objects.get(tenant=tenant, key="agents_trained").is_done
