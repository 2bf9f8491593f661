"""The API's handoff reports, ratings and KPI figures: the token's tenant's only, paged by time, periods
read in the tenant's time zone; an encrypting tenant's text comes out as plain text to its token alone."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse

from conversations import protection, services
from conversations.models import Conversation, Handoff, Lead, Visitor
from integrations import api_tokens
from tests import factories
from tests.integrations.api_helpers import NOW, api_client, ids_paging_through, make_chat

pytestmark = pytest.mark.frozen_time(NOW)


@pytest.fixture
def key_a(tenant) -> str:
    return api_tokens.issue_token(tenant=tenant, name="CRM")[1]


def make_handoff(tenant, *, minutes_ago: int) -> Handoff:
    conversation = make_chat(tenant, minutes_ago=minutes_ago)
    return Handoff.objects.create(
        tenant=tenant,
        conversation=conversation,
        summary=f"Refund asked {minutes_ago}",
        visitor_email=f"v{minutes_ago}@example.fi",
        promise="The shop calls back",
        promised_by=NOW + dt.timedelta(days=1),
        created_at=NOW - dt.timedelta(minutes=minutes_ago),
    )


def make_rated_chat(tenant, *, minutes_ago: int, rating: int, comment: str = "") -> Conversation:
    conversation = make_chat(tenant, minutes_ago=minutes_ago + 5)
    Conversation.objects.filter(pk=conversation.pk).update(
        rating=rating, rating_comment=comment, rated_at=NOW - dt.timedelta(minutes=minutes_ago)
    )
    return conversation


# --- Handoff reports ----------------------------------------------------------------------------------


def test_a_token_lists_only_its_tenants_handoff_reports_newest_first(key_a, tenant, other_tenant):
    ours = [make_handoff(tenant, minutes_ago=m) for m in (30, 20, 10)]
    make_handoff(other_tenant, minutes_ago=15)

    answer = api_client(key_a).get(reverse("api:handoffs"))

    assert answer.status_code == 200
    assert [h["id"] for h in answer.json()["results"]] == [h.pk for h in reversed(ours)]
    assert answer.json()["results"][0]["summary"] == "Refund asked 10"


def test_another_tenants_handoff_report_answers_404_like_a_missing_one(key_a, tenant, other_tenant):
    theirs = make_handoff(other_tenant, minutes_ago=15)

    foreign = api_client(key_a).get(reverse("api:handoff", args=[theirs.pk]))
    missing = api_client(key_a).get(reverse("api:handoff", args=[10**9]))

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


def test_handoff_pages_are_stable_while_reports_arrive(key_a, tenant):
    older = [make_handoff(tenant, minutes_ago=m) for m in (50, 40, 30, 20, 10)]

    seen = ids_paging_through(
        api_client(key_a), reverse("api:handoffs"), meanwhile=lambda: make_handoff(tenant, minutes_ago=5)
    )

    assert seen == [h.pk for h in reversed(older)]


# --- Ratings ------------------------------------------------------------------------------------------


def test_a_token_lists_only_its_tenants_ratings_newest_first(key_a, tenant, other_tenant):
    ours = [make_rated_chat(tenant, minutes_ago=m, rating=r, comment=f"c{r}") for m, r in ((30, 5), (20, 2))]
    make_chat(tenant, minutes_ago=15)  # not rated
    make_rated_chat(other_tenant, minutes_ago=25, rating=1)

    answer = api_client(key_a).get(reverse("api:ratings"))

    assert answer.status_code == 200
    assert [(r["conversation_id"], r["rating"], r["comment"]) for r in answer.json()["results"]] == [
        (ours[1].pk, 2, "c2"),
        (ours[0].pk, 5, "c5"),
    ]


def test_rating_pages_are_stable_while_ratings_arrive(key_a, tenant):
    older = [make_rated_chat(tenant, minutes_ago=m, rating=4) for m in (50, 40, 30, 20, 10)]

    seen = ids_paging_through(
        api_client(key_a),
        reverse("api:ratings"),
        field="conversation_id",
        meanwhile=lambda: make_rated_chat(tenant, minutes_ago=1, rating=5),
    )

    assert seen == [c.pk for c in reversed(older)]


# --- KPI figures --------------------------------------------------------------------------------------

# Helsinki is UTC+2 in December: 22:30 UTC on the 13th is 00:30 on the 14th there.
JUST_AFTER_LOCAL_MIDNIGHT = int((NOW - dt.datetime(2026, 12, 13, 22, 30, tzinfo=dt.UTC)).total_seconds() // 60)
JUST_BEFORE_LOCAL_MIDNIGHT = int((NOW - dt.datetime(2026, 12, 13, 21, 30, tzinfo=dt.UTC)).total_seconds() // 60)


@pytest.fixture
def figures_chats(tenant, other_tenant):
    make_chat(tenant, minutes_ago=JUST_AFTER_LOCAL_MIDNIGHT)
    make_chat(tenant, minutes_ago=JUST_BEFORE_LOCAL_MIDNIGHT)
    make_chat(tenant, minutes_ago=60)
    make_chat(other_tenant, minutes_ago=60)


def test_figures_for_days_count_by_the_tenants_local_dates(key_a, figures_chats):
    answer = api_client(key_a).get(reverse("api:kpis"), {"from": "2026-12-14", "to": "2026-12-14"})

    assert answer.status_code == 200
    figures = answer.json()
    assert figures["chats"] == 1
    assert figures["period"]["time_zone"] == "Europe/Helsinki"
    assert figures["period"]["start"] == "2026-12-13T22:00:00+00:00"
    assert (figures["period"]["first_day"], figures["period"]["last_day"]) == ("2026-12-14", "2026-12-14")


@pytest.mark.parametrize(
    ("params", "chats", "first_day", "last_day"),
    [
        ({"week": "2026-W51"}, 2, "2026-12-14", "2026-12-20"),
        ({"week": "2026-W50"}, 1, "2026-12-07", "2026-12-13"),
        ({"month": "2026-12"}, 3, "2026-12-01", "2026-12-31"),
        ({"from": "2026-12-13", "to": "2026-12-15"}, 3, "2026-12-13", "2026-12-15"),
    ],
)
def test_figures_for_a_week_a_month_or_days(key_a, figures_chats, params, chats, first_day, last_day):
    answer = api_client(key_a).get(reverse("api:kpis"), params)

    assert answer.status_code == 200, answer.json()
    assert answer.json()["chats"] == chats
    assert (answer.json()["period"]["first_day"], answer.json()["period"]["last_day"]) == (first_day, last_day)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "period"),
        ({"from": "2026-12-14"}, "to"),
        ({"from": "2026-12-15", "to": "2026-12-14"}, "to"),
        ({"from": "14.12.2026", "to": "2026-12-15"}, "from"),
        ({"week": "2026-51"}, "week"),
        ({"week": "2026-W60"}, "week"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-12", "week": "2026-W51"}, "period"),
        ({"from": "2020-01-01", "to": "2026-12-15"}, "to"),
        # at the ends of the calendar: refused, never a server error
        ({"week": "9999-W52"}, "week"),
        ({"month": "9999-12"}, "month"),
        ({"from": "2026-12-01", "to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01", "to": "0001-01-01"}, "from"),
    ],
)
def test_a_period_that_cannot_be_read_answers_400_naming_it(key_a, params, field):
    answer = api_client(key_a).get(reverse("api:kpis"), params)

    assert answer.status_code == 400
    assert field in answer.json()


def test_a_tenant_parameter_does_not_change_whose_figures_they_are(key_a, figures_chats, other_tenant):
    params = {"month": "2026-12", "tenant": other_tenant.pk, "tenant_id": other_tenant.pk}

    answer = api_client(key_a).get(reverse("api:kpis"), params)

    assert answer.json()["tenant_id"] != other_tenant.pk
    assert answer.json()["chats"] == 3


# --- An encrypting tenant ------------------------------------------------------------------------------

SECRET_WORDS = "Kotiosoitteeni on Salaisuudenkatu 7"


@pytest.fixture
def vault(db, settings):
    settings.CHATOPS_ENCRYPTION_KEYS = f"k1:{Fernet.generate_key().decode()}"
    return factories.make_tenant(name="Vault", slug="vault", encrypt_messages=True, stored_encrypted=True)


def test_an_encrypting_tenants_text_comes_out_plain_to_its_token_only(vault, tenant):
    # given a chat of the encrypting tenant, its text stored encrypted
    visitor = Visitor.objects.create(tenant=vault)
    conversation = services.start_conversation(tenant=vault, visitor=visitor, route=False)
    services.post_visitor_message(conversation=conversation, body=SECRET_WORDS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM conversations_message WHERE conversation_id = %s", [conversation.pk])
        [(stored,)] = cursor.fetchall()
    assert SECRET_WORDS not in stored

    lead = Lead.objects.create(
        tenant=vault,
        conversation=conversation,
        email=protection.seal_for(vault, "maija@example.fi"),
        wants=protection.protect_for(vault, SECRET_WORDS),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT email, wants FROM conversations_lead WHERE id = %s", [lead.pk])
        assert "maija@example.fi" not in cursor.fetchone()

    # when its token and another tenant's ask for it
    vault_key = api_tokens.issue_token(tenant=vault, name="CRM")[1]
    other_key = api_tokens.issue_token(tenant=tenant, name="CRM")[1]
    ours = api_client(vault_key).get(reverse("api:conversation", args=[conversation.pk]))
    our_leads = api_client(vault_key).get(reverse("api:leads"))
    theirs = api_client(other_key).get(reverse("api:conversation", args=[conversation.pk]))
    their_leads = api_client(other_key).get(reverse("api:leads"))

    # then only the tenant's own token reads the plain text
    assert [m["body"] for m in ours.json()["messages"]] == [SECRET_WORDS]
    assert [(row["email"], row["wants"]) for row in our_leads.json()["results"]] == [("maija@example.fi", SECRET_WORDS)]
    assert theirs.status_code == 404
    assert their_leads.json()["results"] == []
    assert SECRET_WORDS not in theirs.content.decode() + their_leads.content.decode()


# --- Filtered by time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "make"),
    [
        ("api:leads", lambda tenant, m: make_chat(tenant, minutes_ago=m, lead=True).lead.pk),
        ("api:conversations", lambda tenant, m: make_chat(tenant, minutes_ago=m).pk),
        ("api:handoffs", lambda tenant, m: make_handoff(tenant, minutes_ago=m).pk),
    ],
)
def test_a_list_filtered_by_time_holds_the_rows_from_since_until_before_until(key_a, tenant, route, make):
    # given rows 50, 40, 30, 20 and 10 minutes ago
    ids = {m: make(tenant, m) for m in (50, 40, 30, 20, 10)}
    since, until = NOW - dt.timedelta(minutes=40), NOW - dt.timedelta(minutes=10)

    # when
    seen = ids_paging_through(
        api_client(key_a), reverse(route), params={"since": since.isoformat(), "until": until.isoformat()}
    )

    # then: from since (included) to until (excluded), newest first, over every page
    assert seen == [ids[20], ids[30], ids[40]]


def test_ratings_filtered_by_time_go_by_when_they_were_given(key_a, tenant):
    rated = {m: make_rated_chat(tenant, minutes_ago=m, rating=5).pk for m in (30, 20, 10)}

    answer = api_client(key_a).get(reverse("api:ratings"), {"since": (NOW - dt.timedelta(minutes=25)).isoformat()})

    assert [r["conversation_id"] for r in answer.json()["results"]] == [rated[10], rated[20]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-12-15T09:00:00"}, "until"),  # no offset: whose 9 o'clock?
        ({"since": "2026-12-15T09:00:00+00:00", "until": "2026-12-14T09:00:00+00:00"}, "until"),
        ({"since": "0001-01-01T00:00:00+05:00"}, "since"),
        ({"until": "9999-12-31T23:59:59-05:00"}, "until"),
    ],
)
def test_a_time_filter_that_cannot_be_read_answers_400_naming_it(key_a, params, field):
    answer = api_client(key_a).get(reverse("api:leads"), params)

    assert answer.status_code == 400
    assert field in answer.json()
