"""Retention: closed conversations, page views and visitors go after each tenant's retention period; tallies stay.

Most tests purge at the fixed moment ``NOW``. Kahvila keeps 30 days, so its cutoff is 30 days
before ``NOW``: 2026-10-21 03:00 UTC; Siłownia keeps 365 days: 2025-11-20 03:00 UTC. Every chat
made by ``chat`` has two messages, a note, a transfer, a tag, a lead, a handoff report and a
transcript request, so its parts can be counted by hand.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import zoneinfo

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import ForeignObjectRel
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from conversations import retention, visits
from conversations.models import (
    Conversation,
    Handoff,
    Lead,
    Message,
    Note,
    PageView,
    Tag,
    TranscriptRequest,
    Transfer,
    Visitor,
    VisitorMark,
    VisitorTally,
    email_reference,
)
from conversations.tasks import purge_expired_conversations
from integrations.models import WebhookDelivery
from outbox import services as outbox
from outbox.models import OutgoingEmail
from reporting import kpis, reports
from reporting.periods import Period
from tenants.models import Tenant
from tests import factories
from tests.plugins import services_required, skip_or_fail
from tests.sqlite_rerun import assert_all_passed

UTC = dt.UTC
HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
NOW = dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
pytestmark = pytest.mark.frozen_time(NOW)
KAHVILA_CUTOFF = dt.datetime(2026, 10, 21, 3, 0, tzinfo=UTC)  # NOW - 30 days (October has 31)
SILOWNIA_CUTOFF = dt.datetime(2025, 11, 20, 3, 0, tzinfo=UTC)  # NOW - 365 days (2026 is no leap year)
SECOND = dt.timedelta(seconds=1)
CLOSED, ACTIVE, WAITING = Conversation.Status.CLOSED, Conversation.Status.ACTIVE, Conversation.Status.WAITING
TAG_LINKS = Conversation.tags.through
PARTS = {
    "messages": Message,
    "notes": Note,
    "transfers": Transfer,
    "tag links": TAG_LINKS,
    "leads": Lead,
    "handoffs": Handoff,
    "transcript requests": TranscriptRequest,
}
ONE_CHATS_PARTS = {
    "messages": 2,
    "notes": 1,
    "transfers": 1,
    "tag links": 1,
    "leads": 1,
    "handoffs": 1,
    "transcript requests": 1,
}
NO_PARTS = dict.fromkeys(PARTS, 0)


@pytest.fixture
def kahvila(db):
    return factories.make_tenant(name="Kahvila Oy", slug="kahvila", retention_days=30)


@pytest.fixture
def silownia(db):
    return factories.make_tenant(
        name="Siłownia Sp. z o.o.", slug="silownia", retention_days=365, time_zone="Europe/Warsaw"
    )


def visitor(tenant: Tenant, last_seen: dt.datetime) -> Visitor:
    return Visitor.objects.create(tenant=tenant, first_seen_at=last_seen - dt.timedelta(days=1), last_seen_at=last_seen)


def chat(tenant: Tenant, started: dt.datetime, *, status: str = CLOSED, by: Visitor | None = None) -> Conversation:
    """Make a conversation with one of each of its parts (two messages)."""
    by = by or visitor(tenant, started)
    closed = started + dt.timedelta(minutes=10)
    conversation = Conversation.objects.create(
        tenant=tenant,
        visitor=by,
        status=status,
        started_at=started,
        closed_at=closed if status == CLOSED else None,
        outcome=Conversation.Outcome.ESCALATED if status == CLOSED else "",
        last_seq=2,
    )
    for seq, sender in ((1, Message.Sender.VISITOR), (2, Message.Sender.AGENT)):
        Message.objects.create(
            tenant=tenant, conversation=conversation, seq=seq, sender=sender, body="Hei", created_at=started
        )
    Note.objects.create(tenant=tenant, conversation=conversation, body="Regular customer")
    Transfer.objects.create(tenant=tenant, conversation=conversation, note="Billing question")
    tag, _ = Tag.objects.get_or_create(tenant=tenant, name="pricing")
    conversation.tags.add(tag)
    Lead.objects.create(tenant=tenant, conversation=conversation, email="lead@visitor.example", wants="A table for 8")
    Handoff.objects.create(
        tenant=tenant,
        conversation=conversation,
        summary="Wants a refund",
        visitor_email="visitor@visitor.example",
        promise="The owner calls back",
        promised_by=closed,
        outgoing=sent_email(conversation, "Handoff report: Wants a refund"),
    )
    TranscriptRequest.objects.create(
        tenant=tenant,
        conversation=conversation,
        email="visitor@visitor.example",
        outgoing=sent_email(conversation, "Your chat: Hei"),
    )
    return conversation


def sent_email(conversation: Conversation, subject: str) -> OutgoingEmail:
    """Store an e-mail about the conversation in the outbox, as the handoff and the transcript do."""
    message = EmailMessage(subject=subject, body="Hei", to=["visitor@visitor.example"])
    email = outbox.outgoing_email(message=message, kind="test", reference=email_reference(conversation.pk))
    email.save()
    return email


def emails_of(*conversations: Conversation) -> int:
    return OutgoingEmail.objects.filter(reference__in=[email_reference(one.pk) for one in conversations]).count()


def parts_of(*conversations: Conversation) -> dict[str, int]:
    ids = [conversation.pk for conversation in conversations]
    return {name: model.objects.filter(conversation_id__in=ids).count() for name, model in PARTS.items()}


def times(count: int, parts: dict[str, int]) -> dict[str, int]:
    return {name: count * number for name, number in parts.items()}


def page_view(tenant: Tenant, by: Visitor, moment: dt.datetime) -> PageView:
    return PageView.objects.create(tenant=tenant, visitor=by, url="https://kahvila.example/", viewed_at=moment)


def remaining(model, tenant: Tenant) -> set[int]:
    return set(model.objects.filter(tenant=tenant).values_list("pk", flat=True))


def table_sizes() -> dict[str, int]:
    models = [Conversation, PageView, Visitor, VisitorMark, VisitorTally, Tag, *PARTS.values()]
    return {model._meta.label: model.objects.count() for model in models}


# --- Conversations ---------------------------------------------------------------------------------


def test_closed_chats_started_before_the_tenants_own_cutoff_go_with_all_their_parts(kahvila, silownia):
    # given Kahvila (30 days): chats just before, exactly at and just after its cutoff, and old open ones
    gone = chat(kahvila, KAHVILA_CUTOFF - SECOND)
    very_old = chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=400))
    at_cutoff = chat(kahvila, KAHVILA_CUTOFF)
    after_cutoff = chat(kahvila, KAHVILA_CUTOFF + SECOND)
    old_active = chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=90), status=ACTIVE)
    old_waiting = chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=90), status=WAITING)
    # and Siłownia (365 days): a chat Kahvila would have purged stays, one older than a year goes
    kept_by_silownia = chat(silownia, KAHVILA_CUTOFF - dt.timedelta(days=10))
    silownia_at_cutoff = chat(silownia, SILOWNIA_CUTOFF)
    silownia_gone = chat(silownia, SILOWNIA_CUTOFF - SECOND)
    kept = [at_cutoff, after_cutoff, old_active, old_waiting, kept_by_silownia, silownia_at_cutoff]

    # when
    result = retention.purge_expired(now=NOW)

    # then the two expired chats of Kahvila and the one of Siłownia are gone, with every part
    assert remaining(Conversation, kahvila) == {at_cutoff.pk, after_cutoff.pk, old_active.pk, old_waiting.pk}
    assert remaining(Conversation, silownia) == {kept_by_silownia.pk, silownia_at_cutoff.pk}
    assert parts_of(gone, very_old, silownia_gone) == NO_PARTS
    # and the e-mails about them (the handoff report, the transcript: personal data too) went with them
    assert emails_of(gone, very_old, silownia_gone) == 0
    # and the kept chats keep all of theirs, and the tenants their tags
    assert parts_of(*kept) == times(6, ONE_CHATS_PARTS)
    assert emails_of(*kept) == 6 * 2
    assert Tag.objects.count() == 2
    # and the result says so per tenant, with each tenant's cutoff
    counts = {one.slug: (one.conversations, one.messages, one.cutoff) for one in result.tenants}
    assert counts == {"kahvila": (2, 4, KAHVILA_CUTOFF), "silownia": (1, 2, SILOWNIA_CUTOFF)}
    assert result.total("conversations") == 3


def test_every_table_pointing_at_a_conversation_or_a_visitor_is_purged_with_it():
    # given every model with a foreign key to a conversation or a visitor, auto-created ones included
    def pointing_at(model) -> set:
        relations = model._meta.get_fields(include_hidden=True)
        return {rel.related_model for rel in relations if isinstance(rel, ForeignObjectRel)}

    # then retention deletes each of them before the conversation or the visitor (the webhook log, a
    # layer above, deletes its rows on signals.conversations_purged: tests/integrations/test_webhook_privacy.py)
    assert pointing_at(Conversation) == {*retention.CONVERSATION_PARTS, WebhookDelivery}
    assert pointing_at(Visitor) == {Conversation, PageView, VisitorMark}
    # and nothing points at those parts, so each is deleted by one statement
    for part in retention.CONVERSATION_PARTS:
        assert pointing_at(part) == set(), part


# --- Page views and visitors -----------------------------------------------------------------------


def test_old_page_views_go_and_so_do_the_visitors_left_with_nothing(kahvila, silownia):
    # given Kahvila's visitors (cutoff 2026-10-21 03:00 UTC)
    only_old_views = visitor(kahvila, KAHVILA_CUTOFF - SECOND)
    old_views = [page_view(kahvila, only_old_views, KAHVILA_CUTOFF - dt.timedelta(days=days)) for days in (40, 10)]
    old_views.append(page_view(kahvila, only_old_views, KAHVILA_CUTOFF - SECOND))
    VisitorMark.objects.create(
        tenant=kahvila, zone="Europe/Helsinki", span="day", first_day=dt.date(2026, 10, 21), returning=False,
        visitor=only_old_views,
    )  # fmt: skip
    back_recently = visitor(kahvila, NOW - dt.timedelta(days=2))
    old_views.append(page_view(kahvila, back_recently, KAHVILA_CUTOFF - dt.timedelta(days=5)))
    recent_view = page_view(kahvila, back_recently, NOW - dt.timedelta(days=2))
    viewed_at_cutoff = visitor(kahvila, KAHVILA_CUTOFF - SECOND)
    view_at_cutoff = page_view(kahvila, viewed_at_cutoff, KAHVILA_CUTOFF)
    with_open_chat = visitor(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=50))
    old_views.append(page_view(kahvila, with_open_chat, KAHVILA_CUTOFF - dt.timedelta(days=50)))
    chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=50), status=ACTIVE, by=with_open_chat)
    with_old_chat = visitor(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=50))
    chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=50), by=with_old_chat)
    with_recent_chat = visitor(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=50))
    chat(kahvila, KAHVILA_CUTOFF + SECOND, by=with_recent_chat)
    seen_at_cutoff = visitor(kahvila, KAHVILA_CUTOFF)
    # and a Siłownia visitor as old, whose tenant keeps a year
    silownia_visitor = visitor(silownia, KAHVILA_CUTOFF - dt.timedelta(days=40))
    silownia_view = page_view(silownia, silownia_visitor, KAHVILA_CUTOFF - dt.timedelta(days=40))

    # when
    result = retention.purge_expired(now=NOW)

    # then the five page views from before the cutoff are gone, the two after it stay
    assert remaining(PageView, kahvila) == {recent_view.pk, view_at_cutoff.pk}
    # and the visitor with old views only and the one with an expired chat only are gone, with the mark
    assert remaining(Visitor, kahvila) == {
        back_recently.pk,
        viewed_at_cutoff.pk,
        with_open_chat.pk,
        with_recent_chat.pk,
        seen_at_cutoff.pk,
    }
    assert not VisitorMark.objects.exists()
    # and Siłownia keeps both
    assert remaining(PageView, silownia) == {silownia_view.pk}
    assert remaining(Visitor, silownia) == {silownia_visitor.pk}
    kahvila_result = result.tenants[0]
    assert (kahvila_result.slug, kahvila_result.page_views, kahvila_result.visitors) == ("kahvila", 5, 2)
    assert (result.tenants[1].page_views, result.tenants[1].visitors) == (0, 0)


# --- What survives ---------------------------------------------------------------------------------


def at(year: int, month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=HELSINKI)


@pytest.fixture
def purged_august(kahvila):
    """Kahvila's August 2026, tallied as it happened, then purged: 3 visitors (1 returning), 1 escalated chat."""
    Tenant.objects.filter(pk=kahvila.pk).update(
        visitors_tallied_since=dt.datetime(2026, 1, 1, tzinfo=UTC), visitors_tallied_in="Europe/Helsinki"
    )
    kahvila.refresh_from_db()
    first, second, third = (Visitor.objects.create(tenant=kahvila) for _ in range(3))
    for by, moment in ((first, at(2026, 8, 3, 10)), (second, at(2026, 8, 5, 10)), (third, at(2026, 8, 10, 10))):
        visits.record_page_view(tenant=kahvila, visitor=by, url="https://kahvila.example/", now=moment)
    # A second visit fifteen days later: returning (a new visit after 30 minutes).
    visits.record_page_view(tenant=kahvila, visitor=second, url="https://kahvila.example/", now=at(2026, 8, 20, 10))
    Visitor.objects.filter(tenant=kahvila).update(last_seen_at=at(2026, 8, 20, 10))
    chat(kahvila, at(2026, 8, 5, 10), by=second)
    august = Period.month(2026, 8, zone=HELSINKI)
    before = kpis.kpis_for_tenant(kahvila, august)
    assert (before.visitors, before.returning_visitors, before.chats, before.escalated_chats) == (3, 1, 1, 1)

    retention.purge_expired(now=NOW)

    assert not Conversation.objects.exists()
    assert not PageView.objects.exists()
    assert not Visitor.objects.exists()
    return august


