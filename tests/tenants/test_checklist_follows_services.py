"""The onboarding checklist is kept current by the services that change what it checks, whoever calls them:
each automatic step completes, and reopens, on a write through a service alone (no admin, no refresh)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.conf import settings

from tenants import onboarding, services
from tenants.models import OnboardingItem, ServiceHours, Tenant
from tests import factories
from workforce import services as agent_services

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]
SITE = "https://www.verkkokauppa.example"


def done(tenant: Tenant, key: str) -> bool:
    return OnboardingItem.objects.for_tenant(tenant).get(key=key).is_done


@pytest.fixture
def new_tenant(db) -> Tenant:
    return services.create_tenant(
        name="Verkkokauppa Oy", slug="verkkokauppa", contract_signed_on=dt.date(2026, 11, 2), allowed_origins=SITE
    )


def train(agent, tenant: Tenant):
    qualification = agent_services.start_training(agent=agent, tenant=tenant, on=dt.date(2026, 11, 3))
    qualification.training_completed_on = dt.date(2026, 11, 5)
    return agent_services.save_qualification(qualification=qualification)


def test_the_knowledge_base_step_follows_articles_published_and_deleted(new_tenant):
    # given a draft article: not yet a knowledge base
    draft = services.add_knowledge_article(tenant=new_tenant, title="Delivery", body="2–3 days", is_published=False)
    assert not done(new_tenant, "knowledge_base")

    # when it is published, then deleted, through the service
    draft.is_published = True
    services.save_tenant_content(saved=[draft])
    published = done(new_tenant, "knowledge_base")
    services.save_tenant_content(deleted=[draft])

    # then the step completed, then reopened
    assert published
    assert not done(new_tenant, "knowledge_base")


def test_the_canned_responses_step_follows_responses_added_and_deleted(new_tenant):
    # when a response is added, then deleted
    response = services.add_canned_response(tenant=new_tenant, shortcut="hello", text="Hei!")
    added = done(new_tenant, "canned_responses")
    services.save_tenant_content(deleted=[response])

    # then the step completed, then reopened
    assert added
    assert not done(new_tenant, "canned_responses")


def test_the_service_hours_step_follows_hours_set_cleared_and_edited(new_tenant):
    # when the week's hours are set, then cleared, then one range is saved as in the admin's inline
    services.set_service_hours(tenant=new_tenant, weekly=[(0, dt.time(9), dt.time(17))])
    set_ = done(new_tenant, "service_hours")
    services.set_service_hours(tenant=new_tenant, weekly=[])
    cleared = done(new_tenant, "service_hours")
    services.save_tenant_content(
        saved=[ServiceHours(tenant=new_tenant, weekday=1, opens=dt.time(8), closes=dt.time(16))]
    )

    # then it completed, reopened and completed again
    assert (set_, cleared, done(new_tenant, "service_hours")) == (True, False, True)


def test_the_agents_trained_step_follows_trainings_completed_deleted_and_moved(new_tenant, other_tenant):
    # given two agents who completed training for the tenant through the service
    first, second = factories.make_agent(), factories.make_agent()
    train(first, new_tenant)
    one_trained = done(new_tenant, "agents_trained")
    kept = train(second, new_tenant)
    assert not one_trained and done(new_tenant, "agents_trained")

    # when one training is deleted, then another made and moved to the other tenant
    agent_services.withdraw_training(qualification=kept)
    deleted = done(new_tenant, "agents_trained")
    moved = train(factories.make_agent(), new_tenant)
    readded = done(new_tenant, "agents_trained")
    moved.tenant = other_tenant
    agent_services.save_qualification(qualification=moved)

    # then the step reopened, completed again and reopened once the training left
    assert (deleted, readded, done(new_tenant, "agents_trained")) == (False, True, False)


def test_the_report_recipients_step_follows_a_recipient_added_and_taken_off_the_reports(new_tenant):
    # when a weekly recipient is added, then kept only for escalations
    recipient = services.add_report_recipient(tenant=new_tenant, email="boss@verkkokauppa.example", monthly=False)
    added = done(new_tenant, "report_recipients")
    recipient.weekly, recipient.escalations = False, True
    services.save_tenant_content(saved=[recipient])

    # then the step completed, then reopened
    assert added
    assert not done(new_tenant, "report_recipients")


def test_the_widget_step_completes_when_the_service_records_the_widget_seen(new_tenant):
    # when the widget session service sees the client's site
    services.record_widget_seen(tenant=new_tenant, origin=SITE, now=NOW)

    # then
    assert OnboardingItem.objects.for_tenant(new_tenant).get(key="widget_installed").done_at == NOW


def test_the_go_live_step_completes_when_the_service_puts_the_tenant_live(new_tenant, ops_manager):
    # given every required step done through the services, and the manual ones ticked
    services.add_knowledge_article(tenant=new_tenant, title="Delivery", body="2–3 days")
    services.add_canned_response(tenant=new_tenant, shortcut="hello", text="Hei!")
    services.set_service_hours(tenant=new_tenant, weekly=[(0, dt.time(9), dt.time(17))])
    services.add_report_recipient(tenant=new_tenant, email="boss@verkkokauppa.example")
    train(factories.make_agent(), new_tenant)
    train(factories.make_agent(), new_tenant)
    services.record_widget_seen(tenant=new_tenant, origin=SITE, now=NOW)
    for key in ("tone_goals", "test_chat"):
        onboarding.tick_step(item=OnboardingItem.objects.for_tenant(new_tenant).get(key=key), by=ops_manager)
    assert not done(new_tenant, "go_live")

    # when it goes live
    services.mark_tenant_live(tenant=new_tenant, by=ops_manager, now=NOW)

    # then
    assert done(new_tenant, "go_live")


def test_no_admin_refreshes_the_checklist_itself():
    # given / when / then the admin modules leave the checklist to the services they call
    base = Path(settings.BASE_DIR)
    admins = [path for path in base.glob("*/**/admin.py") if path.relative_to(base).parts[0] not in {".venv", "tests"}]
    assert len(admins) >= 4
    assert [str(path) for path in admins if "refresh_checklist" in path.read_text(encoding="utf-8")] == []
