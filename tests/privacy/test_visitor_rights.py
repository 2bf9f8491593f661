"""A visitor's data, found by e-mail, phone or id, handed over whole or erased with the KPIs left as they were."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import AuditEntry
from conversations import aftercare, rights, services, visits, workspace
from conversations.models import Conversation, Visitor
from conversations.outcomes import close_with_outcome
from outbox.models import OutgoingEmail
from reporting.kpis import kpis_for_tenant
from reporting.periods import Period
from tests.conversations.sockets import ready_agent

HELSINKI = dt.timezone(dt.timedelta(hours=2))
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=HELSINKI)
pytestmark = [pytest.mark.django_db, pytest.mark.frozen_time(NOW)]

MAIJA = {"name": "Maija Meikäläinen", "email": "maija@example.fi", "phone": "+358 40 765 4321"}
HER_WORDS = ["Onko teillä kassakaappeja?", "Tarvitsen ison mallin kotiin"]


def seed_maija(tenant, agent) -> Visitor:
    """Give a tenant a visitor with page views, two chats (a lead with a rating, an escalation) and a note."""
    visitor = Visitor.objects.create(tenant=tenant, first_seen_at=NOW - dt.timedelta(hours=2))
    visits.record_page_view(
        tenant=tenant, visitor=visitor, url="https://shop.example/safes", title="Safes", now=NOW - dt.timedelta(hours=2)
    )
    first = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW - dt.timedelta(hours=2))
    for words in HER_WORDS:
        services.post_visitor_message(conversation=first, body=words, now=NOW - dt.timedelta(hours=2))
    services.post_agent_message(conversation=first, agent=agent, body="Kyllä on!", now=NOW - dt.timedelta(hours=2))
    workspace.add_note(conversation=first, agent=agent, body="Maija haluaa ison", now=NOW - dt.timedelta(hours=2))
    first.refresh_from_db()
    lead = {**MAIJA, "wants": "Iso kassakaappi"}
    close_with_outcome(
        conversation=first,
        agent=agent,
        outcome="lead",
        summary="Myyntiliidi",
        lead=lead,
        now=NOW - dt.timedelta(hours=1),
    )
    aftercare.rate_conversation(
        conversation=first, rating=5, comment="Mahtavaa, Maija", now=NOW - dt.timedelta(hours=1)
    )
    aftercare.request_transcript(conversation=first, email=MAIJA["email"], now=NOW - dt.timedelta(hours=1))
    second = services.start_conversation(tenant=tenant, visitor=visitor, now=NOW - dt.timedelta(minutes=30))
    services.post_visitor_message(conversation=second, body="Toimitus myöhässä", now=NOW - dt.timedelta(minutes=30))
    services.post_agent_message(conversation=second, agent=agent, body="Selvitän", now=NOW - dt.timedelta(minutes=30))
    second.refresh_from_db()
    handoff = {
        "summary": "Maijan toimitus myöhässä",
        "visitor_name": MAIJA["name"],
        "visitor_email": MAIJA["email"],
        "visitor_phone": "",
        "promise": "Soitamme Maijalle",
        "promised_by": "2026-12-18T16:00",
    }
    close_with_outcome(
        conversation=second,
        agent=agent,
        outcome="escalated",
        summary="",
        handoff=handoff,
        now=NOW - dt.timedelta(minutes=20),
    )
    return visitor


@pytest.fixture(params=["plain", "encrypted"])
def shop(request, tenant, keys):
    """The tenant, as it is or encrypting its chats at rest."""
    if request.param == "encrypted":
        tenant.encrypt_messages = tenant.stored_encrypted = True
        tenant.save(update_fields=["encrypt_messages", "stored_encrypted"])
    return tenant


@pytest.fixture
def maija(shop, other_tenant):
    agent = ready_agent(shop)
    seed_maija(other_tenant, ready_agent(other_tenant, name="Olli"))  # the same person on another client's site
    return seed_maija(shop, agent)


def everything_of(tenant) -> str:
    """Return every text column of the tenant's rows in the chat tables, read raw, as one string."""
    texts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if not table.startswith("conversations_"):
                continue
            columns = connection.introspection.get_table_description(cursor, table)
            if "tenant_id" not in {column.name for column in columns}:
                continue
            for column in columns:
                if column.type_code in (25, 1043):  # text, varchar
                    cursor.execute(f"SELECT {column.name} FROM {table} WHERE tenant_id = %s", [tenant.pk])  # noqa: S608
                    texts += [str(row[0]) for row in cursor.fetchall()]
    return "\n".join(texts)


@pytest.mark.parametrize("search", [rights.Search(email="MAIJA@example.fi"), rights.Search(phone="040 765 4321"), None])
def test_a_visitor_is_found_by_email_phone_or_id(maija, shop, search):
    search = search or rights.Search(visitor_id=str(maija.public_id))

    found = rights.find_visitors(search=search, tenant=shop)

    assert found == [maija]


