"""`manage.py seed_demo`: idempotent, realistic demo data that never touches other tenants.

The demo is seeded once for the module (half a minute or more) and removed afterwards; each test
runs in its own transaction on top of it, so tests that reseed or break things roll back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
import io
import itertools
import statistics
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Count, F, ForeignKey, Max, Min, Q

from accounts import roles
from chatops import demo
from chatops.demo import description
from conversations import aftercare, events, offline
from conversations import handoff as handoff_reports
from conversations.models import (
    Conversation,
    Handoff,
    Lead,
    Message,
    Note,
    PageView,
    Tag,
    TranscriptRequest,
    Visitor,
    email_reference,
)
from conversations.offline import escalation_contacts
from outbox.models import OutgoingEmail
from reporting.coverage import staffing_coverage
from reporting.models import ReportDelivery
from reporting.periods import Kind, Period
from reporting.reports import build_report
from tenants import hours, onboarding
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    ProactiveRule,
    ReportRecipient,
    ServiceException,
    ServiceHours,
    Tenant,
)
from tenants.services import rotate_widget_key
from workforce import selectors as workforce_selectors
from workforce.models import Agent, Qualification, Shift

pytestmark = pytest.mark.django_db

SUMMARY_LINE = "Admin: http://127.0.0.1:8000/admin/  user manager / password demo-manager"


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        result = demo.seed_demo(reset=True)
    yield result
    with django_db_blocker.unblock():
        demo.delete_demo_data()


def live_tenants() -> list[Tenant]:
    return list(demo.demo_tenants().filter(status=Tenant.Status.LIVE))


def fingerprint() -> list[tuple]:
    """Return what identifies the generated history, independent of primary keys."""
    conversations = Conversation.objects.filter(tenant__in=demo.demo_tenants()).order_by("tenant__slug", "started_at")
    return [
        *conversations.values_list(
            "tenant__slug",
            "started_at",
            "origin",
            "outcome",
            "rating",
            "rated_at",
            "last_seq",
            "proactive_rule__name",
            "lead__email",
            "lead__phone",
            "handoff__outgoing__status",
            "handoff__promised_by",
            "transcript_request__email",
        ),
        *conversations.filter(tags__isnull=False)
        .values_list("started_at", "tags__name")
        .order_by("started_at", "tags__name"),
        *Note.objects.filter(tenant__in=demo.demo_tenants()).values_list("created_at", "body").order_by("created_at"),
    ]


def test_running_the_command_again_changes_nothing(seeded):
    # given the demo seeded once
    before = demo.demo_counts()
    out = io.StringIO()

    # when the command runs again
    call_command("seed_demo", stdout=out)

    # then every count, the agent workspace's rows included, is the same and the command says it left the data alone
    assert demo.demo_counts() == before == seeded.counts
    assert all(count > 0 for count in dataclasses.astuple(seeded.counts))
    assert "already present" in out.getvalue()
    assert f"Admin: {settings.SITE_URL}/admin/  user manager / password demo-manager" in out.getvalue()


def short_demo() -> description.Demo:
    """Return the demo's description with one week of history (a quicker build)."""
    return description.with_weeks_of_history(demo.load(), 1)


def test_a_shorter_history_changes_only_when_the_live_clients_went_live():
    # given the demo's description, live about eight weeks
    full = demo.load()
    went_live = full.team.onboarding.day("live")

    # when it is shortened to two weeks of history
    short = description.with_weeks_of_history(full, 2)

    # then each live client went live two weeks ago, the onboarding one is as it was, and nothing else changed
    for before, after in zip(full.tenants, short.tenants, strict=True):
        if before.live:
            assert before.contract_days_ago - went_live > 14
            assert after.contract_days_ago - went_live == 14
        else:
            assert after == before
        assert dataclasses.replace(after, contract_days_ago=before.contract_days_ago) == before
    assert short.team == full.team
    # and a history of no weeks is refused
    with pytest.raises(description.DescriptionError):
        description.with_weeks_of_history(full, 0)