def test_the_visitors_of_a_purged_month_still_read_from_the_tally(kahvila, purged_august):
    # when
    figures = kpis.kpis_for_tenant(kahvila, purged_august)

    # then August still had 3 visitors, 1 returning (the fixture's page views), and its chats are gone
    assert (figures.visitors, figures.returning_visitors) == (3, 1)
    assert (figures.chats, figures.escalated_chats, figures.leads) == (0, 0, 0)
    assert VisitorTally.objects.filter(tenant=kahvila, first_day__month=8).count() == 4 + 3 + 1
    # (days Aug 3, 5, 10 and 20; the weeks from Monday Aug 3, 10 and 17; the month)


def test_the_monthly_report_of_a_purged_month_builds_without_its_conversations(kahvila, purged_august):
    # when
    report = reports.build_report(tenant=kahvila, kind=reports.ReportKind.MONTHLY, period=purged_august)

    # then it lists no escalation and no lead, and still counts August's visitors
    assert report.escalations == []
    assert report.leads == []
    assert (report.figures.visitors, report.figures.chats) == (3, 0)
    assert report.attachments


# --- Dry runs, batches, repeated runs --------------------------------------------------------------


def old_and_new_data(kahvila: Tenant, silownia: Tenant) -> None:
    """Kahvila: 3 expired chats (one visitor with a page view), 1 open and 1 recent; Siłownia: 1 expired."""
    regular = visitor(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=3))
    page_view(kahvila, regular, KAHVILA_CUTOFF - dt.timedelta(days=3))
    chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=3), by=regular)
    for days in (5, 8):
        chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=days))
    chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=5), status=ACTIVE)
    chat(kahvila, NOW - dt.timedelta(days=1))
    chat(silownia, SILOWNIA_CUTOFF - dt.timedelta(days=1))


