"""Time the KPIs on a large history in PostgreSQL and print the figures against a baseline.

Builds its own database: 50 tenants in several time zones and languages, 100,000 conversations over
13 weeks (evening peaks, first responses slower at busy hours, outcomes, ratings, leads, invitations,
offline messages), 1,000,000 messages, and visitors with their page views (by default 10 visitors per
chat). Loads the oldest 4 weeks first and times a dashboard refresh (one tenant's today and this
week so far), then the other 9 weeks, and times:

- the baseline: one ``SELECT tenant_id, count(*) FROM conversations_message GROUP BY tenant_id``;
- one tenant's figures for the last whole month (the busiest tenant, ``kpis_for_tenant``);
- all tenants' figures for the last whole month at once (``kpis_for_tenants``), query by query;
- the dashboard refresh again, now on three times the history, at the same weekday and hour;

and counts the queries for 1, 10 and 50 tenants. Every figure is timed warm: one untimed run, then
``--repeat`` rounds in which the figures take turns (median and max of each). The load needs a
superuser (no foreign-key triggers while copying); it takes about 70 s on 2 cores.

    .venv/bin/python bench/kpi_scale.py                      # build (drops the database) and time
    .venv/bin/python bench/kpi_scale.py --reuse --explain    # time again; print the plans too

``--database-url`` (default postgres://postgres@127.0.0.1:5432/chatops_bench) names the bench database;
it is dropped and created again unless ``--reuse`` is given (then it is created only if missing, and
built only if it holds no bench tenants). Talks only to that PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/chatops_bench"
SLUG_PREFIX = "kpi-bench-"
FIRST_LOAD_DAYS = 28  # history when the dashboard is timed the first time
AIM_RATIO, AIM_SECONDS = 5.0, 2.0
FLAT_WITHIN = 1.5  # a refresh "does not grow with history" if the longer history's median is within this

# (zone, language, share of tenants); zones on both sides of the October and November DST changes.
ZONES = (
    ("Europe/Helsinki", "fi", 14),
    ("Europe/Warsaw", "pl", 12),
    ("Europe/London", "en", 8),
    ("Europe/Berlin", "en", 5),
    ("America/New_York", "en", 5),
    ("America/Los_Angeles", "en", 2),
    ("Asia/Tokyo", "en", 2),
    ("Australia/Sydney", "en", 2),
)
# Relative arrivals by local hour: a morning rise, a lunch plateau and the evening peak of web shops.
# fmt: off
HOURLY = (
    0.3, 0.15, 0.08, 0.05, 0.05, 0.1, 0.25, 0.5, 0.85, 1.0, 1.1, 1.2,
    1.25, 1.2, 1.15, 1.15, 1.25, 1.45, 1.8, 2.2, 2.4, 2.2, 1.5, 0.8,
)
# fmt: on
WEEKDAY_FACTORS = (1.0, 1.0, 0.97, 0.95, 0.9, 0.75, 0.7)
OUTCOMES = (("resolved", 60), ("lead", 9), ("booking", 6), ("sale", 4), ("escalated", 9), ("spam", 4))
RATINGS = ((5, 55), (4, 21), (3, 10), (2, 5), (1, 9))
TARGETS = (10, 10, 10, 10, 15, 20, 30)  # first response targets in seconds, most tenants the default
PAGES = (
    ("/", "Home"),
    ("/products", "Products"),
    ("/products/winter-collection", "Winter collection"),
    ("/pricing", "Pricing"),
    ("/delivery", "Delivery and returns"),
    ("/contact", "Contact"),
    ("/blog/how-to-choose", "How to choose"),
    ("/checkout", "Checkout"),
)
LINES = {
    "en": (
        "Hi, is the winter jacket still available in size M?",
        "Hello! Yes, we have it in stock. Would you like me to reserve one?",
        "How long does delivery take to London?",
        "Usually two to three working days; express is next day.",
        "Can I return it if it does not fit?",
        "Of course, returns are free within 30 days.",
        "Great, thanks for the help!",
        "You're welcome, have a nice evening!",
    ),
    "fi": (
        "Hei, onko talvitakkia vielä koossa M?",
        "Hei! Kyllä on, varaanko sinulle yhden?",
        "Kauanko toimitus kestää Tampereelle?",
        "Yleensä kahdesta kolmeen arkipäivää, pikatoimitus seuraavana päivänä.",
        "Voinko palauttaa sen, jos se ei sovi?",
        "Totta kai, palautus on maksuton 30 päivän ajan.",
        "Kiitos avusta!",
        "Ole hyvä, mukavaa iltaa!",
    ),
    "pl": (
        "Dzień dobry, czy kurtka zimowa jest jeszcze w rozmiarze M?",
        "Dzień dobry! Tak, mamy ją na stanie. Zarezerwować jedną?",
        "Jak długo trwa dostawa do Krakowa?",
        "Zwykle dwa do trzech dni roboczych, ekspresowo następnego dnia.",
        "Czy mogę ją zwrócić, jeśli nie będzie pasować?",
        "Oczywiście, zwrot jest bezpłatny przez 30 dni.",
        "Świetnie, dziękuję za pomoc!",
        "Proszę bardzo, miłego wieczoru!",
    ),
}


def say(text: str) -> None:
    """Print progress to stderr, so stdout carries only the figures."""
    print(text, file=sys.stderr, flush=True)


# --- The history to build ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    tenants: int = 50
    conversations: int = 100_000
    messages: int = 1_000_000
    days: int = 91
    visitors_per_chat: float = 10.0
    agents: int = 40
    seed: int = 5


@dataclass
class TenantPlan:
    id: int
    slug: str
    zone: zoneinfo.ZoneInfo
    language: str
    weight: float
    opens: int
    closes: int
    agent_ids: list[int]
    rule_id: int
    frt_median: float


@dataclass(eq=False)
class VisitorPlan:
    tenant: TenantPlan
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    chats: int = 0
    id: int | None = None


@dataclass(eq=False)
class ChatPlan:
    tenant: TenantPlan
    visitor: VisitorPlan
    started_at: dt.datetime
    origin: str
    returning: bool
    wrote_at: dt.datetime | None = None
    assigned_at: dt.datetime | None = None
    replied_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    status: str = "waiting"
    outcome: str = ""
    rating: int | None = None
    rated_at: dt.datetime | None = None
    agent_id: int | None = None
    messages: int = 0
    lead: tuple[str, str, str] | None = None
    pages: list[tuple[str, str, dt.datetime]] = field(default_factory=list)
    id: int | None = None


@dataclass
class History:
    """The planned conversations, oldest first, over [start, now)."""

    scale: Scale
    now: dt.datetime
    start: dt.datetime
    tenants: list[TenantPlan]
    chats: list[ChatPlan]


def weighted(rng: random.Random, choices: Sequence[tuple[object, float]]):
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def create_tenants(scale: Scale, *, rng: random.Random, now: dt.datetime) -> list[TenantPlan]:
    """Create the tenants, agents trained for them and one invitation rule each; return their plans."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from tenants.models import ProactiveRule, Tenant
    from workforce.models import Agent, Qualification

    zones = [(zone, language) for zone, language, share in ZONES for _ in range(share)]
    contract = (now - dt.timedelta(days=scale.days + 60)).date()
    tenants = Tenant.objects.bulk_create(
        Tenant(
            name=f"KPI bench {n:02d}",
            slug=f"{SLUG_PREFIX}{n:02d}",
            status=Tenant.Status.LIVE,
            time_zone=zones[(n * 7) % len(zones)][0],
            language=zones[(n * 7) % len(zones)][1],
            contract_signed_on=contract,
            go_live_target=contract + dt.timedelta(days=30),
            went_live_at=now - dt.timedelta(days=scale.days + 10),
            first_response_target_seconds=TARGETS[n % len(TARGETS)],
            resolution_target_percent=90,
            allowed_origins=f"https://www.{SLUG_PREFIX}{n:02d}.example",
        )
        for n in range(1, scale.tenants + 1)
    )
    password = make_password(None)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{SLUG_PREFIX}agent-{n:02d}", password=password) for n in range(scale.agents)
    )
    agents = Agent.objects.bulk_create(
        Agent(user=user, display_name=f"Agent {n:02d}", max_concurrent_chats=rng.choice((3, 4, 5)))
        for n, user in enumerate(users)
    )
    trained = {
        tenant.pk: rng.sample(agents, k=min(len(agents), rng.randint(4, 10))) if agents else [] for tenant in tenants
    }
    Qualification.objects.bulk_create(
        Qualification(agent=agent, tenant_id=tenant_id, training_started_on=contract, training_completed_on=contract)
        for tenant_id, trained_agents in trained.items()
        for agent in trained_agents
    )
    rules = ProactiveRule.objects.bulk_create(
        ProactiveRule(
            tenant=tenant, name="Pricing page, 30 s", url_pattern="*/pricing*", message="Questions about prices?"
        )
        for tenant in tenants
    )
    hours = ((8, 22), (8, 22), (7, 23), (9, 21), (0, 24))
    plans = []
    for rank, (tenant, rule) in enumerate(zip(tenants, rules, strict=True), start=1):
        opens, closes = hours[rank % len(hours)]
        plans.append(
            TenantPlan(
                id=tenant.pk,
                slug=tenant.slug,
                zone=zoneinfo.ZoneInfo(tenant.time_zone),
                language=tenant.language,
                weight=rank**-0.6,  # a few large clients, many small ones
                opens=opens,
                closes=closes,
                agent_ids=[agent.pk for agent in trained[tenant.pk]],
                rule_id=rule.pk,
                frt_median=rng.uniform(5, 9),
            )
        )
    return plans


