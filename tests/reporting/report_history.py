"""A small hand-made fortnight for the report e-mail tests, with every figure worked out by hand.

The week reported is Monday 16 – Sunday 22 November 2026 (Europe/Helsinki, UTC+2); the week before
is 9 – 15 November. This week, five answered chats with first responses of 3, 5, 8, 12 and 30 s:
median 8.0 s, 3 of 5 (60 %) within the 10 s target. All five closed: resolved, lead, resolved,
escalated, resolved: 4 of 5 resolved (80 %, target 90 % missed), 1 escalated (20 %). Ratings 5, 4
and 2: CSAT 2 of 3 (67 %), 3 of 5 closed chats rated (60 %). One lead. Five visitors.
The week before: two chats with first responses of 20 and 40 s (median 30.0 s, none within
10 s), both resolved (100 %), two visitors.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from conversations.models import Conversation, Handoff
from tenants.models import Tenant
from tests.reporting.histories import add_lead, make_agent, make_chat, make_visitor

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
WEEK_FIRST_DAY = dt.date(2026, 11, 16)
WEEK_LAST_DAY = dt.date(2026, 11, 22)
PRAISE = "Nopea ja ystävällinen <b>palvelu</b>!"
SECOND_PRAISE = "Hyvä neuvonta"
COMPLAINT = "Liian hidas"
ESCALATION_SUMMARY = "Reklamaatio: väärä tilaus, asiakas haluaa hyvityksen"
LEAD_EMAIL = "juhlat@example.fi"
LEAD_WANTS = "Tarjous 20 hengen juhliin"


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=HELSINKI)


@dataclass
class History:
    praised: Conversation
    lead_chat: Conversation
    escalated: Conversation
    criticised: Conversation
    next_week: Conversation


def closed_chat(tenant: Tenant, started: dt.datetime, *, replied: float, outcome: str, agent, rating=None, comment=""):
    visitor = make_visitor(tenant, seen=started - dt.timedelta(minutes=2))
    chat = make_chat(
        tenant,
        started,
        replied=replied,
        assigned=1,
        closed=600,
        outcome=outcome,
        rating=rating,
        agent=agent,
        visitor=visitor,
    )
    if comment:
        Conversation.objects.filter(pk=chat.pk).update(
            rating_comment=comment, rated_at=started + dt.timedelta(minutes=11)
        )
        chat.refresh_from_db()
    return chat


def make_history(tenant: Tenant) -> History:
    """Write the fortnight described above into the tenant's history."""
    anna = make_agent("Anna")
    resolved, lead, escalated = Conversation.Outcome.RESOLVED, Conversation.Outcome.LEAD, Conversation.Outcome.ESCALATED
    praised = closed_chat(
        tenant, local(2026, 11, 16, 10), replied=3, outcome=resolved, agent=anna, rating=5, comment=PRAISE
    )
    lead_chat = closed_chat(tenant, local(2026, 11, 16, 14), replied=5, outcome=lead, agent=anna)
    add_lead(lead_chat, email=LEAD_EMAIL)
    lead_chat.lead.wants = LEAD_WANTS
    lead_chat.lead.name = "Maija"
    lead_chat.lead.save()
    closed_chat(
        tenant, local(2026, 11, 17, 9, 30), replied=8, outcome=resolved, agent=anna, rating=4, comment=SECOND_PRAISE
    )
    escalated_chat = closed_chat(tenant, local(2026, 11, 18, 20), replied=12, outcome=escalated, agent=anna)
    Handoff.objects.create(
        tenant=tenant,
        conversation=escalated_chat,
        agent=anna,
        summary=ESCALATION_SUMMARY,
        visitor_name="Pekka",
        visitor_email="pekka@example.fi",
        promise="Vastaus yhden työpäivän kuluessa",
        promised_by=local(2026, 11, 19, 20),
    )
    criticised = closed_chat(
        tenant, local(2026, 11, 22, 23, 30), replied=30, outcome=resolved, agent=anna, rating=2, comment=COMPLAINT
    )
    # Just after the week ends locally (still Sunday in UTC): belongs to the next week.
    next_week = closed_chat(
        tenant, local(2026, 11, 23, 0, 10), replied=1, outcome=resolved, agent=anna, rating=5, comment="Seuraava viikko"
    )
    # The week before.
    closed_chat(tenant, local(2026, 11, 10, 12), replied=20, outcome=resolved, agent=anna)
    closed_chat(tenant, local(2026, 11, 12, 12), replied=40, outcome=resolved, agent=anna)
    return History(
        praised=praised, lead_chat=lead_chat, escalated=escalated_chat, criticised=criticised, next_week=next_week
    )