def test_a_dry_run_deletes_nothing_and_counts_what_the_real_run_then_deletes(kahvila, silownia):
    # given
    old_and_new_data(kahvila, silownia)
    before = table_sizes()

    # when
    dry = retention.purge_expired(now=NOW, dry_run=True)

    # then nothing is gone
    assert table_sizes() == before
    # and it counted Kahvila's 3 expired chats (6 messages), 1 page view and their 3 visitors; Siłownia's 1
    counts = [(one.slug, one.conversations, one.messages, one.page_views, one.visitors) for one in dry.tenants]
    assert counts == [("kahvila", 3, 6, 1, 3), ("silownia", 1, 2, 0, 1)]
    assert dry.dry_run

    # when the purge really runs
    real = retention.purge_expired(now=NOW)

    # then it deleted exactly that
    assert [(one.slug, one.conversations, one.messages, one.page_views, one.visitors) for one in real.tenants] == counts


def test_running_again_deletes_nothing(kahvila, silownia):
    # given a purge that happened
    old_and_new_data(kahvila, silownia)
    retention.purge_expired(now=NOW)
    after_first = table_sizes()

    # when
    again = retention.purge_expired(now=NOW)

    # then
    assert table_sizes() == after_first
    assert not any(one.anything for one in again.tenants)
    assert Conversation.objects.count() == 2  # Kahvila's open and recent chats