def split_exactly(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to the weights into whole numbers that add up to it exactly."""
    whole = sum(weights)
    shares = [total * weight / whole for weight in weights]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _local_days(tenant: TenantPlan, start: dt.datetime, now: dt.datetime) -> list[dt.date]:
    first, last = start.astimezone(tenant.zone).date(), now.astimezone(tenant.zone).date()
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _start_moments(tenant: TenantPlan, count: int, *, start, now, rng: random.Random) -> list[dt.datetime]:
    """Draw ``count`` chat starts in [start, now): weekday and hour-of-day weights in the tenant's zone."""
    days = _local_days(tenant, start, now)
    day_weights = [WEEKDAY_FACTORS[day.weekday()] for day in days]
    moments: list[dt.datetime] = []
    while len(moments) < count:
        missing = count - len(moments)
        for day, hour in zip(
            rng.choices(days, weights=day_weights, k=missing),
            rng.choices(range(24), weights=HOURLY, k=missing),
            strict=True,
        ):
            local = dt.datetime.combine(day, dt.time(hour), tzinfo=tenant.zone)
            moment = (local + dt.timedelta(seconds=rng.uniform(0, 3600))).astimezone(dt.UTC)
            if start <= moment < now:
                moments.append(moment)
    return moments


def _seconds(value: float) -> dt.timedelta:
    return dt.timedelta(seconds=value)


def _play(chat: ChatPlan, *, now: dt.datetime, rng: random.Random) -> None:
    """Fill in what happened in the chat: first message, assignment, first response, close, outcome."""
    tenant, start = chat.tenant, chat.started_at
    local_hour = start.astimezone(tenant.zone).hour
    if chat.origin == "offline":
        chat.wrote_at = start + _seconds(rng.uniform(30, 180))
        if rng.random() < 0.85:  # the next shift answers after opening
            chat.replied_at = start + dt.timedelta(hours=rng.uniform(6, 14))
            chat.assigned_at = chat.replied_at - _seconds(rng.uniform(30, 600))
            chat.closed_at = chat.replied_at + _seconds(rng.lognormvariate(math.log(240), 0.6))
    else:
        if rng.random() < (0.95 if chat.origin == "reactive" else 0.88):
            chat.wrote_at = start + _seconds(rng.uniform(3, 40))
        chat.assigned_at = start + _seconds(rng.lognormvariate(math.log(2), 0.8))
        busy = (HOURLY[local_hour] / 1.0) ** 0.5  # slower first responses at the evening peak
        if chat.wrote_at is None:
            chat.closed_at = start + _seconds(rng.uniform(120, 900))
        elif rng.random() < 0.03:  # the visitor left before anyone answered
            chat.closed_at = chat.wrote_at + _seconds(rng.uniform(60, 600))
        else:
            first_response = rng.lognormvariate(math.log(tenant.frt_median * busy), 0.75)
            earliest = (chat.assigned_at - chat.wrote_at).total_seconds() + 1
            chat.replied_at = chat.wrote_at + _seconds(max(first_response, earliest))
            chat.closed_at = chat.replied_at + _seconds(rng.lognormvariate(math.log(360), 0.7))
    if tenant.agent_ids and chat.assigned_at is not None:
        chat.agent_id = rng.choice(tenant.agent_ids)
    _close(chat, now=now, rng=rng)


def _close(chat: ChatPlan, *, now: dt.datetime, rng: random.Random) -> None:
    if chat.wrote_at is not None and chat.wrote_at >= now:
        chat.wrote_at = chat.replied_at = None
    if chat.closed_at is None or chat.closed_at >= now:
        chat.closed_at = None
        answered = chat.replied_at is not None and chat.replied_at < now
        chat.replied_at = chat.replied_at if answered else None
        chat.assigned_at = chat.assigned_at if chat.assigned_at is not None and chat.assigned_at < now else None
        chat.status = "active" if chat.assigned_at else "waiting"
        if chat.assigned_at is None:
            chat.agent_id = None
        return
    chat.status = "closed"
    if chat.wrote_at is None:
        chat.outcome = "spam"
    elif chat.replied_at is None:
        chat.outcome = "escalated" if rng.random() < 0.6 else "spam"
    else:
        chat.outcome = weighted(rng, OUTCOMES)
    if chat.outcome != "spam" and chat.replied_at is not None and rng.random() < 0.28:
        chat.rating = weighted(rng, RATINGS)
        chat.rated_at = chat.closed_at + _seconds(rng.uniform(5, 600))
        if chat.rated_at >= now:
            chat.rating = chat.rated_at = None
    if chat.outcome == "lead" and rng.random() < 0.92:
        email = f"visitor{rng.randrange(10**6)}@mail.example" if rng.random() < 0.85 else ""
        phone = f"+358 40 {rng.randrange(10**7):07d}" if not email or rng.random() < 0.3 else ""
        chat.lead = ("A visitor", email, phone)


def _raw_message_count(chat: ChatPlan, rng: random.Random) -> int:
    if chat.wrote_at is None:
        return 1 if chat.origin == "proactive" else 0  # the invitation only
    if chat.replied_at is None:
        return rng.randint(1, 3)
    if chat.origin == "offline":
        return 2
    return 2 + min(40, int(rng.expovariate(1 / 9)))


def _assign_message_counts(chats: list[ChatPlan], total: int, rng: random.Random) -> None:
    """Give each chat a number of messages, the sum exactly ``total``: conversations scale, others stay."""
    for chat in chats:
        chat.messages = _raw_message_count(chat, rng)
    conversations = [chat for chat in chats if chat.replied_at is not None and chat.origin != "offline"]
    fixed = sum(chat.messages for chat in chats) - sum(chat.messages for chat in conversations)
    if not conversations or total - fixed < 2 * len(conversations):
        raise ValueError(f"{total} messages are too few for {len(chats)} conversations.")
    extra = split_exactly(total - fixed - 2 * len(conversations), [chat.messages - 1.5 for chat in conversations])
    for chat, more in zip(conversations, extra, strict=True):
        chat.messages = 2 + more


def _visit(chat: ChatPlan, rng: random.Random) -> None:
    """The page views of the visit the chat started on, the last a few seconds before it."""
    site = f"https://www.{chat.tenant.slug}.example"
    moment = chat.started_at - _seconds(rng.uniform(5, 60))
    pages = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        path, title = rng.choice(PAGES)
        pages.append((site + path, title, moment))
        moment -= _seconds(rng.uniform(20, 180))
    chat.pages = pages[::-1]


def plan_history(scale: Scale, tenants: list[TenantPlan], *, now: dt.datetime) -> History:
    """Plan every conversation of the history, with its visitor, page views and messages (no database)."""
    rng = random.Random(scale.seed)
    start = now - dt.timedelta(days=scale.days)
    chats: list[ChatPlan] = []
    for tenant, count in zip(tenants, split_exactly(scale.conversations, [t.weight for t in tenants]), strict=True):
        visitors: list[VisitorPlan] = []
        for moment in sorted(_start_moments(tenant, count, start=start, now=now, rng=rng)):
            local_hour = moment.astimezone(tenant.zone).hour
            if not tenant.opens <= local_hour < tenant.closes:
                origin = "offline"
            else:
                origin = "proactive" if rng.random() < 0.15 else "reactive"
            returning = bool(visitors) and rng.random() < 0.1
            if returning:
                visitor = rng.choice(visitors[-200:])
            else:
                visitor = VisitorPlan(tenant=tenant, first_seen_at=moment, last_seen_at=moment)
                visitors.append(visitor)
            visitor.chats += 1
            chat = ChatPlan(tenant=tenant, visitor=visitor, started_at=moment, origin=origin, returning=returning)
            _play(chat, now=now, rng=rng)
            _visit(chat, rng)
            if not returning:
                visitor.first_seen_at = chat.pages[0][2]
            visitor.last_seen_at = chat.started_at
            chats.append(chat)
    chats.sort(key=lambda chat: chat.started_at)
    _assign_message_counts(chats, scale.messages, rng)
    return History(scale=scale, now=now, start=start, tenants=tenants, chats=chats)


# --- Loading -------------------------------------------------------------------------------------


def _reserve_ids(cursor, table: str, count: int) -> list[int]:
    """Take ``count`` ids from the table's sequence, so rows can be copied with their ids."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return sorted(row[0] for row in cursor.fetchall())


def _copy(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    quoted = ", ".join(f'"{column}"' for column in columns)  # "returning" is a keyword
    with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


NO_CONTACT = ("", "", "")  # a visitor's name, e-mail and phone until they give them


def _copy_visitors(cursor, chats: list[ChatPlan], rng: random.Random) -> None:
    new = list({id(chat.visitor): chat.visitor for chat in chats if chat.visitor.id is None}.values())
    for visitor, visitor_id in zip(new, _reserve_ids(cursor, "conversations_visitor", len(new)), strict=True):
        visitor.id = visitor_id
    _copy(
        cursor,
        "conversations_visitor",
        ("id", "tenant_id", "public_id", "first_seen_at", "last_seen_at", "name", "email", "phone"),
        (
            (
                v.id,
                v.tenant.id,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                v.first_seen_at,
                v.last_seen_at,
                *NO_CONTACT,
            )
            for v in new
        ),
    )


CONVERSATION_COLUMNS = (
    *("id", "tenant_id", "visitor_id", "agent_id", "status", "origin", "started_at", "first_visitor_message_at"),
    *("assigned_at", "first_agent_reply_at", "closed_at", "outcome", "summary", "rating", "rating_comment"),
    *("last_seq", "ip_address", "proactive_rule_id", "rated_at"),
)


def _copy_conversations(cursor, chats: list[ChatPlan], rng: random.Random) -> None:
    for chat, chat_id in zip(chats, _reserve_ids(cursor, "conversations_conversation", len(chats)), strict=True):
        chat.id = chat_id
    columns = CONVERSATION_COLUMNS
    _copy(
        cursor,
        "conversations_conversation",
        columns,
        (
            (
                c.id,
                c.tenant.id,
                c.visitor.id,
                c.agent_id,
                c.status,
                c.origin,
                c.started_at,
                c.wrote_at,
                c.assigned_at,
                c.replied_at,
                c.closed_at,
                c.outcome,
                "Asked about delivery times." if c.outcome in ("escalated", "lead") else "",
                c.rating,
                "",
                c.messages,
                f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}",  # the range set aside for benchmarks
                c.tenant.rule_id if c.origin == "proactive" else None,
                c.rated_at,
            )
            for c in chats
        ),
    )


def _copy_page_views_and_leads(cursor, chats: list[ChatPlan]) -> None:
    _copy(
        cursor,
        "conversations_pageview",
        ("tenant_id", "visitor_id", "url", "title", "viewed_at", "returning"),
        ((c.tenant.id, c.visitor.id, url, title, at, c.returning) for c in chats for url, title, at in c.pages),
    )
    _copy(
        cursor,
        "conversations_lead",
        ("tenant_id", "conversation_id", "name", "email", "phone", "wants", "created_at"),
        ((c.tenant.id, c.id, *c.lead, "A quote for ten jackets", c.closed_at) for c in chats if c.lead),
    )


# Browsing visitors who never chat, and the page views of their visits; drawn in the database.
# A visitor's visit and page counts come from a hash of its id (a volatile random() inside a LATERAL
# function would be evaluated once, not per visitor).
BROWSERS_SQL = """
WITH new AS (
    INSERT INTO conversations_visitor (tenant_id, public_id, first_seen_at, last_seen_at, name, email, phone)
    SELECT tenant_id, gen_random_uuid(), moment, moment, '', '', ''
    FROM (
        SELECT p.tenant_id,
               ((p.first_day + floor(random() * p.days)::integer)::timestamp
                + (%(hours)s::integer[])[1 + floor(random() * cardinality(%(hours)s::integer[]))::integer]
                  * interval '1 hour'
                + random() * interval '1 hour') AT TIME ZONE p.zone AS moment
        FROM unnest(%(tenant_ids)s::bigint[], %(zones)s::text[], %(first_days)s::date[], %(days)s::integer[],
                    %(counts)s::integer[]) AS p(tenant_id, zone, first_day, days, n)
        CROSS JOIN LATERAL generate_series(1, p.n)
        OFFSET 0
    ) AS drawn
    WHERE moment >= %(since)s AND moment < %(until)s
    RETURNING id, tenant_id, first_seen_at
)
INSERT INTO conversations_pageview (tenant_id, visitor_id, url, title, viewed_at, "returning")
SELECT new.tenant_id, new.id,
       'https://www.' || t.slug || '.example' || (%(paths)s::text[])[1 + mod(new.id * 7 + page.n, 8)],
       (%(titles)s::text[])[1 + mod(new.id * 7 + page.n, 8)],
       visit.began + (page.n - 1) * (interval '20 seconds' + random() * interval '150 seconds'),
       visit.visit_no > 1
FROM new
JOIN tenants_tenant t ON t.id = new.tenant_id
CROSS JOIN LATERAL (
    SELECT visit_no,
           new.first_seen_at + (visit_no - 1) * interval '1 day' * (1 + mod(new.id * 31 + visit_no, 12)) AS began
    FROM generate_series(1, 1 + (mod(new.id * 2654435761, 100) < 22)::integer
                            + (mod(new.id * 40503, 100) < 8)::integer) AS visit_no
) AS visit
CROSS JOIN LATERAL generate_series(1, 1 + mod(new.id * 97 + visit.visit_no * 13, 7) / 2) AS page(n)
WHERE visit.began < %(until)s
"""

# Each conversation's messages, numbered 1..last_seq: the visitor's first message, the agent's
# first response, then turns spread until the close (or now, for an open chat).
MESSAGES_SQL = """
INSERT INTO conversations_message (tenant_id, conversation_id, seq, sender, agent_id, body, client_msg_id, created_at)
SELECT c.tenant_id, c.id, s.seq, turn.sender,
       CASE WHEN turn.sender = 'agent' THEN c.agent_id END,
       CASE t.language
           WHEN 'fi' THEN (%(fi)s::text[])[1 + mod(c.id + s.seq, 8)]
           WHEN 'pl' THEN (%(pl)s::text[])[1 + mod(c.id + s.seq, 8)]
           ELSE (%(en)s::text[])[1 + mod(c.id + s.seq, 8)]
       END,
       CASE WHEN turn.sender = 'visitor' THEN 'v' || s.seq ELSE '' END,
       CASE
           WHEN c.first_visitor_message_at IS NULL THEN c.started_at + s.seq * interval '1 second'
           WHEN s.seq = 1 THEN c.first_visitor_message_at
           WHEN c.first_agent_reply_at IS NULL THEN c.first_visitor_message_at + (s.seq - 1) * interval '25 seconds'
           WHEN s.seq = 2 THEN c.first_agent_reply_at
           ELSE c.first_agent_reply_at
                + (coalesce(c.closed_at, %(now)s) - c.first_agent_reply_at) * ((s.seq - 2)::float8 / (c.last_seq - 1))
       END
FROM conversations_conversation c
JOIN tenants_tenant t ON t.id = c.tenant_id
CROSS JOIN LATERAL generate_series(1, c.last_seq) AS s(seq)
CROSS JOIN LATERAL (
    SELECT CASE
               WHEN c.first_visitor_message_at IS NULL THEN 'system'
               WHEN s.seq = 1 OR c.first_agent_reply_at IS NULL THEN 'visitor'
               WHEN s.seq = 2 OR mod(s.seq, 2) = 1 THEN 'agent'
               ELSE 'visitor'
           END AS sender
) AS turn
WHERE c.id = ANY(%(ids)s::bigint[])
"""


def _browsing_visitors(cursor, *, history: History, chats: list[ChatPlan], since, until) -> None:
    per_tenant = Counter(chat.tenant.id for chat in chats)
    tenants = [t for t in history.tenants if per_tenant[t.id]]
    hours = [hour for hour, weight in enumerate(HOURLY) for _ in range(round(weight * 20))]
    first_days = [since.astimezone(t.zone).date() for t in tenants]
    cursor.execute(f"SELECT setseed({history.scale.seed / 1000 % 1})")
    cursor.execute(
        BROWSERS_SQL,
        {
            "hours": hours,
            "tenant_ids": [t.id for t in tenants],
            "zones": [t.zone.key for t in tenants],
            "first_days": first_days,
            "days": [
                (until.astimezone(t.zone).date() - day).days + 1 for t, day in zip(tenants, first_days, strict=True)
            ],
            "counts": [round(per_tenant[t.id] * (history.scale.visitors_per_chat - 1)) for t in tenants],
            "since": since,
            "until": until,
            "paths": [path for path, _title in PAGES],
            "titles": [title for _path, title in PAGES],
        },
    )


def _messages(cursor, history: History, chats: list[ChatPlan]) -> None:
    lines = {language: list(texts) for language, texts in LINES.items()}
    cursor.execute(MESSAGES_SQL, {**lines, "now": history.now, "ids": [chat.id for chat in chats]})


def load(
    history: History,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    in_parallel: bool = False,
) -> int:
    """Write the planned conversations started in [since, until) and everything that belongs to them.

    Browsing visitors (and their page views) are drawn for the same range. Return the conversations
    written. Uses the default connection (COPY through psycopg 3): PostgreSQL only. ``in_parallel``
    draws the browsing visitors on a second connection at the same time (committed apart, so only
    for a database whose tenants are already committed, as the bench's are).
    """
    since, until = since or history.start, until or history.now
    chats = [chat for chat in history.chats if since <= chat.started_at < until]
    rng = random.Random(f"{history.scale.seed}-{since.isoformat()}")
    steps = [
        ("visitors who chat", lambda cursor: _copy_visitors(cursor, chats, rng)),
        ("conversations", lambda cursor: _copy_conversations(cursor, chats, rng)),
        ("their page views and leads", lambda cursor: _copy_page_views_and_leads(cursor, chats)),
        ("messages", lambda cursor: _messages(cursor, history, chats)),
    ]
    if not in_parallel:
        steps.append(
            ("browsing visitors", partial(_browsing_visitors, history=history, chats=chats, since=since, until=until))
        )
        _run_steps(steps)
        return len(chats)
    # Two more connections draw the browsing visitors, each for half of the tenants.
    halves = [[chat for chat in chats if chat.tenant.id % 2 == parity] for parity in (0, 1)]
    helpers = []
    for number, part in enumerate(halves, start=1):
        draw = partial(_browsing_visitors, history=history, chats=part, since=since, until=until)
        step = (f"browsing visitors, half {number}", draw)
        helpers.append(threading.Thread(target=_run_steps, args=([step],), kwargs={"bulk": True}))
    for helper in helpers:
        helper.start()
    _run_steps(steps)
    for helper in helpers:
        helper.join()
    return len(chats)


def _run_steps(steps: list[tuple[str, Callable]], *, bulk: bool = False) -> None:
    from django.db import connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if bulk:
                _bulk_session(cursor, local=True)
            for name, step in steps:
                began = time.perf_counter()
                step(cursor)
                say(f"  {name}: {time.perf_counter() - began:.1f} s")
    finally:
        if bulk:
            connection.close()  # this thread's own connection


BULK_TABLES = ("conversations_visitor", "conversations_pageview", "conversations_conversation", "conversations_message")
BULK_SETTINGS = (
    ("session_replication_role", "replica"),  # no foreign-key triggers
    ("jit", "off"),  # compiling each INSERT ... SELECT takes longer than it saves
    ("maintenance_work_mem", "'256MB'"),  # building the indexes afterwards
)


def _bulk_session(cursor, *, local: bool = False) -> None:
    for name, value in BULK_SETTINGS:
        cursor.execute(f"SET {'LOCAL ' if local else ''}{name} = {value}")


@contextmanager
def bulk_loading() -> Iterator[None]:
    """Load without the per-row costs, as a restore does: plain indexes built afterwards, no FK triggers.

    The unique indexes and every check constraint stay. The bench's own database only (it needs a
    superuser for ``session_replication_role``); the generated rows keep every foreign key.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND indexdef NOT LIKE %s",
            [list(BULK_TABLES), "CREATE UNIQUE INDEX %"],
        )
        indexes = cursor.fetchall()
        _bulk_session(cursor)
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        began = time.perf_counter()
        with connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            for name, _value in BULK_SETTINGS:
                cursor.execute(f"RESET {name}")
        say(f"  {len(indexes)} indexes built again: {time.perf_counter() - began:.1f} s")