def test_reset_rebuilds_the_same_demo_without_touching_other_tenants_or_sending_mail(
    seeded, tenant, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    # given another tenant with a chat of its own, and a demo (with a short history, to keep this quick)
    visitor = Visitor.objects.create(tenant=tenant)
    own_chat = Conversation.objects.create(tenant=tenant, visitor=visitor)
    Message.objects.create(tenant=tenant, conversation=own_chat, seq=1, sender=Message.Sender.VISITOR, body="Hei")
    short = short_demo()
    built = demo.seed_demo(reset=True, now=seeded.now, data=short)
    history = fingerprint()
    emails = OutgoingEmail.objects.count()
    published = []
    monkeypatch.setattr(events, "_send", lambda group, event: published.append((group, event["type"])))

    # when the demo is reset for the same moment, and what waits for the commit runs
    with django_capture_on_commit_callbacks(execute=True):
        result = demo.seed_demo(reset=True, now=seeded.now, data=short)

    # then it is rebuilt identically and the other tenant's rows are untouched
    assert result.created
    assert result.counts == built.counts
    assert 0 < result.counts.conversations < seeded.counts.conversations
    assert fingerprint() == history
    assert Conversation.objects.filter(pk=own_chat.pk, tenant=tenant).exists()
    assert Message.objects.filter(conversation=own_chat).count() == 1
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    # and no live socket was told anything, no e-mail went out and none waits to go (no invitation, report,
    # transcript or message left: the history's e-mails are recorded as sent or failed long ago)
    assert published == []
    assert mailoutbox == []
    assert not OutgoingEmail.objects.filter(status__in=[OutgoingEmail.Status.QUEUED, OutgoingEmail.Status.SENDING])
    # and the e-mails of the old history went with it (the new history has as many)
    assert OutgoingEmail.objects.count() == emails > 0


def test_a_tenant_with_a_demo_name_that_is_not_demo_data_stops_the_seed(seeded):
    # given a demo tenant whose widget key was rotated, so it no longer carries the demo marker
    kotipuoti = Tenant.objects.get(slug="kotipuoti")
    rotate_widget_key(tenant=kotipuoti)
    chats = Conversation.objects.filter(tenant=kotipuoti).count()

    # when the command runs with --reset
    with pytest.raises(CommandError, match="kotipuoti"):
        call_command("seed_demo", "--reset", stdout=io.StringIO())

    # then that tenant and its history are still there
    assert Conversation.objects.filter(tenant=kotipuoti).count() == chats > 0


def test_three_tenants_speak_three_languages_in_both_tones(seeded):
    # given / when the demo
    tenants = list(demo.demo_tenants())

    # then
    assert len(tenants) == 3
    assert {tenant.language for tenant in tenants} == {"fi", "pl", "en"}
    assert {tenant.tone for tenant in tenants} == {Tenant.Tone.CASUAL, Tenant.Tone.FORMAL}
    by_slug = {tenant.slug: tenant for tenant in tenants}
    assert (by_slug["kotipuoti"].time_zone, by_slug["kotipuoti"].goals) == ("Europe/Helsinki", ["leads", "support"])
    assert (by_slug["energia-fitness"].time_zone, by_slug["energia-fitness"].goals) == (
        "Europe/Warsaw",
        ["bookings", "support"],
    )
    assert (by_slug["ledgerly"].time_zone, by_slug["ledgerly"].goals) == ("Europe/London", ["leads", "support"])


def test_each_tenant_is_set_up_like_a_real_client(seeded):
    for tenant in demo.demo_tenants():
        # given / when the demo, then each tenant has everything the agents and the client need
        assert tenant.accepts_origin("http://127.0.0.1:8000")
        assert tenant.accepts_origin("http://localhost:8000")
        assert tenant.accepts_origin(f"https://www.{tenant.slug}.example")
        assert tenant.greeting
        assert tenant.widget_colour != Tenant._meta.get_field("widget_colour").default
        assert ServiceHours.objects.for_tenant(tenant).filter(weekday__gte=5).exists()
        assert ServiceException.objects.for_tenant(tenant).filter(closed=True).count() == 1
        assert 5 <= KnowledgeArticle.objects.for_tenant(tenant).count() <= 8
        assert 4 <= CannedResponse.objects.for_tenant(tenant).count() <= 6
        assert 1 <= ChangeNotice.objects.for_tenant(tenant).count() <= 2
        assert 5 <= Tag.objects.for_tenant(tenant).count() <= 8
        recipients = ReportRecipient.objects.for_tenant(tenant)
        assert recipients.filter(weekly=True, monthly=True).exists()
        assert recipients.filter(escalations=True).exists()
        assert ClientUser.objects.for_tenant(tenant).count() == 1
        # and the escalation rules name who gets the handoffs and what may be promised
        assert any(contact in tenant.escalation_rules for contact in escalation_contacts(tenant=tenant))
        assert ProactiveRule.objects.for_tenant(tenant).exists()
    # and one tenant's hours run across midnight
    assert any(row.closes <= row.opens for row in ServiceHours.objects.filter(tenant__in=demo.demo_tenants()))


def test_logins_work_with_the_published_passwords_and_roles(seeded):
    # given / when the demo
    users = get_user_model().objects
    team = demo.load().team
    manager = users.get(username=team.manager_username)
    agent = users.get(username="agent1")
    client = users.get(username=demo.client_usernames()[0])

    # then
    assert manager.check_password(team.manager_password)
    assert manager.is_staff
    assert roles.is_operations_manager(manager)
    assert agent.check_password(team.agent_password)
    assert roles.has_role(agent, roles.AGENT)
    assert client.check_password(team.client_password)
    assert roles.has_role(client, roles.CLIENT_USER)
    assert client.client_profile.tenant.slug == "kotipuoti"


def test_six_agents_of_whom_one_is_still_in_training(seeded):
    # given / when the demo
    completed = Count("qualifications", filter=Q(qualifications__training_completed_on__isnull=False))
    agents = list(demo.demo_agents().annotate(completed=completed))

    # then
    assert len(agents) == 6
    assert len({tuple(agent.languages) for agent in agents}) > 1
    assert all(2 <= agent.max_concurrent_chats <= 4 for agent in agents)
    assert Counter(agent.completed for agent in agents) == Counter({1: 2, 2: 2, 3: 1, 0: 1})
    trainee = next(agent for agent in agents if agent.completed == 0)
    assert Qualification.objects.filter(agent=trainee, training_completed_on__isnull=True).exists()


def test_no_agent_has_overlapping_shifts(seeded):
    # given the demo's shifts
    shifts = defaultdict(list)
    for shift in Shift.objects.filter(agent__in=demo.demo_agents()).order_by("starts_at"):
        shifts[shift.agent_id].append(shift)

    # then each agent's next shift starts after the previous one ends, and none is longer than nine hours
    assert sum(len(rows) for rows in shifts.values()) >= 30
    for rows in shifts.values():
        for earlier, later in itertools.pairwise(rows):
            assert earlier.ends_at <= later.starts_at
        assert all(shift.ends_at - shift.starts_at <= dt.timedelta(hours=9) for shift in rows)


def first_day_of_last_month(today: dt.date) -> dt.date:
    """Step back from the first of this month to the last day of the previous one, then to its first."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def test_every_open_hour_from_last_month_to_the_end_of_next_week_has_a_trained_agent_on_shift(seeded):
    # given the planning window on the team's clock: from the first day of last month to the Monday after next
    zone = demo.load().team.planning_zone
    today = seeded.now.astimezone(zone).date()
    window_start = dt.datetime.combine(first_day_of_last_month(today), dt.time(0), tzinfo=zone)
    monday_after_next = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=2)
    window_end = dt.datetime.combine(monday_after_next, dt.time(0), tzinfo=zone)
    shifts = list(Shift.objects.filter(agent__in=demo.demo_agents()))
    trained_on = dict(
        ((agent_id, tenant_id), day)
        for agent_id, tenant_id, day in Qualification.objects.completed().values_list(
            "agent_id", "tenant_id", "training_completed_on"
        )
    )

    for tenant in demo.demo_tenants():
        # and the moment the tenant is staffed from: the live ones all through last month, the onboarding
        # one from the local day its last agent completed training
        last_trained = max(day for (_agent, tenant_id), day in trained_on.items() if tenant_id == tenant.pk)
        staffed_from = max(window_start, dt.datetime.combine(last_trained, dt.time(0), tzinfo=tenant.zone))
        if tenant.status == Tenant.Status.LIVE:
            assert staffed_from == window_start

        # when each half past the hour is checked with the real service-hours code (only when nobody is on shift)
        trained_shifts = [
            (s.starts_at, s.ends_at, trained_on[s.agent_id, tenant.pk])
            for s in shifts
            if (s.agent_id, tenant.pk) in trained_on
        ]
        gaps = []
        moment = staffed_from.astimezone(dt.UTC).replace(minute=30)
        while moment < window_end:
            day = moment.astimezone(tenant.zone).date()
            on_shift = any(start <= moment < end and trained <= day for start, end, trained in trained_shifts)
            if not on_shift and hours.is_open(tenant, moment):
                gaps.append(moment)
            moment += dt.timedelta(hours=1)

        # then an agent trained by that day is always on shift
        assert gaps == [], tenant.slug


def test_shifts_start_on_the_first_day_of_last_month_and_trainees_shadow_only_this_week_and_next(seeded):
    # given the first day of last month and this week's Monday, on the team's clock
    zone = demo.load().team.planning_zone
    today = seeded.now.astimezone(zone).date()
    first_day = first_day_of_last_month(today)
    monday = today - dt.timedelta(days=today.weekday())
    shifts = Shift.objects.filter(agent__in=demo.demo_agents())

    # when
    first_start = shifts.aggregate(first=Min("starts_at"))["first"].astimezone(zone)
    trainee_days = {shift.starts_at.astimezone(zone).date() for shift in shifts.filter(agent__user__username="agent6")}

    # then the first shift is on that day (none earlier: the month before has no staffing figures to mislead)
    assert first_start.date() == first_day
    # and the trainee shadows Monday to Thursday of this week and next, eight shifts
    assert trainee_days == {monday + dt.timedelta(days=7 * week + weekday) for week in (0, 1) for weekday in range(4)}


def test_last_months_report_shows_each_live_tenants_staffing_coverage(seeded, settings):
    # The demo plans one trained agent for every open hour; with the default 30 % shrinkage an hour with
    # chats needs two on shift (the one agent's breaks leave it short), so this reads the month without.
    settings.STAFFING_SHRINKAGE = 0
    for tenant in live_tenants():
        # given last month on the tenant's clock, and the month before it
        period = Period.last_complete(Kind.MONTH, now=seeded.now, zone=tenant.zone)

        # when its monthly report is built, and the one for the month before
        report = build_report(tenant=tenant, kind=ReportDelivery.Kind.MONTHLY, period=period)
        earlier = build_report(tenant=tenant, kind=ReportDelivery.Kind.MONTHLY, period=period.previous())

        # then it has a staffing section: a trained agent was on shift in every open hour and the demo's
        # few chats an hour need one agent (an agent takes two to four at once), so every hour was fully
        # staffed and no hour is listed as short
        assert report.staffing is not None, tenant.slug
        coverage = staffing_coverage(tenant, period, figures=report.figures)
        assert coverage.live_chats > 300
        assert coverage.covered_share == 1.0
        assert report.staffing.rows == []
        # (the figures, the days and the staffing CSV files)
        assert len(report.attachments) == 3
        # and the month before, when no shifts were planned, has none
        assert earlier.staffing is None


def test_every_answering_agent_is_trained_for_the_conversations_tenant(seeded):
    # given who is trained for what
    trained = set(Qualification.objects.completed().values_list("agent_id", "tenant_id"))

    # when collecting who answered in each tenant
    answered = set(
        Conversation.objects.filter(tenant__in=live_tenants(), agent__isnull=False).values_list("agent_id", "tenant_id")
    ) | set(Message.objects.filter(tenant__in=live_tenants(), agent__isnull=False).values_list("agent_id", "tenant_id"))

    # then every pair is a completed qualification, and the trainee never answered
    assert answered
    assert answered <= trained
    trainee = Agent.objects.get(user__username="agent6")
    assert not Message.objects.filter(agent=trainee).exists()


def test_chats_since_the_shifts_began_were_taken_by_an_agent_on_shift(seeded):
    # given each agent's shifts
    shifts = defaultdict(list)
    for agent_id, starts_at, ends_at in Shift.objects.filter(agent__in=demo.demo_agents()).values_list(
        "agent_id", "starts_at", "ends_at"
    ):
        shifts[agent_id].append((starts_at, ends_at))
    first_shift = min(start for rows in shifts.values() for start, _end in rows)

    # when each answered chat since then is checked when it was taken: a live chat as it started, a
    # message left outside service hours when an agent picked it up after the opening
    answered = Conversation.objects.filter(
        tenant__in=live_tenants(), agent__isnull=False, started_at__gte=first_shift
    ).values_list("agent_id", "origin", "started_at", "assigned_at")
    off_shift = []
    for agent_id, origin, started_at, assigned_at in answered:
        taken = assigned_at if origin == Conversation.Origin.OFFLINE_MESSAGE else started_at
        if not any(start <= taken < end for start, end in shifts[agent_id]):
            off_shift.append((agent_id, taken))

    # then the agent was on shift every time
    assert len(answered) > 500
    assert off_shift == []


def test_chats_peak_in_the_evening_local_time(seeded):
    for tenant in live_tenants():
        # given the hours at which the tenant's chats started, on its own clock
        local_hours = Counter(
            started.astimezone(tenant.zone).hour
            for started in Conversation.objects.filter(tenant=tenant).values_list("started_at", flat=True)
        )

        # when comparing the evening with the small hours
        evening = sum(local_hours[hour] for hour in range(18, 22))
        night = sum(local_hours[hour] for hour in range(2, 6))

        # then the evening wins by a wide margin
        assert evening > 10 * max(night, 1), (tenant.slug, evening, night)


def test_chat_volume_and_visitors_are_realistic(seeded):
    for tenant in live_tenants():
        # given the tenant's history
        conversations = Conversation.objects.filter(tenant=tenant)
        days = (seeded.now - tenant.went_live_at).days
        visitors = Visitor.objects.filter(tenant=tenant, page_views__isnull=False).distinct().count()

        # then there are 15–40 chats a day, 3–8 visitors per chat, about eight weeks of it, and some returning
        assert 52 <= days <= 60
        assert 15 <= conversations.count() / days <= 40
        assert 3 <= visitors / conversations.count() <= 8
        assert PageView.objects.filter(tenant=tenant, returning=True).exists()
        assert conversations.aggregate(first=Min("started_at"))["first"] >= tenant.went_live_at
        assert conversations.aggregate(last=Max("closed_at"))["last"] < seeded.now


def test_history_mixes_origins_outcomes_and_ratings(seeded):
    for tenant in live_tenants():
        # given the tenant's closed chats
        conversations = Conversation.objects.filter(tenant=tenant)
        outcomes = Counter(conversations.values_list("outcome", flat=True))
        origins = Counter(conversations.values_list("origin", flat=True))
        total = conversations.count()

        # then all are closed; most are resolved; proactive and offline ones exist; about 40 % are rated, mostly 4–5
        assert set(conversations.values_list("status", flat=True)) == {Conversation.Status.CLOSED}
        resolved = sum(outcomes[outcome] for outcome in Conversation.RESOLVED_OUTCOMES)
        assert resolved / (total - outcomes[Conversation.Outcome.SPAM]) > 0.8
        assert outcomes[Conversation.Outcome.ESCALATED] and outcomes[Conversation.Outcome.SPAM]
        goal_outcome = Conversation.Outcome.BOOKING if "bookings" in tenant.goals else Conversation.Outcome.LEAD
        assert outcomes[goal_outcome] > 0
        assert total * 0.05 < origins[Conversation.Origin.PROACTIVE] < total * 0.15
        assert 0 < origins[Conversation.Origin.OFFLINE_MESSAGE] < total * 0.2
        ratings = list(conversations.filter(rating__isnull=False).values_list("rating", flat=True))
        assert 0.3 <= len(ratings) / total <= 0.5
        assert sum(rating >= 4 for rating in ratings) / len(ratings) > 0.7
        assert conversations.exclude(rating_comment="").exists()
        # and a chat that ended in a lead has the visitor's address on record (a booking records none: the
        # close dialog asks only a lead for contact details)
        leads = conversations.filter(outcome=Conversation.Outcome.LEAD)
        assert leads.exists()
        assert not leads.filter(visitor__email="").exists()


def test_every_lead_conversation_has_a_lead_with_the_visitors_contact(seeded):
    for tenant in live_tenants():
        # given the tenant's chats that ended in a lead
        conversations = Conversation.objects.filter(tenant=tenant, outcome=Conversation.Outcome.LEAD)
        leads = Lead.objects.for_tenant(tenant).select_related("conversation__visitor")

        # then each has exactly one lead of the same tenant, with the contact the visitor gave and what they want
        assert conversations.exists()
        assert sorted(lead.conversation_id for lead in leads) == sorted(conversations.values_list("pk", flat=True))
        for lead in leads:
            visitor = lead.conversation.visitor
            assert lead.email and lead.email == visitor.email
            # (a visitor may give a name or number only in a later chat)
            assert lead.name in ("", visitor.name)
            assert lead.phone in ("", visitor.phone)
            assert lead.wants and "{" not in lead.wants
            assert lead.created_at == lead.conversation.closed_at
        # and some leads left a phone number too
        assert leads.exclude(phone="").exists()


def test_every_escalated_conversation_has_a_handoff_report_to_the_escalation_contacts(seeded):
    for tenant in live_tenants():
        # given the tenant's escalated chats and its escalation contacts
        conversations = Conversation.objects.filter(tenant=tenant, outcome=Conversation.Outcome.ESCALATED)
        handoffs = list(Handoff.objects.for_tenant(tenant).select_related("conversation__visitor", "outgoing"))
        contacts = escalation_contacts(tenant=tenant)

        # then each has one report, with the visitor's contact, a promise due on a later weekday, sent to the contacts
        assert contacts
        assert sorted(handoff.conversation_id for handoff in handoffs) == sorted(
            conversations.values_list("pk", flat=True)
        )
        for handoff in handoffs:
            conversation, visitor = handoff.conversation, handoff.conversation.visitor
            assert handoff.agent_id == conversation.agent_id is not None
            assert handoff.summary == conversation.summary != ""
            assert handoff.visitor_email == visitor.email != ""
            assert handoff.promise
            assert handoff.promised_by > conversation.closed_at
            assert handoff.promised_by.astimezone(tenant.zone).weekday() < 5
            assert handoff.outgoing.recipient_list() == contacts
            assert handoff.outgoing.reference == email_reference(conversation.pk)
            assert str(conversation.pk) in handoff.outgoing.subject
            assert handoff.created_at == conversation.closed_at == handoff.outgoing.created_at
        emails = [handoff.outgoing for handoff in handoffs]
        sent = [email for email in emails if email.status == OutgoingEmail.Status.SENT]
        failed = [email for email in emails if email.status == OutgoingEmail.Status.FAILED]
        assert all(email.sent_at > email.created_at and not email.last_error for email in sent)
        # and the latest failed, with the mail server's refusal the admin shows (refused for good: no retry)
        assert len(failed) == 1
        assert len(sent) + len(failed) == len(handoffs)
        assert all(email.sent_at is None and email.last_error and email.attempts == 1 for email in failed)
        assert min(email.created_at for email in failed) > max(email.created_at for email in sent)


def test_proactive_chats_follow_the_tenants_invitation_rules(seeded):
    for tenant in live_tenants():
        # given the tenant's invitation rules and its proactive chats
        rules = list(ProactiveRule.objects.for_tenant(tenant).active())
        proactive = Conversation.objects.filter(tenant=tenant, origin=Conversation.Origin.PROACTIVE).select_related(
            "proactive_rule"
        )
        first_lines = dict(
            Message.objects.filter(conversation__in=proactive, seq=1).values_list("conversation_id", "body")
        )

        # then two or three rules with different pages and timings, one only for returning visitors
        assert 2 <= len(rules) <= 3
        assert len({rule.url_pattern for rule in rules}) == len(rules)
        assert all(20 <= rule.seconds_on_page <= 45 for rule in rules)
        assert sum(rule.returning_only for rule in rules) == 1
        # and every proactive chat, and only those, came from one of them: its text opened the chat after the
        # visitor had spent the rule's time on a page the rule is for
        assert not Conversation.objects.filter(tenant=tenant, proactive_rule__isnull=False).exclude(
            origin=Conversation.Origin.PROACTIVE
        )
        used = set()
        for conversation in proactive:
            rule = conversation.proactive_rule
            assert rule in rules
            used.add(rule.pk)
            assert first_lines[conversation.pk] == rule.message
            page = (
                PageView.objects.filter(visitor=conversation.visitor_id, viewed_at__lte=conversation.started_at)
                .order_by("-viewed_at")
                .first()
            )
            assert fnmatch.fnmatchcase(page.url, rule.url_pattern)
            assert conversation.started_at - page.viewed_at >= dt.timedelta(seconds=rule.seconds_on_page)
            assert page.returning or not rule.returning_only
        assert used == {rule.pk for rule in rules}


def test_agents_tag_some_chats_and_leave_private_notes_on_others(seeded):
    # given the demo's tags and notes
    tagged = Conversation.objects.filter(tenant__in=live_tenants(), tags__isnull=False).distinct().count()
    answered = Conversation.objects.filter(tenant__in=live_tenants(), agent__isnull=False).count()
    notes = Note.objects.filter(tenant__in=demo.demo_tenants()).select_related("conversation")

    # then a good share of the answered chats carry a tag of their own tenant
    assert 0.2 < tagged / answered < 0.6
    assert not Conversation.tags.through.objects.exclude(conversation__tenant=F("tag__tenant")).filter(
        conversation__tenant__in=demo.demo_tenants()
    )
    for tenant in live_tenants():
        assert Conversation.objects.filter(tenant=tenant, tags__isnull=False).values("tags").distinct().count() >= 5
    # and the notes are the answering agent's, written while the chat was open, on a minority of chats
    assert 0 < notes.count() < answered * 0.25
    for note in notes:
        conversation = note.conversation
        assert note.tenant_id == conversation.tenant_id
        assert note.agent_id == conversation.agent_id
        assert conversation.first_agent_reply_at <= note.created_at <= conversation.closed_at
    assert notes.filter(conversation__outcome=Conversation.Outcome.ESCALATED).exists()


def test_ratings_have_a_moment_and_a_few_visitors_got_their_transcript(seeded):
    # given the live tenants' conversations
    conversations = Conversation.objects.filter(tenant__in=live_tenants())
    transcripts = TranscriptRequest.objects.filter(tenant__in=live_tenants()).select_related(
        "conversation__visitor", "outgoing"
    )

    # then every rating, and only a rating, has the moment it was given, after the chat closed
    assert not conversations.filter(rating__isnull=False, rated_at__isnull=True)
    assert not conversations.filter(rating__isnull=True, rated_at__isnull=False)
    assert not conversations.filter(rated_at__lt=F("closed_at"))
    assert not conversations.filter(rated_at__gte=seeded.now)
    # and a few transcripts went out, to the visitor's own address, once the chat was over
    assert 0 < transcripts.count() < conversations.count() * 0.05
    for request in transcripts:
        assert request.outgoing.status == OutgoingEmail.Status.SENT
        assert request.email == request.conversation.visitor.email
        assert request.outgoing.recipient_list() == [request.email]
        assert request.conversation.closed_at <= request.requested_at <= request.outgoing.sent_at < seeded.now


def test_the_latest_change_notice_is_read_by_some_trained_agents_but_not_all(seeded):
    for tenant in live_tenants():
        # given the tenant's notices, newest first, and who read them
        latest, *earlier = ChangeNotice.objects.for_tenant(tenant).order_by("-created_at")
        readers = workforce_selectors.notice_readers(notice=latest)

        # then the newest is still open: some trained agents acknowledged it, some not yet
        assert readers.acknowledged
        assert readers.pending
        assert all(latest.created_at < ack.acknowledged_at < seeded.now for ack in readers.acknowledged)
        # and the older ones everybody has read
        assert earlier
        assert all(workforce_selectors.notice_readers(notice=notice).pending == [] for notice in earlier)


def test_message_sequence_numbers_run_from_one_without_gaps(seeded):
    # given every message of the demo's conversations, in order
    messages = defaultdict(list)
    for conversation_id, seq, created_at in (
        Message.objects.filter(tenant__in=demo.demo_tenants())
        .order_by("conversation_id", "seq")
        .values_list("conversation_id", "seq", "created_at")
    ):
        messages[conversation_id].append((seq, created_at))

    # then each conversation numbers them 1..n, records n, and time never goes back (a question left outside
    # service hours and the note that it was forwarded by e-mail are written at the same moment)
    last_seqs = dict(Conversation.objects.filter(tenant__in=demo.demo_tenants()).values_list("pk", "last_seq"))
    assert messages
    for conversation_id, rows in messages.items():
        assert [seq for seq, _at in rows] == list(range(1, len(rows) + 1))
        assert last_seqs[conversation_id] == len(rows)
        assert all(earlier <= later for (_s, earlier), (_t, later) in itertools.pairwise(rows))


def test_conversation_timestamps_agree_with_the_messages(seeded):
    # given the conversations with their first visitor and agent messages
    first_by_sender = {}
    for conversation_id, sender, created_at in (
        Message.objects.filter(tenant__in=live_tenants())
        .values("conversation_id", "sender")
        .annotate(first=Min("created_at"))
        .values_list("conversation_id", "sender", "first")
    ):
        first_by_sender[(conversation_id, sender)] = created_at

    # then the moments line up with the messages and with each other
    for conversation in Conversation.objects.filter(tenant__in=live_tenants()):
        first_visitor = first_by_sender.get((conversation.pk, Message.Sender.VISITOR))
        first_agent = first_by_sender.get((conversation.pk, Message.Sender.AGENT))
        assert conversation.first_visitor_message_at == first_visitor
        assert conversation.first_agent_reply_at == first_agent
        assert conversation.started_at <= (first_visitor or conversation.started_at) < conversation.closed_at
        if first_agent:
            assert conversation.assigned_at is not None
            assert first_visitor < first_agent < conversation.closed_at
            assert conversation.started_at <= conversation.assigned_at <= first_agent


def test_median_first_response_is_between_three_and_fifteen_seconds(seeded):
    for tenant in live_tenants():
        # given the live chats' first responses, computed from the stored moments
        rows = Conversation.objects.filter(tenant=tenant, first_agent_reply_at__isnull=False).exclude(
            origin=Conversation.Origin.OFFLINE_MESSAGE
        )
        seconds = [
            (reply - message).total_seconds()
            for message, reply in rows.values_list("first_visitor_message_at", "first_agent_reply_at")
        ]
        missed = Conversation.objects.filter(
            tenant=tenant, first_visitor_message_at__isnull=False, first_agent_reply_at__isnull=True
        )

        # then the median is fast, there is a tail, and a few chats were missed
        assert 3 <= statistics.median(seconds) <= 15
        assert any(value > 30 for value in seconds)
        assert 0 < missed.count() < len(seconds) * 0.1


def test_live_chats_start_within_service_hours_and_offline_messages_outside(seeded):
    # given a sample of the history
    sample = Conversation.objects.filter(tenant__in=live_tenants()).select_related("tenant").order_by("pk")[::25]

    # when each start is checked with the real service-hours code
    wrong = [
        (conversation.origin, conversation.started_at)
        for conversation in sample
        if hours.is_open(conversation.tenant, conversation.started_at)
        == (conversation.origin == Conversation.Origin.OFFLINE_MESSAGE)
    ]

    # then none disagrees
    assert len(sample) > 50
    assert wrong == []


def test_live_tenants_have_complete_checklists_and_the_onboarding_one_does_not(seeded):
    for tenant in demo.demo_tenants():
        # given the tenant's checklist
        items = list(OnboardingItem.objects.for_tenant(tenant))
        progress = onboarding.progress_of(items, onboarding.tenant_today(tenant))

        # then live tenants are done, about eight weeks ago; the onboarding one is part way with one step overdue
        assert progress.total == len(onboarding.STEPS)
        if tenant.slug == "ledgerly":
            assert tenant.status == Tenant.Status.ONBOARDING
            assert 0 < progress.done < progress.total
            assert len(onboarding.overdue_steps(tenant)) == 1
        else:
            assert tenant.status == Tenant.Status.LIVE
            assert progress.done == progress.total
            assert dt.timedelta(weeks=7) < seeded.now - tenant.went_live_at < dt.timedelta(weeks=9)
            assert all(item.done_at <= tenant.went_live_at for item in items)


# --- The demo passes the checks real use is held to -------------------------------------------------

DEMO_ROWS = (
    (Tenant, "pk__in"),
    (ServiceHours, "tenant_id__in"),
    (ServiceException, "tenant_id__in"),
    (KnowledgeArticle, "tenant_id__in"),
    (CannedResponse, "tenant_id__in"),
    (ReportRecipient, "tenant_id__in"),
    (ClientUser, "tenant_id__in"),
    (ChangeNotice, "tenant_id__in"),
    (OnboardingItem, "tenant_id__in"),
    (ProactiveRule, "tenant_id__in"),
    (Qualification, "tenant_id__in"),
    (Visitor, "tenant_id__in"),
    (PageView, "tenant_id__in"),
    (Conversation, "tenant_id__in"),
    (Message, "tenant_id__in"),
    (Tag, "tenant_id__in"),
    (Note, "tenant_id__in"),
    (Lead, "tenant_id__in"),
    (Handoff, "tenant_id__in"),
    (TranscriptRequest, "tenant_id__in"),
)


def validating_each_reference_once(monkeypatch) -> None:
    """Check each foreign key value once: Django's check asks the database once per row, 40,000 times here.

    The check (the value, then that the row it names exists and fits ``limit_choices_to``) depends only on the
    field and the value, and nothing changes while the rows are validated, so its first answer stands.
    """
    answers: dict[tuple[ForeignKey, object], ValidationError | None] = {}
    check = ForeignKey.validate

    def validate(field: ForeignKey, value, model_instance) -> None:
        key = (field, value)
        if key not in answers:
            try:
                check(field, value, model_instance)
                answers[key] = None
            except ValidationError as error:
                answers[key] = error
        if answers[key] is not None:
            raise answers[key]

    monkeypatch.setattr(ForeignKey, "validate", validate)


def test_every_row_of_the_demo_passes_its_models_validation(seeded, monkeypatch):
    # given every row the demo wrote, its agents and shifts too
    validating_each_reference_once(monkeypatch)
    tenants = list(demo.demo_tenants().values_list("pk", flat=True))
    rows = [row for model, lookup in DEMO_ROWS for row in model.objects.filter(**{lookup: tenants}).iterator()]
    rows += list(demo.demo_agents()) + list(Shift.objects.filter(agent__in=demo.demo_agents()))

    # when each is validated as a form or a service validates it (fields, then the model's own rules;
    # the database has enforced the unique and check constraints already)
    invalid = []
    for row in rows:
        try:
            row.clean_fields()
            row.clean()
        except ValidationError as error:
            invalid.append((type(row).__name__, row.pk, error.message_dict))

    # then none is refused
    assert len(rows) > 40_000
    assert invalid == []


def test_every_chat_was_taken_by_an_agent_trained_by_that_day_and_answered_only_by_them(seeded):
    # given when each agent completed training for each tenant
    completed = dict(
        ((agent_id, tenant_id), day)
        for agent_id, tenant_id, day in Qualification.objects.completed().values_list(
            "agent_id", "tenant_id", "training_completed_on"
        )
    )
    zones = {tenant.pk: tenant.zone for tenant in demo.demo_tenants()}
    answered_by = defaultdict(set)
    for conversation_id, agent_id in Message.objects.filter(
        tenant__in=live_tenants(), sender=Message.Sender.AGENT
    ).values_list("conversation_id", "agent_id"):
        answered_by[conversation_id].add(agent_id)

    # when each assigned chat is checked as the assignment service checks it
    wrong = []
    assigned = Conversation.objects.filter(tenant__in=live_tenants(), agent__isnull=False)
    for pk, tenant_id, agent_id, assigned_at, first_reply in assigned.values_list(
        "pk", "tenant_id", "agent_id", "assigned_at", "first_agent_reply_at"
    ):
        day = assigned_at.astimezone(zones[tenant_id]).date()
        trained_by_then = completed.get((agent_id, tenant_id)) is not None and completed[agent_id, tenant_id] <= day
        if not trained_by_then or answered_by[pk] != {agent_id} or not assigned_at <= first_reply:
            wrong.append(pk)

    # then every one was taken by an agent trained by that day, before the first answer, which only they wrote
    assert assigned.count() > 2000
    assert wrong == []
    # and a chat nobody took has no agent's line
    assert not Message.objects.filter(conversation__agent__isnull=True, sender=Message.Sender.AGENT).filter(
        tenant__in=live_tenants()
    )


def test_every_email_of_the_history_was_sent_once_or_refused_for_good_never_waiting(seeded):
    # given the e-mails about the live tenants' chats: handoff reports, transcripts and messages left
    chats = Conversation.objects.filter(tenant__in=live_tenants())
    emails = OutgoingEmail.objects.filter(
        reference__in=[email_reference(pk) for pk in chats.values_list("pk", flat=True)]
    )
    kinds = Counter(emails.values_list("kind", flat=True))

    # then every one made one attempt: sent a few seconds after it was written, or refused by the server
    assert set(kinds) == {handoff_reports.EMAIL_KIND, aftercare.EMAIL_KIND, offline.EMAIL_KIND}
    assert kinds[handoff_reports.EMAIL_KIND] == Handoff.objects.filter(tenant__in=live_tenants()).count()
    assert kinds[offline.EMAIL_KIND] == chats.filter(origin=Conversation.Origin.OFFLINE_MESSAGE).count()
    for email in emails:
        assert email.attempts == 1
        if email.status == OutgoingEmail.Status.SENT:
            assert email.created_at < email.sent_at < email.created_at + dt.timedelta(seconds=10)
            assert email.last_error == ""
        else:
            assert (email.status, email.sent_at, email.kind) == (
                OutgoingEmail.Status.FAILED,
                None,
                handoff_reports.EMAIL_KIND,
            )
            assert email.last_error.startswith(("The mail server refused every recipient: ", "SMTPDataError: 554"))
    # and the refused ones are the two live tenants' latest reports
    assert emails.filter(status=OutgoingEmail.Status.FAILED).count() == 2


def test_every_message_left_outside_service_hours_was_forwarded_and_answered_by_the_next_shift(seeded):
    # given the messages left in the widget's form
    left = Conversation.objects.filter(tenant__in=live_tenants(), origin=Conversation.Origin.OFFLINE_MESSAGE)

    # then each has the visitor's question, the note that it went to the client by e-mail, then the agent's answer
    assert left.count() > 50
    for conversation in left.prefetch_related("messages"):
        senders = [message.sender for message in conversation.messages.all()]
        assert senders == [Message.Sender.VISITOR, Message.Sender.SYSTEM, Message.Sender.AGENT]
        assert conversation.visitor.email


def test_chats_nobody_answered_were_ended_by_the_clock_after_their_visitor_left(seeded):
    for tenant in live_tenants():
        # given the tenant's chats closed as "visitor left"
        left = Conversation.objects.filter(tenant=tenant, outcome=Conversation.Outcome.VISITOR_LEFT)

        # then a few live chats nobody answered, whose visitor wrote, closed the page and stayed away for the
        # tenant's set time before the clock ended them
        assert 0 < left.count() < Conversation.objects.filter(tenant=tenant).count() * 0.1
        for conversation in left:
            assert conversation.origin != Conversation.Origin.OFFLINE_MESSAGE
            assert (conversation.agent_id, conversation.first_agent_reply_at, conversation.visitor_sockets) == (
                None,
                None,
                0,
            )
            assert conversation.first_visitor_message_at < conversation.visitor_left_at
            assert conversation.closed_at - conversation.visitor_left_at == dt.timedelta(
                minutes=tenant.abandoned_after_minutes
            )