@pytest.mark.django_db(transaction=True)
def test_small_batches_still_delete_everything_and_each_commits():
    # given 5 expired chats of different visitors, each with a page view, and one kept chat
    kahvila = factories.make_tenant(slug="kahvila", retention_days=30)
    for days in range(1, 6):
        expired = chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=days))
        page_view(kahvila, expired.visitor, KAHVILA_CUTOFF - dt.timedelta(days=days))
    kept = chat(kahvila, KAHVILA_CUTOFF + SECOND)

    # when batches of 2 are committed one by one (foreign keys are checked at each commit)
    result = retention.purge_expired(now=NOW, batch_size=2)

    # then all 5 chats, their 10 messages, 5 page views and 5 visitors are gone
    only = result.tenants[0]
    assert (only.conversations, only.messages, only.page_views, only.visitors) == (5, 10, 5, 5)
    assert remaining(Conversation, kahvila) == {kept.pk}
    assert remaining(Visitor, kahvila) == {kept.visitor_id}
    assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_chat_someone_holds_locked_is_left_for_the_next_run_without_waiting():
    if connection.vendor != "postgresql":
        skip_or_fail("needs PostgreSQL for row locks", required=services_required(), switch="REQUIRE_SERVICES")
    # given 3 expired chats, one of which another transaction holds locked (as posting into it would)
    kahvila = factories.make_tenant(slug="kahvila", retention_days=30)
    _, held, _ = (chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=days)) for days in (3, 2, 1))
    locked, go_on = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                Conversation.objects.select_for_update().get(pk=held.pk)
                locked.set()
                go_on.wait(10)
        finally:
            locked.set()
            connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    locked.wait(10)

    # when the purge runs meanwhile, in batches of 2
    began = time.monotonic()
    try:
        result = retention.purge_expired(now=NOW, batch_size=2)
    finally:
        go_on.set()
        thread.join(10)

    # then it did not wait for the lock, and deleted the other two
    assert time.monotonic() - began < 5
    assert result.total("conversations") == 2
    assert remaining(Conversation, kahvila) == {held.pk}
    assert parts_of(held) == ONE_CHATS_PARTS
    # and the next run deletes the third
    assert retention.purge_expired(now=NOW).total("conversations") == 1
    assert not Conversation.objects.exists()