def settle() -> None:
    """Bring the database to the steady state autovacuum keeps: statistics, visibility map, no dirty backlog."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(BULK_TABLES)}")
        cursor.execute("ANALYZE")
        cursor.execute("CHECKPOINT")
    say(f"  VACUUM ANALYZE and CHECKPOINT: {time.perf_counter() - began:.1f} s")


def rebuild_tallies(now: dt.datetime) -> float:
    """Recount the visitor tallies from the page views just loaded (as ``manage.py rebuild_visitor_tallies``)."""
    from conversations import visitor_tallies

    began = time.perf_counter()
    rebuilt = visitor_tallies.rebuild(bench_tenants(), now=now)
    seconds = time.perf_counter() - began
    say(f"  visitor tallies rebuilt: {rebuilt.tallies:,} tallies, {rebuilt.marks:,} marks in {seconds:.1f} s")
    return seconds


def tallies_complete() -> bool:
    from conversations.visitor_tallies import ALL_HISTORY

    return all(tenant.visitors_tallied_since == ALL_HISTORY for tenant in bench_tenants())


def build(scale: Scale, *, now: dt.datetime) -> History:
    """Create the tenants and plan their history; load nothing yet (see ``load``)."""
    tenants = create_tenants(scale, rng=random.Random(scale.seed), now=now)
    return plan_history(scale, tenants, now=now)


# --- Timing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    median: float
    max: float

    def __str__(self) -> str:
        return f"median {self.median * 1000:7.1f} ms, max {self.max * 1000:7.1f} ms"


def timed(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, Timing]:
    """Run each call once untimed (warm), then ``repeat`` rounds of all of them; the median and max of each.

    Taking turns within each round lets a passing load on the machine touch every figure alike, so
    the ratios between them hold better than the absolute times.
    """
    for call in calls.values():
        call()
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeat):
        for name, call in calls.items():
            began = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - began)
    return {name: Timing(statistics.median(values), max(values)) for name, values in seconds.items()}


def baseline() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tenant_id, count(*) FROM conversations_message GROUP BY tenant_id")
        cursor.fetchall()


def bench_tenants():
    from tenants.models import Tenant

    return list(Tenant.objects.filter(slug__startswith=SLUG_PREFIX).order_by("slug"))


def busiest(tenants, since: dt.datetime, until: dt.datetime):
    from django.db.models import Count

    from conversations.models import Conversation

    counts = (
        Conversation.objects.filter(tenant__in=tenants, started_at__gte=since, started_at__lt=until)
        .values("tenant_id")
        .annotate(chats=Count("pk"))
        .order_by("-chats")
    )
    top = counts.first()
    return next(t for t in tenants if t.pk == top["tenant_id"])


def last_month(tenant, now: dt.datetime):
    from reporting.periods import Kind, Period

    return Period.last_complete(Kind.MONTH, now=now, zone=tenant.zone)


def refresh(tenant, now: dt.datetime) -> Callable[[], object]:
    """A dashboard refresh: the tenant's figures for today and for this week so far."""
    from reporting.kpis import kpis_for_tenant
    from reporting.periods import Period

    today, week = Period.day(now, zone=tenant.zone), Period.week(now, zone=tenant.zone)
    return lambda: (kpis_for_tenant(tenant, today), kpis_for_tenant(tenant, week))


