"""The operations admin: only operations managers get in, and inside every page works for them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import RequestFactory
from django.urls import reverse

from accounts import roles
from conversations.models import Conversation, Message, Visitor
from outbox.models import OutgoingEmail
from tenants import onboarding
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    Tenant,
)
from tests import factories
from workforce.models import Agent, ChangeNoticeAcknowledgement, Qualification, Shift
from workforce.services import create_agent, plan_shift

UTC = dt.UTC
OUR_APPS = {"chatops", "outbox", "tenants", "accounts", "workforce", "conversations", "reporting", "auth"}
# What an operations manager creates in the admin (conversations, by contrast, only start in the widget).
ADDED_HERE = {Tenant, KnowledgeArticle, CannedResponse, ChangeNotice, ClientUser, Agent, Shift}
# Rows the admin keeps from deletion on purpose (tested on their own).
PROTECTED = {Group: {"name__in": roles.ROLES}}


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def as_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


@pytest.fixture
def a_bit_of_everything(tenant, agent, client_user, ops_manager):
    """One row of every model the admin shows, all in one tenant."""
    onboarding.schedule_checklist(tenant)
    plan_shift(agent=agent, starts_at=at(23, 8), ends_at=at(23, 16))
    visitor = Visitor.objects.create(tenant=tenant, name="Ville")
    conversation = Conversation.objects.create(tenant=tenant, visitor=visitor, agent=agent)
    Message.objects.create(
        tenant=tenant, conversation=conversation, seq=1, sender=Message.Sender.VISITOR, body="<b>Hei</b>"
    )
    KnowledgeArticle.objects.create(tenant=tenant, title="Opening hours", body="Mon–Fri 8–16")
    CannedResponse.objects.create(tenant=tenant, shortcut="hello", text="Hei!")
    notice = ChangeNotice.objects.create(tenant=tenant, title="Closed on Monday", body="…", created_by=ops_manager)
    ChangeNoticeAcknowledgement.objects.create(notice=notice, agent=agent)
    return conversation


def test_the_admin_lists_the_models_an_operations_manager_works_with():
    # when / then
    registered = set(admin.site._registry)
    assert ADDED_HERE | {Conversation} <= registered
    assert admin.site.site_header == "chatops operations"


def test_every_admin_page_decides_access_by_role_not_by_django_permissions():
    # when
    warnings = [message for message in admin.site.check(None) if message.id == "chatops.W001"]

    # then
    assert warnings == []


def test_every_list_add_and_change_page_opens_for_a_manager_without_model_permissions(
    manager_client, ops_manager, a_bit_of_everything
):
    # given a manager whose only power is the role
    assert not ops_manager.is_superuser and not ops_manager.user_permissions.exists()
    assert manager_client.get(reverse("admin:index")).status_code == 200

    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        # when / then
        assert manager_client.get(admin_url(model, "changelist")).status_code == 200, model
        can_add = admin.site.get_model_admin(model).has_add_permission(as_request(ops_manager))
        assert can_add or model not in ADDED_HERE, model
        assert manager_client.get(admin_url(model, "add")).status_code == (200 if can_add else 403), model
        row = model._default_manager.exclude(**PROTECTED.get(model, {})).first()
        if row is not None:
            assert manager_client.get(admin_url(model, "change", row.pk)).status_code == 200, model
            assert manager_client.get(admin_url(model, "delete", row.pk)).status_code == 200, model


@pytest.mark.parametrize("staff", [False, True], ids=["plain", "even-with-staff-status"])
@pytest.mark.parametrize("who", ["agent", "client_user"])
def test_agents_and_client_users_are_sent_to_the_login_page(client, request, tenant, who, staff):
    # given someone logged in who is not an operations manager
    user = request.getfixturevalue(who).user
    user.is_staff = staff
    user.save()
    client.force_login(user)

    for url in ("/admin/", admin_url(Tenant, "changelist"), admin_url(Tenant, "change", tenant.pk)):
        # when
        response = client.get(url)

        # then
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url


def test_an_agent_cannot_use_a_tenant_action(client, agent, tenant):
    # given
    client.force_login(agent.user)
    old_key = tenant.widget_key

    # when
    response = client.post(
        admin_url(Tenant, "changelist"), {"action": "rotate_widget_key", "_selected_action": [tenant.pk]}
    )

    # then
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))
    tenant.refresh_from_db()
    assert tenant.widget_key == old_key


def test_a_superuser_without_the_role_group_gets_in(client, db):
    # given
    user = factories.make_user(is_staff=True, is_superuser=True)
    client.force_login(user)

    # when / then
    assert client.get(admin_url(Tenant, "changelist")).status_code == 200


def test_an_inactive_manager_is_refused(client, ops_manager):
    # given
    ops_manager.is_active = False
    ops_manager.save()
    client.force_login(ops_manager)

    # when
    response = client.get("/admin/")

    # then
    assert response.status_code == 302


def test_adding_an_agent_creates_their_login_and_emails_the_invitation(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            admin_url(Agent, "add"),
            {
                "email": "Maija@Staff.example",
                "display_name": "Maija",
                "full_name": "Maija Meikäläinen",
                "languages": ["fi", "en"],
                "max_concurrent_chats": "4",
                "_continue": "1",
            },
        )

    # then the agent exists with a login of their own, and the page goes on to their training
    agent = Agent.objects.select_related("user").get(display_name="Maija")
    assert response.status_code == 302 and response.url == admin_url(Agent, "change", agent.pk)
    assert agent.user.email == "maija@staff.example"
    assert agent.user.get_full_name() == "Maija Meikäläinen"
    assert sorted(agent.languages) == ["en", "fi"]
    assert agent.max_concurrent_chats == 4
    assert roles.has_role(agent.user, roles.AGENT) and not agent.user.is_staff
    [mail] = mailoutbox
    assert mail.to == ["maija@staff.example"]
    assert "/accounts/reset/" in mail.body
    # and the invitation went through the outbox like every e-mail, recorded as sent under its Message-ID
    [sent] = OutgoingEmail.objects.filter(kind="invitation")
    assert sent.status == OutgoingEmail.Status.SENT
    assert mail.message()["Message-ID"] == sent.message_id


def test_the_outbox_page_of_an_invitation_does_not_show_its_sign_in_link(
    manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    # given an invitation sent to a new agent
    with django_capture_on_commit_callbacks(execute=True):
        create_agent(email="new@staff.example", display_name="New")
    [mail] = mailoutbox
    link = next(line for line in mail.body.splitlines() if "/accounts/reset/" in line).strip()
    [sent] = OutgoingEmail.objects.filter(kind="invitation")

    # when an operations manager opens it in the admin
    page = manager_client.get(admin_url(OutgoingEmail, "change", sent.pk)).content.decode()

    # then they see that it went and to whom, but not the link that sets the agent's password
    assert "new@staff.example" in page
    assert link not in page and "/accounts/reset/" not in page


def test_an_agent_with_a_taken_email_is_refused_on_the_form(manager_client, agent, mailoutbox):
    # when
    response = manager_client.post(
        admin_url(Agent, "add"),
        {"email": agent.user.email, "display_name": "Twin", "languages": ["en"], "max_concurrent_chats": "3"},
    )

    # then
    assert response.status_code == 200
    assert "already exists" in str(response.context["adminform"].form.errors["email"])
    assert Agent.objects.count() == 1
    assert mailoutbox == []


def test_training_a_second_agent_on_the_agents_page_completes_the_tenants_step(manager_client, tenant, agent):
    # given a tenant with one trained agent, and a colleague not yet trained
    onboarding.schedule_checklist(tenant)
    colleague = factories.make_agent(display_name="Bartek", languages=["pl"])
    url = admin_url(Agent, "change", colleague.pk)

    # when the colleague's completed training is entered on their page
    response = manager_client.post(
        url,
        {
            "display_name": "Bartek",
            "languages": ["pl"],
            "max_concurrent_chats": "3",
            "qualifications-TOTAL_FORMS": "1",
            "qualifications-INITIAL_FORMS": "0",
            "qualifications-MIN_NUM_FORMS": "0",
            "qualifications-MAX_NUM_FORMS": "1000",
            "qualifications-0-tenant": tenant.pk,
            "qualifications-0-training_started_on": "2026-11-10",
            "qualifications-0-training_completed_on": "2026-11-12",
        },
    )

    # then
    assert response.status_code == 302
    assert Qualification.objects.completed().filter(agent=colleague, tenant=tenant).exists()
    assert OnboardingItem.objects.get(tenant=tenant, key="agents_trained").done_automatically


def test_training_that_ends_before_it_starts_is_refused_on_the_form(manager_client, tenant, agent):
    # when
    response = manager_client.post(
        admin_url(Agent, "change", agent.pk),
        {
            "display_name": "Anna",
            "max_concurrent_chats": "3",
            "qualifications-TOTAL_FORMS": "1",
            "qualifications-INITIAL_FORMS": "0",
            "qualifications-MIN_NUM_FORMS": "0",
            "qualifications-MAX_NUM_FORMS": "1000",
            "qualifications-0-tenant": factories.make_tenant().pk,
            "qualifications-0-training_started_on": "2026-11-10",
            "qualifications-0-training_completed_on": "2026-11-01",
        },
    )

    # then
    assert response.status_code == 200
    assert Qualification.objects.filter(agent=agent).count() == 1


def test_an_overlapping_shift_is_refused_on_the_form(manager_client, agent):
    # given
    plan_shift(agent=agent, starts_at=at(23, 8), ends_at=at(23, 16))

    # when
    response = manager_client.post(
        admin_url(Shift, "add"),
        {
            "agent": agent.pk,
            "starts_at_0": "2026-11-23",
            "starts_at_1": "15:00",
            "ends_at_0": "2026-11-23",
            "ends_at_1": "23:00",
            "note": "",
        },
    )

    # then
    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert errors == ["Anna already has a shift Mon 11/23/2026 8 a.m. UTC–4 p.m. UTC that overlaps this one."]
    assert Shift.objects.filter(agent=agent).count() == 1


def test_a_shift_that_fits_is_planned_and_listed_in_local_time(manager_client, agent, settings):
    # given
    settings.TIME_ZONE = "Europe/Helsinki"

    # when
    response = manager_client.post(
        admin_url(Shift, "add"),
        {
            "agent": agent.pk,
            "starts_at_0": "2026-11-23",
            "starts_at_1": "09:00",
            "ends_at_0": "2026-11-23",
            "ends_at_1": "17:00",
            "note": "morning",
        },
    )
    listing = manager_client.get(admin_url(Shift, "changelist"))

    # then
    assert response.status_code == 302
    shift = Shift.objects.get(agent=agent)
    assert (shift.starts_at, shift.ends_at) == (at(23, 7), at(23, 15))
    assert "Mon 11/23/2026 9 a.m. EET" in listing.content.decode()


def test_the_shift_list_shows_the_latest_shifts_first(manager_client, agent, settings):
    # given a shift last month and one next week, planned in that order
    settings.TIME_ZONE = "UTC"
    plan_shift(agent=agent, starts_at=at(2, 8) - dt.timedelta(days=30), ends_at=at(2, 16) - dt.timedelta(days=30))
    plan_shift(agent=agent, starts_at=at(30, 8), ends_at=at(30, 16))

    # when the manager opens the shift list
    listing = manager_client.get(admin_url(Shift, "changelist")).content.decode()

    # then next week's shift (30 November) comes before last month's (3 October)
    assert listing.index("11/30/2026 8 a.m.") < listing.index("10/03/2026 8 a.m.")


def test_a_manager_who_is_not_a_superuser_cannot_make_anyone_a_superuser(manager_client, ops_manager):
    # given
    url = admin_url(ops_manager.__class__, "change", ops_manager.pk)

    # when the manager posts their own account with the superuser box ticked
    response = manager_client.post(
        url,
        {
            "username": ops_manager.username,
            "email": ops_manager.email,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "groups": [Group.objects.get(name=roles.OPERATIONS_MANAGER).pk],
            "date_joined_0": "2026-11-01",
            "date_joined_1": "09:00:00",
        },
    )

    # then the account saves, without the superuser power
    assert response.status_code == 302
    ops_manager.refresh_from_db()
    assert not ops_manager.is_superuser


def test_a_manager_who_is_not_a_superuser_cannot_change_a_superuser(manager_client):
    # given
    boss = factories.make_user(is_staff=True, is_superuser=True)

    # when
    response = manager_client.post(admin_url(boss.__class__, "change", boss.pk), {"username": "taken-over"})

    # then
    assert response.status_code == 403
    boss.refresh_from_db()
    assert boss.username != "taken-over"


def test_a_role_group_cannot_be_deleted(manager_client):
    # given
    group = Group.objects.get(name=roles.AGENT)

    # when
    response = manager_client.post(admin_url(Group, "delete", group.pk), {"post": "yes"})

    # then
    assert response.status_code == 403
    assert Group.objects.filter(name=roles.AGENT).exists()


def test_a_conversation_opens_read_only_with_its_transcript_escaped(manager_client, a_bit_of_everything):
    # when
    page = manager_client.get(admin_url(Conversation, "change", a_bit_of_everything.pk))

    # then
    content = page.content.decode()
    assert page.status_code == 200
    assert "&lt;b&gt;Hei&lt;/b&gt;" in content and "<b>Hei</b>" not in content
    assert 'name="_save"' not in content


def test_a_conversation_cannot_be_added_or_changed_in_the_admin(manager_client, a_bit_of_everything):
    # when
    added = manager_client.post(admin_url(Conversation, "add"), {"summary": "made up"})
    changed = manager_client.post(admin_url(Conversation, "change", a_bit_of_everything.pk), {"summary": "edited"})

    # then
    assert added.status_code == changed.status_code == 403
    assert Conversation.objects.count() == 1
    a_bit_of_everything.refresh_from_db()
    assert a_bit_of_everything.summary == ""


def test_the_agent_pickers_name_each_agent_by_full_name_and_username(manager_client, tenant):
    # given two agents who both go by "Anna" in the chat
    first = factories.make_agent(display_name="Anna")
    second = factories.make_agent(display_name="Anna")
    User.objects.filter(pk=first.user.pk).update(first_name="Anna", last_name="Virtanen")
    User.objects.filter(pk=second.user.pk).update(first_name="Anna", last_name="Nowak")

    # when the manager plans a shift and trains an agent on the tenant's page
    shift_form = manager_client.get(admin_url(Shift, "add")).content.decode()
    tenant_form = manager_client.get(admin_url(Tenant, "change", tenant.pk)).content.decode()

    # then each picker names the person and their login, so the two Annas can be told apart
    for page in (shift_form, tenant_form):
        options = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', page)
        assert f"Anna Virtanen ({first.user.username})" in options
        assert f"Anna Nowak ({second.user.username})" in options
        assert "Anna" not in options