def test_the_statements_do_not_grow_with_the_chats_of_a_batch(kahvila, silownia):
    # given Kahvila with 2 expired chats and Siłownia with 6, all fitting one batch
    for days in (1, 2):
        chat(kahvila, KAHVILA_CUTOFF - dt.timedelta(days=days))
    for days in range(1, 7):
        chat(silownia, SILOWNIA_CUTOFF - dt.timedelta(days=days))

    # when each tenant is purged on its own
    with CaptureQueriesContext(connection) as few:
        small = retention.purge_expired(now=NOW, tenants=[kahvila])
    with CaptureQueriesContext(connection) as many:
        large = retention.purge_expired(now=NOW, tenants=[silownia])

    # then both took the same statements
    assert (small.total("conversations"), large.total("conversations")) == (2, 6)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_only_the_tenants_asked_for_are_purged(kahvila, silownia):
    # given
    old_and_new_data(kahvila, silownia)

    # when
    result = retention.purge_expired(now=NOW, tenants=[silownia])

    # then
    assert [one.slug for one in result.tenants] == ["silownia"]
    assert Conversation.objects.filter(tenant=kahvila).count() == 5
    assert Conversation.objects.filter(tenant=silownia).count() == 0


# --- The task and the command ----------------------------------------------------------------------