def captured(call: Callable[[], object]) -> list[dict]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        call()
    return context.captured_queries


QUERY_NAMES = ("visitors", "conversation totals", "weekday x hour", "daily series", "concurrency")


def query_medians(call: Callable[[], object], repeat: int) -> list[tuple[float, str]]:
    """Return each query's median time over ``repeat`` runs of the call, with its SQL."""
    runs = [captured(call) for _ in range(repeat)]
    return [(statistics.median(float(run[i]["time"]) for run in runs), runs[0][i]["sql"]) for i in range(len(runs[0]))]


def explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- The database and the report ------------------------------------------------------------------


def prepare_database(url: str, *, keep: bool) -> None:
    """Drop and create the bench database; with ``keep``, only create it if it is missing."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"Give the bench a database of its own, not {name!r}.")
    admin = f"postgresql://{parts.netloc}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if keep and exists:
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatops.settings",
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 60,
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def environment() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
        settings = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
        counts = []
        for table in (
            "tenants_tenant",
            "conversations_visitor",
            "conversations_pageview",
            "conversations_conversation",
            "conversations_message",
            "conversations_lead",
            "conversations_visitortally",
            "conversations_visitormark",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - our own table names
            counts.append(f"{table.split('_', 1)[1]} {cursor.fetchone()[0]:,}")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")),
        "0",
    )
    return [
        f"machine               {os.cpu_count()} cores, {int(memory) / 2**20:.0f} GiB, {platform.platform()}",
        f"PostgreSQL            {version}; {', '.join(settings)}",
        f"rows                  {', '.join(counts)}; database {size}",
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def monthly_line(label: str, timing: Timing, base: Timing) -> str:
    ratio = timing.median / base.median
    ok = ratio < AIM_RATIO and timing.max < AIM_SECONDS
    aim = f"(< {AIM_RATIO:.0f}x and max < {AIM_SECONDS:.0f} s: {verdict(ok)})"
    return f"{label:<22}{timing}  = {ratio:4.1f}x baseline  {aim}"


def query_line(by_query: list[tuple[float, str]]) -> str:
    medians = (f"{name} {seconds * 1000:.0f}" for name, (seconds, _sql) in zip(QUERY_NAMES, by_query, strict=False))
    return "  query medians (ms): " + "; ".join(medians)


@dataclass
class Built:
    now: dt.datetime
    load_seconds: float | None = None
    tenant: object = None  # the busiest tenant of the first weeks, whose refresh is timed twice
    first_refresh: Timing | None = None
    rebuild_seconds: float | None = None  # the visitor tallies of the whole history, from its page views


def build_and_time_first_weeks(scale: Scale, repeat: int) -> Built:
    """Build the history in two steps and time a dashboard refresh after the first (four weeks)."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    began = time.perf_counter()
    history = build(scale, now=now)
    say(f"planned {len(history.chats):,} conversations in {time.perf_counter() - began:.1f} s")
    weeks_after = (scale.days - FIRST_LOAD_DAYS) // 7
    split = now - dt.timedelta(days=7 * weeks_after)  # the same weekday and time as now
    with bulk_loading():
        load(history, until=split, in_parallel=True)
    settle()
    rebuild_tallies(split)
    say(f"loaded the first {scale.days - 7 * weeks_after} days at {time.perf_counter() - began:.1f} s")
    timing_began = time.perf_counter()
    tenant = busiest(bench_tenants(), history.start, split)
    first_refresh = timed({"refresh": refresh(tenant, split)}, repeat)["refresh"]
    timing_seconds = time.perf_counter() - timing_began
    with bulk_loading():
        load(history, since=split, in_parallel=True)
    settle()
    rebuild_seconds = rebuild_tallies(now)
    load_seconds = time.perf_counter() - began - timing_seconds
    say(f"loaded everything in {load_seconds:.1f} s")
    return Built(
        now=now, load_seconds=load_seconds, tenant=tenant, first_refresh=first_refresh, rebuild_seconds=rebuild_seconds
    )


