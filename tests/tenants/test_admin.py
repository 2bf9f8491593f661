"""The tenant admin: onboarding a client company in one sitting, as an operations manager does it."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django import forms
from django.contrib.messages import ERROR, SUCCESS, WARNING
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from tenants import onboarding, selectors, services
from tenants.forms import ERROR_GO_LIVE_THROUGH_ACTION
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    ReportRecipient,
    ServiceHours,
    Tenant,
)
from tests import factories
from workforce import selectors as workforce_selectors
from workforce.models import ChangeNoticeAcknowledgement

LIST_URL = reverse("admin:tenants_tenant_changelist")
ADD_URL = reverse("admin:tenants_tenant_add")


def change_url(tenant):
    return reverse("admin:tenants_tenant_change", args=[tenant.pk])


def form_data(page) -> dict:
    """Return what the admin form on the page would post unchanged: its values and every management form."""
    all_forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        all_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in all_forms:
        for bound in form:
            value = bound.value()
            if bound.field.disabled or value is None:
                continue
            if isinstance(bound.field, forms.BooleanField):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(choice) for choice in value]
            else:
                data[bound.html_name] = str(value)
    return data


def checklist_form_prefix(page, key: str) -> str:
    """Return the form prefix of the checklist row for the step."""
    for inline in page.context["inline_admin_formsets"]:
        if inline.formset.model is OnboardingItem:
            return next(form.prefix for form in inline.formset.forms if form.instance.key == key)
    raise AssertionError("The page has no onboarding checklist.")


def messages_on(response) -> list:
    return list(response.context["messages"])


def steps_of(tenant) -> dict[str, OnboardingItem]:
    return {item.key: item for item in OnboardingItem.objects.for_tenant(tenant).order_by("position")}


def complete_required_steps(tenant, by) -> None:
    KnowledgeArticle.objects.create(tenant=tenant, title="Opening hours", body="Mon–Fri 8–16")
    CannedResponse.objects.create(tenant=tenant, shortcut="hello", text="Hei, miten voin auttaa?")
    ServiceHours.objects.create(tenant=tenant, weekday=0, opens=dt.time(9), closes=dt.time(17))
    ReportRecipient.objects.create(tenant=tenant, email="boss@kahvila.example")
    factories.make_agent(trained_for=[tenant])
    factories.make_agent(trained_for=[tenant])
    services.record_widget_seen(tenant=tenant, origin=tenant.origin_list()[0])
    onboarding.refresh_checklist(tenant)
    for key in ("tone_goals", "test_chat"):
        onboarding.tick_step(item=steps_of(tenant)[key], by=by)


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


@pytest.fixture
def checklist(tenant):
    return onboarding.schedule_checklist(tenant)


def test_a_tenant_added_with_service_hours_gets_its_ten_step_checklist(
    manager_client, django_capture_on_commit_callbacks
):
    # given the add page, filled in with one row of service hours
    page = manager_client.get(ADD_URL)
    data = form_data(page)
    data.update(
        name="Verkkokauppa Oy",
        slug="verkkokauppa",
        contract_signed_on="2026-11-02",
        go_live_target="",
        time_zone="Europe/Helsinki",
        language="fi",
        tone="casual",
        goals=["leads", "support"],
        allowed_origins="https://www.verkkokauppa.example",
    )
    assert data["servicehours_set-TOTAL_FORMS"] == "0"
    data.update(
        {
            "servicehours_set-TOTAL_FORMS": "1",
            "servicehours_set-0-weekday": "0",
            "servicehours_set-0-opens": "09:00",
            "servicehours_set-0-closes": "17:00",
        }
    )

    # when it is saved
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(ADD_URL, data)

    # then the tenant, its hours and its whole checklist exist, the hours step already done
    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant = Tenant.objects.get(slug="verkkokauppa")
    assert tenant.goals == ["leads", "support"]
    assert tenant.go_live_target == dt.date(2026, 12, 2)
    steps = steps_of(tenant)
    assert list(steps) == [step.key for step in onboarding.STEPS]
    assert steps["service_hours"].is_done and steps["service_hours"].done_automatically
    assert not steps["tone_goals"].is_done


def test_the_tenant_list_shows_each_checklists_progress_with_overdue_steps(manager_client, ops_manager, tenant):
    # given a contract signed eight days ago (two steps past due) and the kickoff ticked
    tenant.contract_signed_on = onboarding.tenant_today(tenant) - dt.timedelta(days=8)
    tenant.go_live_target = None
    tenant.save()
    onboarding.schedule_checklist(tenant)
    onboarding.tick_step(item=steps_of(tenant)["kickoff"], by=ops_manager)

    # when the list is opened
    response = manager_client.get(LIST_URL)

    # then
    assert response.status_code == 200
    assert "1/10, 1 overdue" in response.content.decode()


def test_the_tenant_list_fetches_checklists_without_a_query_per_tenant(manager_client, tenant, other_tenant):
    # given two tenants with checklists and a list of one of them
    onboarding.schedule_checklist(tenant)
    onboarding.schedule_checklist(other_tenant)
    with CaptureQueriesContext(connection) as one:
        manager_client.get(LIST_URL, {"q": tenant.slug})

    # when the list shows both
    with CaptureQueriesContext(connection) as two:
        response = manager_client.get(LIST_URL)

    # then the number of queries is the same
    assert response.status_code == 200
    assert "0/10" in response.content.decode()
    assert len(two.captured_queries) == len(one.captured_queries)


def test_the_tenant_list_searches_allowed_origins(manager_client, tenant, other_tenant):
    # given
    other_tenant.allowed_origins = "https://www.silownia.example"
    other_tenant.save()

    # when
    response = manager_client.get(LIST_URL, {"q": "silownia.example"})

    # then
    assert list(response.context["cl"].result_list) == [other_tenant]


def test_rotating_the_widget_key_from_the_list_replaces_it_and_warns_about_the_old_snippet(manager_client, tenant):
    # given
    old_key = tenant.widget_key

    # when
    response = manager_client.post(
        LIST_URL, {"action": "rotate_widget_key", "_selected_action": [tenant.pk]}, follow=True
    )

    # then
    tenant.refresh_from_db()
    assert tenant.widget_key != old_key
    [message] = messages_on(response)
    assert message.level == WARNING
    assert "old snippet no longer" in message.message


def test_the_rotate_button_on_the_tenant_page_replaces_the_key(manager_client, tenant):
    # given
    old_key = tenant.widget_key

    # when
    response = manager_client.post(reverse("admin:tenants_tenant_rotate_widget_key", args=[tenant.pk]))

    # then
    tenant.refresh_from_db()
    assert response.status_code == 302 and response.url == change_url(tenant)
    assert tenant.widget_key != old_key


def test_opening_the_rotate_address_without_posting_changes_nothing(manager_client, tenant):
    # given
    old_key = tenant.widget_key

    # when
    response = manager_client.get(reverse("admin:tenants_tenant_rotate_widget_key", args=[tenant.pk]))

    # then
    tenant.refresh_from_db()
    assert response.status_code == 302
    assert tenant.widget_key == old_key


def test_marking_a_tenant_live_too_early_is_refused_with_the_open_steps_named(manager_client, tenant, checklist):
    # when
    response = manager_client.post(LIST_URL, {"action": "mark_live", "_selected_action": [tenant.pk]}, follow=True)

    # then
    assert response.status_code == 200
    [message] = messages_on(response)
    assert message.level == ERROR
    assert message.message.startswith("Kahvila Oy cannot go live yet; open steps: Tone and goals agreed, ")
    assert "Test chat done" in message.message
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ONBOARDING


def test_marking_a_tenant_live_succeeds_once_the_required_steps_are_done(
    manager_client, ops_manager, tenant, checklist
):
    # given
    complete_required_steps(tenant, by=ops_manager)

    # when the button on the tenant page is pressed
    response = manager_client.post(reverse("admin:tenants_tenant_mark_live", args=[tenant.pk]), follow=True)

    # then
    [message] = messages_on(response)
    assert (message.level, message.message) == (SUCCESS, "Kahvila Oy is live.")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.LIVE
    assert steps_of(tenant)["go_live"].is_done


def test_the_tenant_page_shows_the_embed_snippet_ready_to_copy(manager_client, tenant, settings):
    # given
    settings.SITE_URL = "https://chat.example"

    # when
    response = manager_client.get(change_url(tenant))

    # then
    snippet = f'<script async src="https://chat.example/widget.js" data-key="{tenant.widget_key}"></script>'
    assert selectors.widget_embed_snippet(tenant=tenant) == snippet
    assert html.escape(snippet) in response.content.decode()
    assert "data-copy-from" in response.content.decode()


def test_the_tenant_page_offers_the_mark_live_and_rotate_buttons(manager_client, tenant):
    # when
    content = manager_client.get(change_url(tenant)).content.decode()

    # then
    assert f'action="{reverse("admin:tenants_tenant_mark_live", args=[tenant.pk])}"' in content
    assert f'action="{reverse("admin:tenants_tenant_rotate_widget_key", args=[tenant.pk])}"' in content


def test_ticking_a_manual_step_on_the_tenant_page_records_who_did_it(manager_client, ops_manager, tenant, checklist):
    # given
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    data[f"{checklist_form_prefix(page, 'tone_goals')}-ticked"] = "on"

    # when
    response = manager_client.post(change_url(tenant), data)

    # then
    assert response.status_code == 302
    step = steps_of(tenant)["tone_goals"]
    assert step.is_done and step.done_by == ops_manager and not step.done_automatically


def test_unticking_a_step_on_the_tenant_page_reopens_it(manager_client, ops_manager, tenant, checklist):
    # given a ticked step
    onboarding.tick_step(item=steps_of(tenant)["kickoff"], by=ops_manager)
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    assert data.pop(f"{checklist_form_prefix(page, 'kickoff')}-ticked") == "on"

    # when the box is cleared
    response = manager_client.post(change_url(tenant), data)

    # then
    assert response.status_code == 302
    assert not steps_of(tenant)["kickoff"].is_done


def test_a_step_that_completes_itself_cannot_be_ticked_on_the_tenant_page(manager_client, tenant, checklist):
    # given
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    data[f"{checklist_form_prefix(page, 'knowledge_base')}-ticked"] = "on"

    # when
    response = manager_client.post(change_url(tenant), data)

    # then the page saves but the step stays open, and it says why
    assert response.status_code == 302
    assert not steps_of(tenant)["knowledge_base"].is_done
    assert "completes itself" in page.content.decode()


def test_an_overdue_step_is_shown_in_red_on_the_tenant_page(manager_client, tenant):
    # given a contract signed eight days ago: the kickoff is past due
    tenant.contract_signed_on = onboarding.tenant_today(tenant) - dt.timedelta(days=8)
    tenant.save()
    onboarding.schedule_checklist(tenant)

    # when
    response = manager_client.get(change_url(tenant))

    # then
    assert "color: var(--error-fg)" in response.content.decode()
    assert "overdue" in response.content.decode()


def test_adding_service_hours_on_the_tenant_page_completes_the_hours_step(manager_client, tenant, checklist):
    # given
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    data.update(
        {
            "servicehours_set-TOTAL_FORMS": "1",
            "servicehours_set-0-weekday": "2",
            "servicehours_set-0-opens": "08:00",
            "servicehours_set-0-closes": "16:00",
        }
    )

    # when
    response = manager_client.post(change_url(tenant), data)

    # then
    assert response.status_code == 302
    assert steps_of(tenant)["service_hours"].done_automatically


def test_the_tenant_form_refuses_to_set_the_status_to_live(manager_client, tenant, checklist):
    # given
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    data["status"] = Tenant.Status.LIVE

    # when
    response = manager_client.post(change_url(tenant), data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [str(ERROR_GO_LIVE_THROUGH_ACTION)]
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ONBOARDING


def test_the_time_after_which_a_chat_the_visitor_left_ends_is_set_on_the_tenant_page(manager_client, tenant):
    # given the tenant page, with the default of 10 minutes
    page = manager_client.get(change_url(tenant))
    data = form_data(page)
    assert data["abandoned_after_minutes"] == "10"

    # when the manager sets 5 minutes, then 0
    data["abandoned_after_minutes"] = "5"
    manager_client.post(change_url(tenant), data)
    data["abandoned_after_minutes"] = "0"
    refused = manager_client.post(change_url(tenant), data)

    # then 5 is kept and 0 refused beside the field
    tenant.refresh_from_db()
    assert tenant.abandoned_after_minutes == 5
    assert "abandoned_after_minutes" in refused.context["adminform"].form.errors


def test_an_article_added_on_its_own_page_completes_the_knowledge_base_step(manager_client, tenant, checklist):
    # when
    response = manager_client.post(
        reverse("admin:tenants_knowledgearticle_add"),
        {"tenant": tenant.pk, "title": "Delivery", "body": "2–3 working days", "keywords": "", "is_published": "on"},
    )

    # then
    assert response.status_code == 302
    assert steps_of(tenant)["knowledge_base"].done_automatically


def test_adding_a_client_user_creates_the_login_and_invites_them_in_the_tenants_language(
    manager_client, tenant, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            reverse("admin:tenants_clientuser_add"),
            {"email": "Omistaja@Kahvila.example", "full_name": "Olli Omistaja", "tenant": tenant.pk},
        )

    # then
    assert response.status_code == 302
    client_user = ClientUser.objects.select_related("user").get(user__email="omistaja@kahvila.example")
    assert client_user.tenant == tenant
    assert roles.has_role(client_user.user, roles.CLIENT_USER)
    assert not client_user.user.is_staff
    [mail] = mailoutbox
    assert mail.to == ["omistaja@kahvila.example"]
    assert "/accounts/reset/" in mail.body


def test_a_client_user_with_a_taken_email_is_refused_on_the_form(manager_client, tenant, client_user, mailoutbox):
    # when
    response = manager_client.post(
        reverse("admin:tenants_clientuser_add"),
        {"email": client_user.user.email.upper(), "full_name": "Someone Else", "tenant": tenant.pk},
    )

    # then
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["email"])
    assert ClientUser.objects.count() == 1
    assert mailoutbox == []


def test_a_change_notice_records_its_author_and_shows_who_acknowledged_it(manager_client, ops_manager, tenant, agent):
    # given a second trained agent, and a notice posted in the admin
    colleague = factories.make_agent(trained_for=[tenant], display_name="Bartek")
    manager_client.post(
        reverse("admin:tenants_changenotice_add"),
        {"tenant": tenant.pk, "title": "New opening hours", "body": "From December we open at 7."},
    )
    notice = ChangeNotice.objects.get(title="New opening hours")
    ChangeNoticeAcknowledgement.objects.create(notice=notice, agent=agent)

    # when
    listing = manager_client.get(reverse("admin:tenants_changenotice_changelist"))
    page = manager_client.get(reverse("admin:tenants_changenotice_change", args=[notice.pk]))

    # then
    assert notice.created_by == ops_manager
    assert "1 of 2 agents" in listing.content.decode()
    readers = workforce_selectors.notice_readers(notice=notice)
    assert [ack.agent for ack in readers.acknowledged] == [agent]
    assert readers.pending == [colleague]
    assert "Not yet acknowledged by:" in page.content.decode()


def test_an_operations_manager_can_try_the_widget_on_a_preview_page(client, ops_manager, tenant):
    # given
    client.force_login(ops_manager)

    # when
    response = client.get(reverse("admin:tenants_tenant_widget_preview", args=[tenant.pk]))

    # then the page carries the tenant's snippet, loading the script from this host
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-key="{tenant.widget_key}"' in body
    assert 'src="http://testserver/widget.js"' in body
    assert (
        reverse("admin:tenants_tenant_widget_preview", args=[tenant.pk])
        in client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk])).content.decode()
    )


def test_the_widget_preview_is_refused_to_an_agent(client, agent, tenant):
    client.force_login(agent.user)

    response = client.get(reverse("admin:tenants_tenant_widget_preview", args=[tenant.pk]))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
