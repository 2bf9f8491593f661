"""Invitation rules: which page they match, when they fire, for whom, and the chat an accepted one starts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from conversations import access, invitations, services
from conversations.models import Conversation, Message, PageView, Visitor
from tenants import proactive
from tenants.models import ProactiveRule, ServiceHours
from tests import factories
from workforce.models import Agent
from workforce.services import plan_shift

PAGE = "https://www.kahvila.example/pricing/coffee?plan=pro#faq"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)  # a Monday
pytestmark = pytest.mark.frozen_time(NOW)


def open_all_week(tenant):
    for weekday in range(7):
        ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))


def agent_on_duty(tenant, *, max_chats=2):
    agent = factories.make_agent(trained_for=[tenant], display_name="Anna", max_concurrent_chats=max_chats)
    # online, with a console that pinged just now
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=NOW)
    plan_shift(agent=agent, starts_at=NOW - dt.timedelta(hours=1), ends_at=NOW + dt.timedelta(hours=7))
    return agent


def rule(tenant, **fields):
    defaults = {
        "name": "Pricing page",
        "url_pattern": "*",
        "seconds_on_page": 20,
        "returning_only": False,
        "only_in_service_hours": False,
        "only_when_agent_free": False,
        "message": "Questions about our prices? We're here.",
    }
    return ProactiveRule.objects.create(tenant=tenant, **(defaults | fields))


def page_view(tenant, *, url=PAGE, returning=False, seconds_ago=60, visitor=None):
    visitor = visitor or Visitor.objects.create(tenant=tenant)
    return PageView.objects.create(
        tenant=tenant,
        visitor=visitor,
        url=url,
        returning=returning,
        viewed_at=NOW - dt.timedelta(seconds=seconds_ago),
    )


def rule_for(view, at=NOW):
    return invitations.rule_for_page(tenant=view.tenant, visitor=view.visitor, page_view=view, now=at)


# ---- the page address pattern ------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        "https://www.kahvila.example/pricing/coffee?plan=pro",  # the whole address (the #fragment aside)
        "https://www.kahvila.example/pricing*",
        "HTTPS://WWW.KAHVILA.EXAMPLE/Pricing*",  # regardless of case
        "https://*.kahvila.example/*/coffee*",  # wildcards in the middle
        "*/coffee?plan=*",
        "*",
        "/pricing*",  # the path, on any host
        "/pricing/coffee",  # the path without its query
        "/pricing/coffee?plan=pro",  # the path with its query
        "/*/coffee*",
        "www.kahvila.example/pricing/*",  # no scheme
    ],
)
def test_a_pattern_matches_the_page(pattern):
    assert proactive.url_matches(pattern, PAGE)


@pytest.mark.parametrize(
    "pattern",
    [
        "https://www.kahvila.example/pricing",  # no * : the whole address must match
        "https://www.kahvila.example/contact*",
        "http://www.kahvila.example/pricing*",  # another scheme
        "https://kahvila.example/pricing*",  # another host
        "/coffee*",  # a path pattern starts at the path's beginning
        "/pricing/tea*",
        "*/checkout/*",
        "shop.kahvila.example/*",
        "",
    ],
)
def test_a_pattern_does_not_match_another_page(pattern):
    assert not proactive.url_matches(pattern, PAGE)


def test_a_pattern_is_text_not_a_regular_expression():
    assert not proactive.url_matches("/a.c", "https://x.example/abc")
    assert proactive.url_matches("/a.c", "https://x.example/a.c")
    assert proactive.url_matches("/(sale)+*", "https://x.example/(sale)+2026")


def test_a_pattern_with_spaces_is_refused():
    with pytest.raises(ValidationError):
        proactive.validate_url_pattern("/pricing page*")
    proactive.validate_url_pattern("  /pricing*  ")


# ---- which rule applies -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_matching_rule_with_the_lowest_position_applies(tenant):
    # given
    rule(tenant, name="anywhere", url_pattern="*", position=5)
    pricing = rule(tenant, name="pricing", url_pattern="/pricing*", position=1)
    rule(tenant, name="contact", url_pattern="/contact*", position=0)
    rule(tenant, name="paused", url_pattern="*", position=0, is_active=False)

    # then
    assert rule_for(page_view(tenant)) == pricing


@pytest.mark.django_db
def test_no_rule_applies_to_a_page_none_matches(tenant):
    rule(tenant, url_pattern="/contact*")

    assert rule_for(page_view(tenant)) is None


@pytest.mark.django_db
def test_another_tenants_rules_never_apply(tenant, other_tenant):
    rule(other_tenant, url_pattern="*")

    assert rule_for(page_view(tenant)) is None


@pytest.mark.django_db
def test_a_returning_visitors_rule_skips_a_first_visit_and_applies_to_a_returning_one(tenant):
    # given
    returning = rule(tenant, name="welcome back", returning_only=True, position=0)
    everyone = rule(tenant, name="everyone", position=1)

    # then
    assert rule_for(page_view(tenant, returning=False)) == everyone
    assert rule_for(page_view(tenant, returning=True)) == returning


@pytest.mark.django_db
def test_a_visitor_counts_as_returning_after_a_pause_of_half_an_hour(tenant):
    # given a visitor's first page view two hours ago
    rule(tenant, returning_only=True)
    visitor = Visitor.objects.create(tenant=tenant)
    access.record_page_view(tenant=tenant, visitor=visitor, url=PAGE, now=NOW - dt.timedelta(hours=2))
    first = invitations.current_page_view(visitor=visitor)
    assert rule_for(first) is None

    # when they come back now
    access.record_page_view(tenant=tenant, visitor=visitor, url=PAGE, now=NOW)

    # then
    assert rule_for(invitations.current_page_view(visitor=visitor)) is not None


@pytest.mark.django_db
def test_outside_service_hours_a_rule_that_needs_them_does_not_apply(tenant):
    # given no service hours at all
    rule(tenant, only_in_service_hours=True)
    view = page_view(tenant)

    # then
    assert rule_for(view) is None

    # when the tenant is open all week
    open_all_week(tenant)

    # then
    assert rule_for(view) is not None


@pytest.mark.django_db
def test_service_hours_are_read_in_the_tenants_time_zone(tenant):
    # given Helsinki hours 09:00–17:00 on Monday 2026-11-23 (07:00–15:00 UTC)
    ServiceHours.objects.create(tenant=tenant, weekday=0, opens=dt.time(9), closes=dt.time(17))
    rule(tenant, only_in_service_hours=True)
    view = page_view(tenant)

    # then 08:30 UTC (10:30 in Helsinki) is open, 15:30 UTC (17:30 in Helsinki) is not
    assert rule_for(view, at=dt.datetime(2026, 11, 23, 8, 30, tzinfo=dt.UTC)) is not None
    assert rule_for(view, at=dt.datetime(2026, 11, 23, 15, 30, tzinfo=dt.UTC)) is None


@pytest.mark.django_db
def test_a_rule_that_needs_a_free_agent_waits_until_one_is_free(tenant):
    # given an agent trained for the tenant, on shift, online, with one chat slot
    rule(tenant, only_when_agent_free=True)
    view = page_view(tenant)
    agent = agent_on_duty(tenant, max_chats=1)
    assert rule_for(view) is not None

    # when that slot is taken
    busy = Conversation.objects.create(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    Conversation.objects.filter(pk=busy.pk).update(agent=agent, status=Conversation.Status.ACTIVE)

    # then
    assert rule_for(view) is None

    # and an agent of another tenant does not count
    factories.make_agent(trained_for=[factories.make_tenant()])
    assert rule_for(view) is None


@pytest.mark.django_db
def test_an_agent_who_is_offline_is_not_free(tenant):
    rule(tenant, only_when_agent_free=True)
    agent = agent_on_duty(tenant)
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.OFFLINE)

    assert rule_for(page_view(tenant)) is None


@pytest.mark.django_db
def test_a_visitor_with_an_open_conversation_is_not_invited(tenant):
    # given
    rule(tenant)
    view = page_view(tenant)
    conversation = Conversation.objects.create(tenant=tenant, visitor=view.visitor)

    # then
    assert rule_for(view) is None

    # when that chat is closed
    services.close_conversation(conversation=conversation)

    # then
    assert rule_for(view) is not None


# ---- timing ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invitation_asked_for_too_early_is_refused(tenant):
    # given a 20 s rule and a page opened 19 s ago
    invitation = rule(tenant, seconds_on_page=20)
    view = page_view(tenant, seconds_ago=19)

    # then
    assert rule_for(view) == invitation
    assert (
        invitations.invitation_due(tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, now=NOW)
        is None
    )
    # and at 20 s it is due
    one_second_later = NOW + dt.timedelta(seconds=1)
    assert (
        invitations.invitation_due(
            tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, now=one_second_later
        )
        == invitation
    )


@pytest.mark.django_db
def test_a_due_invitation_is_checked_again_against_hours_and_free_agents(tenant):
    # given a rule that applied when the page opened, with an agent free then
    invitation = rule(tenant, only_in_service_hours=True, only_when_agent_free=True)
    open_all_week(tenant)
    agent = agent_on_duty(tenant)
    view = page_view(tenant, seconds_ago=30)

    def due():
        return invitations.invitation_due(
            tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, now=NOW
        )

    assert due() == invitation

    # when the agent goes away before the seconds are up
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.AWAY)

    # then
    assert due() is None

    # when the agent is back but the service closes
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=NOW)
    ServiceHours.objects.for_tenant(tenant).delete()

    # then
    assert due() is None


@pytest.mark.django_db
def test_a_paused_or_foreign_rule_is_never_due(tenant, other_tenant):
    paused = rule(tenant, is_active=False)
    foreign = rule(other_tenant)
    view = page_view(tenant, seconds_ago=600)

    for candidate in (paused, foreign):
        assert (
            invitations.invitation_due(
                tenant=tenant, visitor=view.visitor, rule_id=candidate.pk, page_view=view, now=NOW
            )
            is None
        )


# ---- accepting ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_accepted_invitation_starts_a_proactive_chat_opened_by_its_text_and_routed(
    tenant, django_capture_on_commit_callbacks
):
    # given
    invitation = rule(tenant, only_when_agent_free=True)
    agent = agent_on_duty(tenant)
    view = page_view(tenant, seconds_ago=30)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        conversation, line = invitations.accept_invitation(
            tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, now=NOW
        )

    # then the chat counts as proactive, names its rule and went to the free agent
    assert conversation.origin == Conversation.Origin.PROACTIVE
    assert conversation.proactive_rule == invitation
    assert (conversation.agent, conversation.status) == (agent, Conversation.Status.ACTIVE)
    # and the invitation is its first line, from the team (not the visitor: no first response is due yet)
    assert (line.seq, line.sender, line.body) == (1, Message.Sender.SYSTEM, invitation.message)
    assert line.client_msg_id == f"invite:{invitation.pk}"
    assert conversation.first_visitor_message_at is None
    assert invitations.is_invitation_line(line, conversation)


@pytest.mark.django_db
def test_accepting_twice_gives_back_the_same_chat(tenant):
    # given
    invitation = rule(tenant)
    view = page_view(tenant, seconds_ago=30)
    first, _line = invitations.accept_invitation(
        tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, now=NOW
    )

    # when (a double click; the invitation was shown on this connection)
    again, line = invitations.accept_invitation(
        tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, shown=True, now=NOW
    )

    # then
    assert again == first
    assert line is None
    assert first.messages.count() == 1


@pytest.mark.django_db
def test_an_invitation_neither_shown_nor_due_cannot_be_accepted(tenant, other_tenant):
    # given
    early = rule(tenant, seconds_on_page=60)
    foreign = rule(other_tenant, seconds_on_page=0)
    view = page_view(tenant, seconds_ago=5)

    for rule_id in (early.pk, foreign.pk):
        # when / then
        with pytest.raises(ValidationError) as refused:
            invitations.accept_invitation(tenant=tenant, visitor=view.visitor, rule_id=rule_id, page_view=view, now=NOW)
        assert refused.value.code == "no_invitation"
    # a foreign rule stays refused even if the connection claims it showed it
    with pytest.raises(ValidationError):
        invitations.accept_invitation(
            tenant=tenant, visitor=view.visitor, rule_id=foreign.pk, page_view=view, shown=True, now=NOW
        )
    assert not Conversation.objects.exists()


@pytest.mark.django_db
def test_a_shown_invitation_can_be_accepted_although_nobody_is_free_any_more(tenant):
    # given an invitation shown while an agent was free; the agent has gone since
    invitation = rule(tenant, only_when_agent_free=True)
    view = page_view(tenant, seconds_ago=30)

    # when
    conversation, line = invitations.accept_invitation(
        tenant=tenant, visitor=view.visitor, rule_id=invitation.pk, page_view=view, shown=True, now=NOW
    )

    # then the chat waits in the queue like any other
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.origin == Conversation.Origin.PROACTIVE
    assert line is not None


@pytest.mark.django_db
def test_rules_are_listed_with_how_many_chats_each_started(tenant):
    # given
    used, unused = rule(tenant, name="used"), rule(tenant, name="unused")
    for _ in range(2):
        Conversation.objects.create(
            tenant=tenant,
            visitor=Visitor.objects.create(tenant=tenant),
            origin=Conversation.Origin.PROACTIVE,
            proactive_rule=used,
        )

    # when
    counted = {r.pk: r.conversations_started for r in proactive.with_conversation_counts(ProactiveRule.objects.all())}

    # then
    assert counted == {used.pk: 2, unused.pk: 0}