def test_the_export_holds_everything_the_visitor_left(maija, shop):
    archive = zipfile.ZipFile(io.BytesIO(rights.export_archive(visitors=[maija], now=NOW)))

    data = json.loads(archive.read("visitor-data.json"))
    assert [v["email"] for v in data["visitors"]] == [MAIJA["email"]]
    assert [p["url"] for p in data["page_views"]] == ["https://shop.example/safes"]
    assert len(data["conversations"]) == 2
    bodies = [m["body"] for m in data["messages"]]
    assert all(words in bodies for words in [*HER_WORDS, "Toimitus myöhässä", "Kyllä on!"])
    assert [(r["rating"], r["rating_comment"]) for r in data["ratings"]] == [(5, "Mahtavaa, Maija")]
    assert [(lead["phone"], lead["wants"]) for lead in data["leads"]] == [(MAIJA["phone"], "Iso kassakaappi")]
    assert [h["promise"] for h in data["handoffs"]] == ["Soitamme Maijalle"]
    assert [n["body"] for n in data["notes"]] == ["Maija haluaa ison"]
    assert [t["email"] for t in data["transcript_requests"]] == [MAIJA["email"]]
    # and each kind is a CSV too, with the same rows
    messages_csv = list(csv.DictReader(io.StringIO(archive.read("messages.csv").decode())))
    assert [row["body"] for row in messages_csv] == bodies
    assert set(archive.namelist()) == {"visitor-data.json", *(f"{kind}.csv" for kind in rights.EXPORTED)}


def test_an_erasure_leaves_nothing_of_the_visitor_and_the_kpis_as_they_were(maija, shop, other_tenant):
    period = Period.days(NOW.date() - dt.timedelta(days=1), NOW.date(), zone=shop.zone)
    before = kpis_for_tenant(shop, period)
    chats = list(Conversation.objects.filter(visitor=maija).values_list("pk", flat=True))
    assert OutgoingEmail.objects.filter(reference__in=[f"conversation:{pk}" for pk in chats]).exists()

    erased = rights.erase_visitors(visitors=[maija])

    # then none of her words, contact details or pages is left in any form for this tenant
    stored = everything_of(shop)
    her_data = [*HER_WORDS, "Toimitus", "kassakaappi", "Mahtavaa", "Soitamme", "Maija", "maija@", "765 4321", "/safes"]
    assert [words for words in her_data if words in stored] == []
    assert not OutgoingEmail.objects.filter(reference__in=[f"conversation:{pk}" for pk in chats]).exists()
    assert rights.find_visitors(search=rights.Search(email=MAIJA["email"]), tenant=shop) == []
    assert (erased.visitors, erased.conversations) == (1, 2)
    # and the other client's copy of her is untouched
    assert len(rights.find_visitors(search=rights.Search(email=MAIJA["email"]), tenant=other_tenant)) == 1
    # and the KPIs count as before
    assert kpis_for_tenant(shop, period) == before


def test_the_admin_page_finds_exports_and_erases_and_logs_each_request(maija, shop, client, ops_manager):
    client.force_login(ops_manager)
    url = reverse("admin:visitor-data")

    page = client.get(url, {"email": MAIJA["email"], "tenant": shop.pk})
    assert page.status_code == 200 and MAIJA["email"] in page.content.decode()
    export = client.post(url, {"email": MAIJA["email"], "tenant": shop.pk, "export": "1"})
    assert export["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(export.content)).read("visitor-data.json")
    refused = client.post(url, {"email": MAIJA["email"], "tenant": shop.pk, "erase": "1"})
    assert refused.status_code == 302 and rights.find_visitors(search=rights.Search(email=MAIJA["email"]), tenant=shop)
    client.post(url, {"email": MAIJA["email"], "tenant": shop.pk, "erase": "1", "confirm": "erase"})

    assert rights.find_visitors(search=rights.Search(email=MAIJA["email"]), tenant=shop) == []
    log = list(AuditEntry.objects.order_by("pk").values_list("action", "actor", "tenant_id", "object_id"))
    wanted = [("searched", ops_manager.username, shop.pk, str(maija.pk))]
    wanted += [("exported", ops_manager.username, shop.pk, str(maija.pk))]
    assert log[:2] == wanted
    assert ("erased", ops_manager.username, shop.pk, str(maija.pk)) in log


def test_someone_who_is_not_an_operations_manager_cannot_open_the_page(client, agent):
    client.force_login(agent.user)

    response = client.get(reverse("admin:visitor-data"), {"email": MAIJA["email"]})

    assert response.status_code == 302
    assert not AuditEntry.objects.exists()