def stored_history() -> Built:
    from conversations.models import Conversation

    # The newest chat of the whole benchmark database, whichever tenant.
    latest = Conversation.objects.unscoped().order_by("-started_at").values_list("started_at", flat=True).first()
    return Built(now=latest.replace(second=0, microsecond=0) + dt.timedelta(minutes=1))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data; only time")
    parser.add_argument("--repeat", type=int, default=9, help="timed rounds (after one warm-up)")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the month's KPI queries")
    parser.add_argument("--tenants", type=int, default=Scale.tenants)
    parser.add_argument("--conversations", type=int, default=Scale.conversations)
    parser.add_argument("--messages", type=int, default=Scale.messages)
    parser.add_argument("--days", type=int, default=Scale.days, help="days of history (13 weeks)")
    parser.add_argument("--visitors-per-chat", type=float, default=Scale.visitors_per_chat)
    parser.add_argument("--seed", type=int, default=Scale.seed)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    scale = Scale(
        tenants=args.tenants,
        conversations=args.conversations,
        messages=args.messages,
        days=args.days,
        visitors_per_chat=args.visitors_per_chat,
        seed=args.seed,
    )
    prepare_database(args.database_url, keep=args.reuse)
    setup_django(args.database_url)
    from django.core.management import call_command

    from reporting import kpis

    call_command("migrate", verbosity=0)
    reused = args.reuse and bool(bench_tenants())
    built = stored_history() if reused else build_and_time_first_weeks(scale, 3 * args.repeat)
    if reused and not tallies_complete():
        built.rebuild_seconds = rebuild_tallies(built.now)

    now, tenants = built.now, bench_tenants()
    month = last_month(tenants[0], now)
    tenant = busiest(tenants, month.start, month.end)

    def period_for(t):
        return last_month(t, now)

    one = kpis.kpis_for_tenant(tenant, last_month(tenant, now))
    times = timed(
        {
            "baseline": baseline,
            "one": lambda: kpis.kpis_for_tenant(tenant, last_month(tenant, now)),
            "all": lambda: kpis.kpis_for_tenants(tenants, period_for),
            "all_counted": lambda: kpis.kpis_for_tenants(tenants, period_for, tallies=False),
        },
        args.repeat,
    )
    last_refresh = timed({"refresh": refresh(built.tenant or tenant, now)}, 3 * args.repeat)["refresh"]
    sizes = sorted({1, min(10, len(tenants)), len(tenants)})
    queries = {n: len(captured(lambda n=n: kpis.kpis_for_tenants(tenants[:n], period_for))) for n in sizes}
    by_query = query_medians(lambda: kpis.kpis_for_tenants(tenants, period_for), args.repeat)
    one_by_query = query_medians(lambda: kpis.kpis_for_tenant(tenant, last_month(tenant, now)), args.repeat)

    for line in environment():
        print(line)
    if built.load_seconds is not None:
        print(
            f"load                  {built.load_seconds:.1f} s (plan, COPY and generated rows, indexes, VACUUM twice)"
        )
    if built.rebuild_seconds is not None:
        print(
            f"tally rebuild         {built.rebuild_seconds:.1f} s (every tenant's days, weeks and months, in the load)"
        )
    print(
        f"month                 {month} in each tenant's zone; busiest tenant {tenant.slug}: {one.chats:,} chats, "
        f"{one.visitors:,} visitors"
    )
    print(f"runs                  1 warm-up + {args.repeat} timed rounds, taking turns (dashboard {3 * args.repeat})")
    print(f"baseline GROUP BY     {times['baseline']}")
    print(monthly_line("one tenant, month", times["one"], times["baseline"]))
    print(query_line(one_by_query))
    print(monthly_line(f"{len(tenants)} tenants, month", times["all"], times["baseline"]))
    print(query_line(by_query))
    print(
        monthly_line("  without the tallies", times["all_counted"], times["baseline"])
        + "  (visitors counted from page views)"
    )
    if built.first_refresh is not None:
        growth = last_refresh.median / built.first_refresh.median
        print(
            f"dashboard, {FIRST_LOAD_DAYS:>3} days  {built.first_refresh}  "
            f"(today + this week so far, {built.tenant.slug})"
        )
        print(
            f"dashboard, {scale.days:>3} days  {last_refresh}  = {growth:.2f}x the shorter history "
            f"(within {FLAT_WITHIN}x: {verdict(growth <= FLAT_WITHIN)})"
        )
    else:
        print(f"dashboard             {last_refresh}  (today + this week so far; the history comparison needs a build)")
    flat = len(set(queries.values())) == 1
    print(
        "queries               "
        + ", ".join(f"{n} tenants {q}" for n, q in queries.items())
        + f"  (the same for any number: {verdict(flat)})"
    )
    if args.explain:
        for name, (_seconds, sql) in zip(QUERY_NAMES, by_query, strict=False):
            print(f"\n--- {name} ---\n{explain(sql)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
