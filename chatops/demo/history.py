"""Eight weeks of a live client's traffic, drawn at random: who came, what they read, what they said.

This decides what happened and nothing else: it writes no rows. Visits arrive hour by hour as a
Poisson process that follows the client's local clock, weekday and growth; some visitors chat, in
service hours live (some after an invitation) and outside them by leaving a message; each chat is a
script of lines with their moments, the agent on shift who took it, how it ended and what came
after (a rating, a transcript, the handoff report's e-mail). ``replay`` then makes it so through the
services. Everything is drawn from a seed and the moment of seeding, so the same moment gives the
same history.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from dataclasses import dataclass, field

from chatops.demo.description import ChatScript, Demo, Exchange, MailFailure, Promise, TenantSpec, Topic, ascii_words
from chatops.demo.setup import local_moment
from chatops.demo.shifts import OpenHours
from conversations.models import Conversation, Message
from tenants.proactive import url_matches
from workforce.models import Shift

LIVE, OFFLINE, BROWSE = "live", "offline", "browse"
RESOLVED = Conversation.Outcome.RESOLVED
LEAD = Conversation.Outcome.LEAD
ESCALATED = Conversation.Outcome.ESCALATED
SPAM = Conversation.Outcome.SPAM
VISITOR_LEFT = Conversation.Outcome.VISITOR_LEFT
# The last minutes are left empty, so every chat of the history has ended.
QUIET_BEFORE_NOW = dt.timedelta(minutes=15)
# A visitor comes back at the earliest this long after they were last seen.
RETURNS_AFTER = dt.timedelta(hours=1)
# Returning visitors are drawn from this many of the latest visitors (the last weeks).
RECENT_VISITORS = 2000


@dataclass(frozen=True)
class Person:
    """Who a visitor says they are, whenever they are asked (always the same)."""

    name: str
    email: str
    phone: str


@dataclass
class PlannedVisitor:
    index: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    person: Person | None = None
    # Whether the visitor's address is on record (a lead, a handoff report, the message form): a transcript
    # is sent to it.
    address_on_record: bool = False


@dataclass(frozen=True)
class Line:
    at: dt.datetime
    sender: str
    text: str


@dataclass
class PlannedChat:
    """One chat from its start to what came after it."""

    visitor: PlannedVisitor
    origin: str
    started_at: dt.datetime
    lines: list[Line] = field(default_factory=list)
    invitation: str = ""
    agent: str = ""
    assigned_at: dt.datetime | None = None
    outcome: str = ""
    summary: str = ""
    # When the visitor closed the last page with the chat (only for a chat the clock ended as "visitor left").
    visitor_left_at: dt.datetime | None = None
    closed_at: dt.datetime | None = None
    # What the visitor wrote in the widget's form (name, e-mail) for a message left outside service hours,
    # and when the tenant's escalation contacts were e-mailed it.
    offline_form: Person | None = None
    forwarded_at: dt.datetime | None = None
    lead: dict[str, str] | None = None
    handoff: dict[str, str] | None = None
    report_sent_at: dt.datetime | None = None
    # For the report the mail server refused: when it was tried, and the refusal.
    report_attempted_at: dt.datetime | None = None
    report_failure: MailFailure | None = None
    tag: str = ""
    note: tuple[str, dt.datetime] | None = None
    rating: tuple[int, str, dt.datetime] | None = None
    transcript_requested_at: dt.datetime | None = None
    transcript_sent_at: dt.datetime | None = None


@dataclass(frozen=True)
class PlannedPage:
    visitor: PlannedVisitor
    url: str
    title: str
    at: dt.datetime


@dataclass
class History:
    """What happened at one live client: its visitors, their page views and their chats (in order of start)."""

    visitors: list[PlannedVisitor]
    pages: list[PlannedPage]
    chats: list[PlannedChat]


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class Generator:
    """Draw a live tenant's history from its go-live to a quarter of an hour before ``now`` (``generate``).

    ``agents`` names the agent of each shift (agent id → username); ``open_hours`` covers the stretch
    from the go-live to a few days after ``now`` (a message left late is answered when it opens);
    ``abandoned_after`` is how long after its visitor left the clock ends a chat nobody answered.
    """

    def __init__(
        self,
        *,
        demo: Demo,
        spec: TenantSpec,
        went_live_at: dt.datetime,
        open_hours: OpenHours,
        shifts: list[Shift],
        agents: dict[int, str],
        abandoned_after: dt.timedelta,
        now: dt.datetime,
    ):
        self.spec, self.shape = spec, demo.team.history
        self.abandoned_after = abandoned_after
        self.script: ChatScript = spec.script
        self.traffic = spec.traffic
        self.zone = spec.zone
        self.rng = random.Random(f"{demo.team.seed}:{spec.slug}")
        self.start, self.end = went_live_at, now - QUIET_BEFORE_NOW
        self.open_hours = open_hours
        # The trained agents' shifts (which never overlap) as sorted starts and ends, by username.
        self.trained = [agent.username for agent in demo.trained_for(spec.slug)]
        self.shift_times: dict[str, tuple[list[dt.datetime], list[dt.datetime]]] = {}
        for username in self.trained:
            mine = sorted((shift for shift in shifts if agents.get(shift.agent_id) == username), key=_starts)
            self.shift_times[username] = ([shift.starts_at for shift in mine], [shift.ends_at for shift in mine])
        self.peak = max(self.traffic.hourly)
        self.topic_weights = [topic.weight for topic in self.script.topics]
        self.offline_topics = [topic for topic in self.script.topics if topic.contact is None and topic.outcome != SPAM]
        # Each active invitation with the pages of the site it is for.
        self.invitations = [invitation for invitation in spec.invitations if invitation.active]
        self.invitation_pages = {}
        for invitation in self.invitations:
            pages = [page for page in self.script.pages if url_matches(invitation.url_pattern, self._url(page[0]))]
            if not pages:
                raise ValueError(f"The invitation rule “{invitation.name}” matches none of the demo pages.")
            self.invitation_pages[invitation.name] = pages
        self.history = History(visitors=[], pages=[], chats=[])

    def generate(self) -> History:
        for moment, kind in self._arrivals():
            self._visit(moment, kind)
        self._fail_latest_reports()
        self.history.chats.sort(key=lambda chat: chat.started_at)
        return self.history

    def _url(self, path: str) -> str:
        return f"https://www.{self.spec.slug}.example{path}"

    def _arrivals(self) -> list[tuple[dt.datetime, str]]:
        """Draw arrivals hour by hour: a Poisson process whose rate follows the local clock and weekday."""
        rng, traffic = self.rng, self.traffic
        hourly_total = sum(traffic.hourly)
        first_day = self.start.astimezone(self.zone).date()
        last_day = self.end.astimezone(self.zone).date()
        arrivals = []
        day = first_day
        while day <= last_day:
            growth = (1 + traffic.weekly_growth) ** (-(last_day - day).days / 7)
            day_rate = traffic.daily_chats * traffic.weekday_factors[day.weekday()] * growth
            for hour in range(24):
                hour_start = local_moment(self.zone, day, hour).astimezone(dt.UTC)
                rate = day_rate * traffic.hourly[hour] / hourly_total
                for _chat in range(_poisson(rng, rate)):
                    moment = hour_start + dt.timedelta(seconds=rng.uniform(0, 3600))
                    if self.open_hours.is_open(moment):
                        kind = LIVE
                    else:
                        kind = OFFLINE if rng.random() < self.shape.offline_message_share else BROWSE
                    arrivals.append((moment, kind))
                for _visit in range(_poisson(rng, rate * traffic.visits_per_chat)):
                    arrivals.append((hour_start + dt.timedelta(seconds=rng.uniform(0, 3600)), BROWSE))
            day += dt.timedelta(days=1)
        arrivals = [(moment, kind) for moment, kind in arrivals if self.start <= moment < self.end]
        arrivals.sort(key=lambda arrival: arrival[0])
        return arrivals

    def _visitor_at(self, moment: dt.datetime) -> tuple[PlannedVisitor, bool]:
        rng, visitors = self.rng, self.history.visitors
        if visitors and rng.random() < self.shape.returning_share:
            visitor = visitors[rng.randrange(max(0, len(visitors) - RECENT_VISITORS), len(visitors))]
            if visitor.last_seen < moment - RETURNS_AFTER:
                return visitor, True
        visitor = PlannedVisitor(index=len(visitors), first_seen=moment, last_seen=moment)
        visitors.append(visitor)
        return visitor, False

    def _page(self, visitor: PlannedVisitor, moment: dt.datetime, pages: list[tuple[str, str]] | None = None) -> None:
        path, title = self.rng.choice(pages or self.script.pages)
        self.history.pages.append(PlannedPage(visitor=visitor, url=self._url(path), title=title, at=moment))
        visitor.first_seen = min(visitor.first_seen, moment)
        visitor.last_seen = max(visitor.last_seen, moment)

    def _visit(self, moment: dt.datetime, kind: str) -> None:
        rng = self.rng
        visitor, returning = self._visitor_at(moment)
        chat = None if kind == BROWSE else self._chat(visitor, moment, offline=kind == OFFLINE, returning=returning)
        if chat is None:
            views = 1 + min(int(rng.expovariate(1.3)), 7)
            at = moment
            for _view in range(views):
                if at < self.end:
                    self._page(visitor, at)
                at += dt.timedelta(seconds=rng.uniform(15, 180))
            return
        # A chat starts after a page view or three and the visitor may browse on afterwards. An invitation
        # appeared once the visitor had stayed its time on a page it is for.
        at = moment
        for view in range(1 + rng.randrange(3)):
            if view == 0 and chat.invitation:
                invitation = next(rule for rule in self.invitations if rule.name == chat.invitation)
                at -= dt.timedelta(seconds=invitation.seconds_on_page + rng.uniform(0.2, 2))
                self._page(visitor, at, self.invitation_pages[invitation.name])
                continue
            at -= dt.timedelta(seconds=rng.uniform(20, 150))
            self._page(visitor, at)
        after = chat.closed_at + dt.timedelta(seconds=rng.uniform(10, 120))
        if rng.random() < 0.4 and after < self.end:
            self._page(visitor, after)

    def _agent_at(self, moment: dt.datetime) -> str:
        """Pick one of the trained agents on shift at the moment; any of them before the shifts were planned."""
        on_shift = []
        for username in self.trained:
            starts, ends = self.shift_times[username]
            index = bisect.bisect_right(starts, moment) - 1
            if index >= 0 and moment < ends[index]:
                on_shift.append(username)
        return self.rng.choice(on_shift or self.trained)

    def _first_response_seconds(self, moment: dt.datetime) -> float:
        """Mostly 3–12 s, slower when it is busy, with a tail past 30 s."""
        rng = self.rng
        load = self.traffic.hourly[moment.astimezone(self.zone).hour] / self.peak
        roll = rng.random()
        if roll < 0.83:
            seconds = min(max(rng.lognormvariate(math.log(6.0), 0.3), 3.0), 12.0)
            return seconds * (0.85 + 0.3 * load)
        if roll < 0.96:
            return rng.uniform(12, 30)
        return rng.uniform(30, 150)

    def _person(self, visitor: PlannedVisitor) -> Person:
        """Return who the visitor is: drawn the first time they are asked, the same ever after."""
        if visitor.person is None:
            rng, script = self.rng, self.script
            name = rng.choice(script.names)
            email = "{local}{number}@{domain}".format(
                local=ascii_words(name).lower().replace(" ", "."),
                number=rng.choice(("", "", str(rng.randint(1, 99)))),
                domain=rng.choice(("example.com", "example.net", "example.org")),
            )
            phone = "".join(
                str(rng.randrange(10)) if char == "#" else char for char in rng.choice(script.phone_patterns)
            )
            visitor.person = Person(name=name, email=email, phone=phone)
        return visitor.person

    def _context(self, visitor: PlannedVisitor, moment: dt.datetime) -> dict[str, str]:
        rng, script, person = self.rng, self.script, self._person(visitor)
        local = moment.astimezone(self.zone) + dt.timedelta(days=rng.randint(1, 5))
        return {
            "name": person.name,
            "first": person.name.split()[0],
            "email": person.email,
            "phone": person.phone,
            "company": rng.choice(script.companies),
            "order": f"{script.order_prefix}{rng.randint(100000, 999999)}",
            "date": local.strftime("%d.%m."),
            "time": rng.choice(("7:00", "9:00", "12:30", "17:00", "18:30", "19:00")),
        }

    def _chat(
        self, visitor: PlannedVisitor, moment: dt.datetime, *, offline: bool, returning: bool
    ) -> PlannedChat | None:
        """Plan one chat from its start to its close; None if it would not have ended yet."""
        rng = self.rng
        invitations = [rule for rule in self.invitations if returning or not rule.returning_only]
        if offline:
            origin = Conversation.Origin.OFFLINE_MESSAGE
        elif invitations and rng.random() < self.shape.proactive_share:
            origin = Conversation.Origin.PROACTIVE
        else:
            origin = Conversation.Origin.REACTIVE
        chat = PlannedChat(visitor=visitor, origin=origin, started_at=moment)
        context = self._context(visitor, moment)
        load = self.traffic.hourly[moment.astimezone(self.zone).hour] / self.peak
        roll = rng.random()
        if origin == Conversation.Origin.PROACTIVE:
            chat.invitation = rng.choice(invitations).name
            first_message_at = moment + dt.timedelta(seconds=rng.uniform(5, 40))
        else:
            first_message_at = moment + dt.timedelta(seconds=rng.uniform(0.5, 12))
        if offline:
            planned = self._offline_message(chat, context)
        elif origin == Conversation.Origin.REACTIVE and roll < self.shape.empty_chat_share:
            # Opened the chat and left without a word: closed as "spam or no message".
            chat.outcome = SPAM
            chat.closed_at = moment + dt.timedelta(seconds=rng.uniform(60, 300))
            planned = chat
        elif roll < self.shape.empty_chat_share + self.shape.missed_chat_share * (0.5 + load):
            planned = self._unanswered(chat, context, first_message_at)
        else:
            planned = self._answered(chat, context, first_message_at)
        if planned is None or planned.closed_at >= self.end:
            return None
        visitor.last_seen = max(visitor.last_seen, chat.closed_at)
        visitor.address_on_record = _records_address(chat)
        self.history.chats.append(chat)
        return chat

    def _offline_message(self, chat: PlannedChat, context: dict[str, str]) -> PlannedChat | None:
        """Outside service hours: a question left in the form, answered in the chat once the next shift opens."""
        rng, script = self.rng, self.script
        topic = rng.choice(self.offline_topics)
        pair = rng.choice(topic.pairs)
        opening = self.open_hours.next_opening(chat.started_at)
        if opening is None:
            return None
        chat.offline_form = Person(name=context["name"], email=context["email"], phone="")
        chat.forwarded_at = chat.started_at + dt.timedelta(seconds=rng.uniform(1, 8))
        chat.lines.append(
            Line(
                chat.started_at,
                Message.Sender.VISITOR,
                f"{pair.visitor.format(**context)} {script.offline_suffix.format(**context)}",
            )
        )
        chat.assigned_at = opening + dt.timedelta(minutes=rng.uniform(3, 40))
        chat.agent = self._agent_at(chat.assigned_at)
        reply_at = chat.assigned_at + dt.timedelta(minutes=rng.uniform(2, 8))
        chat.lines.append(
            Line(
                reply_at,
                Message.Sender.AGENT,
                f"{script.offline_reply.format(**context)} {pair.agent.format(**context)}",
            )
        )
        chat.outcome, chat.summary = topic.outcome, topic.summary.format(**context)
        chat.closed_at = reply_at + dt.timedelta(seconds=rng.uniform(30, 180))
        self._agent_work(chat, topic=topic, context=context)
        return chat

    def _unanswered(self, chat: PlannedChat, context: dict[str, str], first_message_at: dt.datetime) -> PlannedChat:
        """Nobody answered in time and the visitor gave up: the clock ends the chat as "visitor left"."""
        rng = self.rng
        topic = rng.choices(self.script.topics, weights=self.topic_weights)[0]
        pair = rng.choice(topic.pairs)
        chat.lines.append(Line(first_message_at, Message.Sender.VISITOR, pair.visitor.format(**context)))
        last = first_message_at
        if rng.random() < 0.5:
            last += dt.timedelta(seconds=rng.uniform(40, 120))
            chat.lines.append(Line(last, Message.Sender.VISITOR, rng.choice(self.script.unanswered)))
        chat.outcome = VISITOR_LEFT
        chat.visitor_left_at = last + dt.timedelta(seconds=rng.uniform(60, 240))
        chat.closed_at = chat.visitor_left_at + self.abandoned_after
        return chat

    def _answered(self, chat: PlannedChat, context: dict[str, str], first_message_at: dt.datetime) -> PlannedChat:
        """An agent on shift takes the chat, answers the question and what follows, and closes it."""
        rng, script = self.rng, self.script
        topic = rng.choices(script.topics, weights=self.topic_weights)[0]
        chat.agent = self._agent_at(chat.started_at)
        first_response = self._first_response_seconds(chat.started_at)
        reply_at = first_message_at + dt.timedelta(seconds=first_response)
        # Routing takes a moment; a long first response means the chat waited in the queue.
        typing = rng.uniform(1.5, min(8.0, first_response - 0.5))
        chat.assigned_at = reply_at - dt.timedelta(seconds=typing)
        pair = rng.choice(topic.pairs)
        chat.lines.append(Line(first_message_at, Message.Sender.VISITOR, pair.visitor.format(**context)))
        # The invitation has greeted the visitor already.
        greeting = "" if chat.invitation else rng.choice(script.greetings) + " "
        chat.lines.append(Line(reply_at, Message.Sender.AGENT, greeting + pair.agent.format(**context)))
        exchanges: list[Exchange] = []
        if topic.contact:
            exchanges.append(topic.contact)
        if topic.follow_ups and rng.random() < 0.55:
            exchanges.append(rng.choice(topic.follow_ups))
        if topic.outcome != SPAM and rng.random() < 0.65:
            exchanges.append(Exchange(visitor=rng.choice(script.thanks), agent=rng.choice(script.goodbyes)))
        at = reply_at
        for exchange in exchanges:
            at += dt.timedelta(seconds=rng.uniform(10, 80))
            chat.lines.append(Line(at, Message.Sender.VISITOR, exchange.visitor.format(**context)))
            at += dt.timedelta(seconds=rng.uniform(6, 45))
            chat.lines.append(Line(at, Message.Sender.AGENT, exchange.agent.format(**context)))
        chat.outcome, chat.summary = topic.outcome, topic.summary.format(**context)
        chat.closed_at = at + dt.timedelta(seconds=rng.uniform(20, 240))
        if topic.outcome != SPAM and rng.random() < self.shape.rating_share:
            self._rate(chat, slow=first_response > 30)
        self._agent_work(chat, topic=topic, context=context)
        return chat

    def _agent_work(self, chat: PlannedChat, *, topic: Topic, context: dict[str, str]) -> None:
        """Add what the agent recorded besides the lines (tag, private note, lead, handoff) and the transcript."""
        rng, shape = self.rng, self.shape
        told = topic.contact.visitor if topic.contact else ""
        if topic.tag and rng.random() < shape.tagged_share:
            chat.tag = topic.tag
        notes = [text for outcome, text in self.script.notes if outcome == topic.outcome]
        if notes and rng.random() < shape.note_shares.get(topic.outcome, 0):
            first_reply = next(line.at for line in chat.lines if line.sender == Message.Sender.AGENT)
            chat.note = (rng.choice(notes), first_reply + (chat.closed_at - first_reply) * rng.random())
        contact = {
            "name": context["name"] if "{name}" in told else "",
            "email": context["email"] if "{email}" in told else "",
            "phone": context["phone"] if "{phone}" in told else "",
        }
        if topic.outcome == LEAD:
            chat.lead = contact | {"wants": topic.wants.format(**context)}
        if topic.outcome == ESCALATED:
            chat.handoff = {
                "visitor_name": contact["name"],
                "visitor_email": contact["email"],
                "visitor_phone": contact["phone"],
                "promise": topic.promise.text,
                "promised_by": self._promised_by(chat.closed_at, topic.promise),
            }
            chat.report_sent_at = chat.closed_at + dt.timedelta(seconds=rng.uniform(1, 8))
        if _records_address(chat) and rng.random() < shape.transcript_share:
            chat.transcript_requested_at = chat.closed_at + dt.timedelta(seconds=rng.uniform(5, 60))
            chat.transcript_sent_at = chat.transcript_requested_at + dt.timedelta(seconds=rng.uniform(1, 5))

    def _promised_by(self, moment: dt.datetime, promise: Promise) -> str:
        """Return the promised hour of the working day (Monday to Friday, local) that many days later, as typed."""
        day = moment.astimezone(self.zone).date()
        remaining = promise.working_days
        while remaining:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        return f"{day.isoformat()}T{promise.by_hour:02d}:00"

    def _fail_latest_reports(self) -> None:
        """Leave the latest handoff reports unsent with the tenant's mail error, so the admin shows the problem."""
        escalated = sorted((chat for chat in self.history.chats if chat.handoff), key=lambda chat: chat.closed_at)
        for chat, failure in zip(reversed(escalated), self.spec.handoff_failures, strict=False):
            chat.report_attempted_at, chat.report_sent_at, chat.report_failure = chat.report_sent_at, None, failure

    def _rate(self, chat: PlannedChat, *, slow: bool) -> None:
        rng, script = self.rng, self.script
        weights = (12, 12, 20, 28, 28) if slow else (3, 3, 7, 25, 62)
        rating = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        comment = ""
        if rng.random() < 0.3:
            comment = rng.choice(script.good_comments if rating >= 4 else script.bad_comments)
        chat.rating = (rating, comment, chat.closed_at + dt.timedelta(seconds=rng.uniform(3, 90)))


def _records_address(chat: PlannedChat) -> bool:
    """Say whether the visitor's address is on record after the chat: from before, the form, a lead or a handoff."""
    lead, handoff = chat.lead or {}, chat.handoff or {}
    return bool(
        chat.visitor.address_on_record or chat.offline_form or lead.get("email") or handoff.get("visitor_email")
    )


def _starts(shift: Shift) -> dt.datetime:
    return shift.starts_at