def test_the_nightly_task_purges_every_tenant_by_the_clock(kahvila, silownia):
    # given chats of the real clock: one 31 days old in each tenant, one 366 days old in Siłownia
    now = timezone.now()
    chat(kahvila, now - dt.timedelta(days=31))
    keeps_a_year = chat(silownia, now - dt.timedelta(days=31))
    chat(silownia, now - dt.timedelta(days=366))

    # when
    deleted = purge_expired_conversations.delay().get()

    # then
    assert deleted == 2
    assert set(Conversation.objects.values_list("pk", flat=True)) == {keeps_a_year.pk}
    assert "conversations.tasks.purge_expired_conversations" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }


def run_command(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("purge_expired_conversations", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_prints_what_would_go_per_tenant_and_deletes_nothing(kahvila, silownia):
    # given one chat 31 days old in each tenant (Kahvila keeps 30 days, Siłownia 365)
    now = timezone.now()
    chat(kahvila, now - dt.timedelta(days=31))
    chat(silownia, now - dt.timedelta(days=31))

    # when
    output = run_command("--dry-run")

    # then
    assert "[1/2] kahvila: would delete 1 conversations (2 messages), 0 page views, 1 visitors" in output
    assert "[2/2] silownia: would delete 0 conversations (0 messages), 0 page views, 0 visitors" in output
    assert "Would delete 1 conversations, 0 page views and 1 visitors of 2 tenants" in output
    assert Conversation.objects.count() == 2


def test_the_command_purges_only_the_tenant_named(kahvila, silownia):
    # given one chat 366 days old in each tenant
    now = timezone.now()
    chat(kahvila, now - dt.timedelta(days=366))
    silownias = chat(silownia, now - dt.timedelta(days=366))

    # when
    output = run_command("--tenant", "kahvila")

    # then
    assert "[1/1] kahvila: deleted 1 conversations (2 messages), 0 page views, 1 visitors" in output
    assert "silownia" not in output
    assert set(Conversation.objects.values_list("pk", flat=True)) == {silownias.pk}


def test_the_command_refuses_an_unknown_tenant(kahvila):
    chat(kahvila, timezone.now() - dt.timedelta(days=366))

    with pytest.raises(CommandError, match="No tenant with the short name: nobody"):
        run_command("--tenant", "kahvila", "--tenant", "nobody")

    assert Conversation.objects.count() == 1


# --- The tenant admin ------------------------------------------------------------------------------


def test_the_tenant_page_says_before_which_date_conversations_are_deleted(client, ops_manager, kahvila):
    # given Kahvila keeps 30 days: the date 30 days ago on Helsinki's calendar
    client.force_login(ops_manager)
    day = (timezone.now().astimezone(HELSINKI) - dt.timedelta(days=30)).date()

    # when
    page = client.get(reverse("admin:tenants_tenant_change", args=[kahvila.pk]))

    # then
    assert page.status_code == 200
    assert f"As saved: conversations started before {date_format(day, 'DATE_FORMAT')}." in page.content.decode()


def test_a_new_tenants_form_says_what_retention_deletes_without_a_date(client, ops_manager):
    client.force_login(ops_manager)

    page = client.get(reverse("admin:tenants_tenant_add"))

    text = page.content.decode()
    assert "Every night, closed conversations that started longer ago than this are deleted" in text
    assert "As saved" not in text


# --- The embedded default --------------------------------------------------------------------------


def test_retention_holds_on_the_embedded_sqlite_default(sqlite_rerun):
    """Run this module's tests again on SQLite, which has no row locks and few parameters per statement."""
    # given the embedded default, when this module runs there
    run = sqlite_rerun.of(__file__)

    # then every test passes there too
    assert_all_passed(run)
