"""The onboarding checklist: built from one template, completing itself where the system can see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accounts import roles
from tenants import onboarding, services
from tenants.models import CannedResponse, KnowledgeArticle, OnboardingItem, ReportRecipient, ServiceHours
from tests import factories

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)


def steps_of(tenant):
    return {item.key: item for item in OnboardingItem.objects.for_tenant(tenant)}


@pytest.fixture
def new_tenant(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return services.create_tenant(
            name="Verkkokauppa Oy",
            slug="verkkokauppa",
            contract_signed_on=dt.date(2026, 11, 2),
            allowed_origins="https://www.verkkokauppa.example",
        )


def complete_required_steps(tenant, by):
    KnowledgeArticle.objects.create(tenant=tenant, title="Delivery", body="2–3 working days")
    CannedResponse.objects.create(tenant=tenant, shortcut="hello", text="Hei!")
    ServiceHours.objects.create(tenant=tenant, weekday=0, opens=dt.time(9), closes=dt.time(17))
    ReportRecipient.objects.create(tenant=tenant, email="boss@verkkokauppa.example")
    factories.make_agent(trained_for=[tenant])
    factories.make_agent(trained_for=[tenant])
    services.record_widget_seen(tenant=tenant, origin="https://www.verkkokauppa.example", now=NOW)
    onboarding.refresh_checklist(tenant, NOW)
    for key in ("tone_goals", "test_chat"):
        onboarding.tick_step(item=steps_of(tenant)[key], by=by, now=NOW)


def test_a_new_tenant_gets_every_step_due_counted_from_the_contract_date(new_tenant):
    # when the tenant was created (in the fixture), then
    steps = steps_of(new_tenant)
    assert list(steps) == [step.key for step in onboarding.STEPS]
    assert steps["kickoff"].due_on == dt.date(2026, 11, 5)
    assert steps["test_chat"].due_on == dt.date(2026, 11, 29)
    assert steps["go_live"].due_on == new_tenant.go_live_target == dt.date(2026, 12, 2)
    assert not any(item.is_done for item in steps.values())


def test_go_live_target_is_one_month_after_the_contract_clamped_to_a_short_month(db):
    tenant = factories.make_tenant(contract_signed_on=dt.date(2027, 1, 31))

    assert tenant.go_live_target == dt.date(2027, 2, 28)


def test_building_the_checklist_twice_creates_no_duplicates_and_follows_a_new_contract_date(new_tenant):
    # given
    new_tenant.contract_signed_on = dt.date(2026, 11, 9)

    # when
    onboarding.schedule_checklist(new_tenant)
    onboarding.schedule_checklist(new_tenant)

    # then
    steps = steps_of(new_tenant)
    assert len(steps) == len(onboarding.STEPS)
    assert steps["kickoff"].due_on == dt.date(2026, 11, 12)


def test_steps_the_system_can_see_complete_themselves_and_reopen_when_their_truth_goes(new_tenant):
    # given
    article = KnowledgeArticle.objects.create(tenant=new_tenant, title="Returns", body="30 days")

    # when
    onboarding.refresh_checklist(new_tenant, NOW)

    # then
    step = steps_of(new_tenant)["knowledge_base"]
    assert step.done_at == NOW and step.done_automatically and step.done_by is None

    # when the only article is removed
    article.delete()
    onboarding.refresh_checklist(new_tenant, NOW)

    # then
    assert not steps_of(new_tenant)["knowledge_base"].is_done


def test_agents_trained_needs_two_completed_trainings_for_this_tenant(new_tenant, other_tenant):
    # given one trained agent, one still in training, and one trained for another tenant
    factories.make_agent(trained_for=[new_tenant])
    in_training = factories.make_agent()
    in_training.qualifications.create(tenant=new_tenant, training_started_on=dt.date(2026, 11, 10))
    factories.make_agent(trained_for=[other_tenant])
    onboarding.refresh_checklist(new_tenant, NOW)
    assert not steps_of(new_tenant)["agents_trained"].is_done

    # when a second agent completes training
    factories.make_agent(trained_for=[new_tenant])
    onboarding.refresh_checklist(new_tenant, NOW)

    # then
    assert steps_of(new_tenant)["agents_trained"].is_done


def test_an_escalation_contact_alone_is_not_a_report_recipient(new_tenant):
    ReportRecipient.objects.create(
        tenant=new_tenant, email="help@x.example", weekly=False, monthly=False, escalations=True
    )
    onboarding.refresh_checklist(new_tenant, NOW)
    assert not steps_of(new_tenant)["report_recipients"].is_done

    ReportRecipient.objects.create(tenant=new_tenant, email="ceo@x.example", weekly=True, monthly=False)
    onboarding.refresh_checklist(new_tenant, NOW)
    assert steps_of(new_tenant)["report_recipients"].is_done


def test_the_widget_step_completes_on_the_first_page_view_from_an_allowed_origin_only(new_tenant):
    # when the widget is seen on a site that is not the client's
    accepted = services.record_widget_seen(tenant=new_tenant, origin="https://evil.example", now=NOW)

    # then
    assert accepted is False
    assert not steps_of(new_tenant)["widget_installed"].is_done

    # when it is seen on the client's site (written with a default port and capitals)
    accepted = services.record_widget_seen(tenant=new_tenant, origin="https://WWW.verkkokauppa.example:443", now=NOW)

    # then
    assert accepted is True
    assert steps_of(new_tenant)["widget_installed"].done_at == NOW


def test_a_person_ticks_a_manual_step_and_is_recorded_with_the_time(new_tenant, ops_manager):
    # when
    onboarding.tick_step(item=steps_of(new_tenant)["kickoff"], by=ops_manager, now=NOW)

    # then
    step = steps_of(new_tenant)["kickoff"]
    assert (step.done_at, step.done_by, step.done_automatically) == (NOW, ops_manager, False)

    # and a mistaken tick can be undone
    onboarding.untick_step(item=step)
    assert not steps_of(new_tenant)["kickoff"].is_done


def test_an_automatic_step_cannot_be_ticked_by_hand(new_tenant, ops_manager):
    with pytest.raises(ValidationError):
        onboarding.tick_step(item=steps_of(new_tenant)["knowledge_base"], by=ops_manager)

    assert not steps_of(new_tenant)["knowledge_base"].is_done


def test_going_live_is_refused_while_required_steps_are_open_and_names_them(new_tenant, ops_manager):
    # given only the articles are done
    KnowledgeArticle.objects.create(tenant=new_tenant, title="Delivery", body="2–3 working days")

    # when / then
    with pytest.raises(services.GoLiveRefused) as refusal:
        services.mark_tenant_live(tenant=new_tenant, by=ops_manager, now=NOW)
    message = refusal.value.messages[0]
    assert "Test chat done" in message and "At least two agents trained" in message
    assert "Materials received" not in message
    assert "Kickoff" not in message  # not required for go-live
    new_tenant.refresh_from_db()
    assert new_tenant.status == new_tenant.Status.ONBOARDING


def test_going_live_succeeds_once_required_steps_are_done_and_completes_the_go_live_step(new_tenant, ops_manager):
    # given
    complete_required_steps(new_tenant, ops_manager)

    # when
    services.mark_tenant_live(tenant=new_tenant, by=ops_manager, now=NOW)

    # then
    new_tenant.refresh_from_db()
    assert new_tenant.status == new_tenant.Status.LIVE and new_tenant.went_live_at == NOW
    assert steps_of(new_tenant)["go_live"].is_done
    assert onboarding.progress_of(steps_of(new_tenant).values(), NOW.date()).done == len(onboarding.STEPS) - 1


def test_progress_counts_done_and_overdue_steps(new_tenant, ops_manager):
    onboarding.tick_step(item=steps_of(new_tenant)["kickoff"], by=ops_manager, now=NOW)

    progress = onboarding.progress_of(steps_of(new_tenant).values(), dt.date(2026, 11, 20))

    # due by the 20th: kickoff (done, 5th), tone (9th), knowledge base (12th), canned and hours (16th)
    assert (progress.done, progress.total, progress.overdue) == (1, 10, 4)
    assert str(progress) == "1/10, 4 overdue"


def test_operations_managers_get_one_email_a_day_listing_overdue_steps(
    new_tenant, smtp_server, db, django_capture_on_commit_callbacks
):
    # given two managers and an agent (who must not get it)
    factories.make_user(role=roles.OPERATIONS_MANAGER, email="ops1@staff.example")
    factories.make_user(role=roles.OPERATIONS_MANAGER, email="ops2@staff.example")
    factories.make_user(role=roles.AGENT, email="agent@staff.example")

    # when the daily job runs on the 10th (kickoff and tone-and-goals are overdue)
    from tenants.notifications import send_overdue_digest

    day = dt.datetime(2026, 11, 10, 6, 0, tzinfo=dt.UTC)

    def send(now: dt.datetime) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return send_overdue_digest(now=now)

    sent = send(day)

    # then one e-mail reached both managers through the SMTP server
    assert sent == 2
    assert len(smtp_server) == 1
    assert sorted(smtp_server[0]["to"]) == ["ops1@staff.example", "ops2@staff.example"]
    body = smtp_server[0]["message"].get_content()
    assert "Verkkokauppa Oy" in body and "Kickoff meeting held" in body and "Tone and goals agreed" in body
    assert "11/05/2026" in body

    # when it runs again the same day, then nothing more is sent
    assert send(day + dt.timedelta(hours=3)) == 0
    assert len(smtp_server) == 1

    # and the next day the still-open steps are reported again
    assert send(day + dt.timedelta(days=1)) == 2
    assert len(smtp_server) == 2


def test_the_overdue_task_is_on_the_daily_beat_schedule(settings):
    from chatops.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "tenants.tasks.email_overdue_onboarding_steps" in tasks


def test_chatops_own_pages_may_run_the_widget_but_never_count_as_installed(new_tenant, settings):
    from conversations.access import access_tenant_for_widget

    # given chatops is served as chat.example.com
    settings.ALLOWED_HOSTS = ["chat.example.com"]

    # when the widget runs on a page of chatops itself (the admin's preview)
    tenant = access_tenant_for_widget(widget_key=new_tenant.widget_key, origin="https://chat.example.com")
    accepted = services.record_widget_seen(tenant=tenant, origin="https://chat.example.com", now=NOW)

    # then it may run there, but the client's site has not been seen
    assert tenant == new_tenant and accepted is False
    assert not steps_of(new_tenant)["widget_installed"].is_done
