"""The demo as data: what ``data/*.toml`` describe, read into frozen dataclasses.

``team.toml`` holds the operations manager, the agents (what each is trained for), the onboarding
timeline, the shift rules and the shape of the history; each client company has a file of its own
(``kotipuoti.toml`` …): its settings, hours, knowledge base, canned responses, report recipients,
change notices, invitation rules and, for a live one, its traffic and what is said in its chats.
An unknown or missing key is an error that names the file and the key, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEMO_WIDGET_KEY_PREFIX = "wk_demo_"


class DescriptionError(ValueError):
    """A data file of the demo says something the builder cannot use."""


class _Table:
    """A TOML table being read: every key must be taken exactly once (see ``done``)."""

    def __init__(self, data: Mapping[str, Any], where: str):
        self.data, self.where, self.taken = data, where, set()

    def get(self, key: str, default: Any = ...) -> Any:
        self.taken.add(key)
        if key in self.data:
            return self.data[key]
        if default is ...:
            raise DescriptionError(f"{self.where}: “{key}” is missing.")
        return default

    def table(self, key: str) -> _Table:
        return _Table(self.get(key), f"{self.where}.{key}")

    def tables(self, key: str) -> list[_Table]:
        return [_Table(row, f"{self.where}.{key}[{index}]") for index, row in enumerate(self.get(key, []))]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.taken)
        if unknown:
            raise DescriptionError(f"{self.where}: unknown keys {', '.join(unknown)}.")


def _read(table: _Table, build):
    value = build(table)
    table.done()
    return value


# --- The team ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentSpec:
    username: str
    display_name: str
    full_name: str
    languages: tuple[str, ...]
    max_concurrent_chats: int
    trained_for: tuple[str, ...]
    in_training_for: tuple[str, ...]
    email: str


@dataclass(frozen=True)
class Onboarding:
    """Days after the contract on which the onboarding steps were done."""

    days: Mapping[str, int]

    def day(self, step: str) -> int:
        return self.days[step]


@dataclass(frozen=True)
class ShiftRules:
    hours: int
    stretch_hours: int
    min_rest_hours: int
    max_per_week: int
    shadowing_from: int


@dataclass(frozen=True)
class HistoryShape:
    offline_message_share: float
    proactive_share: float
    empty_chat_share: float
    missed_chat_share: float
    rating_share: float
    returning_share: float
    tagged_share: float
    transcript_share: float
    acknowledged_after_hours: tuple[int, ...]
    open_notice_age_hours: int
    note_shares: Mapping[str, float]


@dataclass(frozen=True)
class Team:
    staff_domain: str
    planning_zone: zoneinfo.ZoneInfo
    seed: int
    client_files: tuple[str, ...]
    manager_username: str
    manager_name: str
    manager_email: str
    manager_password: str
    agent_password: str
    client_password: str
    agents: tuple[AgentSpec, ...]
    onboarding: Onboarding
    shifts: ShiftRules
    history: HistoryShape


ONBOARDING_DAYS = (
    "kickoff",
    "tone_goals",
    "knowledge_base",
    "service_hours",
    "canned_responses",
    "report_recipients",
    "training_starts",
    "training_days",
    "invitation_rules",
    "widget_installed",
    "test_chat",
    "live",
)
_TRANSLITERATE = str.maketrans({"ł": "l", "Ł": "L"})


def ascii_words(text: str) -> str:
    """Return the text with its letters stripped to ASCII (ä → a, ł → l), for e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return decomposed.encode("ascii", "ignore").decode()


def _staff_email(full_name: str, domain: str) -> str:
    return ascii_words(full_name).lower().replace(" ", ".") + "@" + domain


def _agent(table: _Table, domain: str) -> AgentSpec:
    full_name = table.get("name")
    return AgentSpec(
        username=table.get("username"),
        display_name=table.get("display_name"),
        full_name=full_name,
        languages=tuple(table.get("languages")),
        max_concurrent_chats=table.get("max_concurrent_chats"),
        trained_for=tuple(table.get("trained_for", [])),
        in_training_for=tuple(table.get("in_training_for", [])),
        email=_staff_email(full_name, domain),
    )


def _team(table: _Table) -> Team:
    domain = table.get("staff_domain")
    passwords, manager = table.table("passwords"), table.table("manager")
    onboarding, shifts, history = table.table("onboarding"), table.table("shifts"), table.table("history")
    manager_name = manager.get("name")
    team = Team(
        staff_domain=domain,
        planning_zone=zoneinfo.ZoneInfo(table.get("planning_zone")),
        seed=table.get("seed"),
        client_files=tuple(table.get("clients")),
        manager_username=manager.get("username"),
        manager_name=manager_name,
        manager_email=_staff_email(manager_name, domain),
        manager_password=passwords.get("manager"),
        agent_password=passwords.get("agents"),
        client_password=passwords.get("clients"),
        agents=tuple(_read(row, lambda row: _agent(row, domain)) for row in table.tables("agents")),
        onboarding=Onboarding({step: onboarding.get(step) for step in ONBOARDING_DAYS}),
        shifts=_read(shifts, lambda t: ShiftRules(**{name: t.get(name) for name in ShiftRules.__annotations__})),
        history=_read(history, _history_shape),
    )
    for part in (passwords, manager, onboarding):
        part.done()
    return team


def _history_shape(table: _Table) -> HistoryShape:
    plain = [name for name in HistoryShape.__annotations__ if name not in ("acknowledged_after_hours", "note_shares")]
    return HistoryShape(
        **{name: table.get(name) for name in plain},
        acknowledged_after_hours=tuple(table.get("acknowledged_after_hours")),
        note_shares=dict(table.get("note_shares")),
    )


# --- A client company --------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class Holiday:
    month: int
    day: int
    note: str


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str
    weekly: bool
    monthly: bool
    escalations: bool


@dataclass(frozen=True)
class Article:
    title: str
    keywords: str
    body: str


@dataclass(frozen=True)
class Notice:
    title: str
    body: str
    days_ago: int = 0


@dataclass(frozen=True)
class Invitation:
    name: str
    url_pattern: str
    seconds_on_page: int
    message: str
    returning_only: bool
    active: bool


@dataclass(frozen=True)
class MailFailure:
    """How the mail server refused a report: a recipient (SMTPRecipientsRefused) or the message (SMTPDataError)."""

    code: int
    reply: str
    recipient: str = ""


@dataclass(frozen=True)
class Promise:
    """What an escalating agent promises: a reply within working days, by a local hour."""

    text: str
    working_days: int
    by_hour: int


@dataclass(frozen=True)
class Exchange:
    """A visitor's line and the agent's answer."""

    visitor: str
    agent: str


@dataclass(frozen=True)
class Topic:
    """One reason to chat: question/answer pairs in the tenant's language and where they lead."""

    weight: int
    outcome: str
    pairs: tuple[Exchange, ...]
    summary: str = ""
    tag: str = ""
    follow_ups: tuple[Exchange, ...] = ()
    # The visitor's line with their details and the agent's confirmation; the answer asks for them.
    contact: Exchange | None = None
    # A lead's "what they want", for the client's sales.
    wants: str = ""
    # An escalation's promise, for the handoff report.
    promise: Promise | None = None


@dataclass(frozen=True)
class ChatScript:
    """Everything said in a tenant's chats, in its language and tone."""

    topics: tuple[Topic, ...]
    greetings: tuple[str, ...]
    thanks: tuple[str, ...]
    goodbyes: tuple[str, ...]
    unanswered: tuple[str, ...]
    good_comments: tuple[str, ...]
    bad_comments: tuple[str, ...]
    names: tuple[str, ...]
    companies: tuple[str, ...]
    phone_patterns: tuple[str, ...]
    offline_suffix: str
    offline_reply: str
    order_prefix: str
    pages: tuple[tuple[str, str], ...]
    notes: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Traffic:
    """How many visitors and chats a tenant gets: chats per full day, by hour and weekday, growing."""

    daily_chats: float
    hourly: tuple[float, ...]
    weekday_factors: tuple[float, ...]
    weekly_growth: float
    visits_per_chat: float


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    language: str
    tone: str
    time_zone: str
    goals: tuple[str, ...]
    colour: str
    greeting: str
    style_notes: str
    escalation_rules: str
    contract_days_ago: int
    live: bool
    manual_steps_done: tuple[str, ...]
    widget_seen: bool
    tags: tuple[str, ...]
    hours: tuple[WeeklyHours, ...]
    holidays: tuple[Holiday, ...]
    client_username: str
    client_name: str
    client_email: str
    recipients: tuple[Recipient, ...]
    canned: tuple[tuple[str, str], ...]
    notice: Notice
    earlier_notices: tuple[Notice, ...]
    invitations: tuple[Invitation, ...]
    articles: tuple[Article, ...]
    handoff_failures: tuple[MailFailure, ...] = ()
    traffic: Traffic | None = None
    script: ChatScript | None = None

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def widget_key(self) -> str:
        return DEMO_WIDGET_KEY_PREFIX + self.slug


def _weekly_hours(row: _Table) -> list[WeeklyHours]:
    first, _dash, last = row.get("days").partition("-")
    try:
        days = range(WEEKDAYS.index(first), WEEKDAYS.index(last or first) + 1)
    except ValueError:
        raise DescriptionError(f"{row.where}: days are written like “mon-thu” or “sat”.") from None
    opens, closes = dt.time.fromisoformat(row.get("opens")), dt.time.fromisoformat(row.get("closes"))
    return [WeeklyHours(weekday=weekday, opens=opens, closes=closes) for weekday in days]


def _holiday(row: _Table) -> Holiday:
    month, day = (int(part) for part in row.get("date").split("-"))
    return Holiday(month=month, day=day, note=row.get("note"))


def _exchange(raw: Mapping[str, str], where: str) -> Exchange:
    return _read(_Table(raw, where), lambda row: Exchange(visitor=row.get("visitor"), agent=row.get("agent")))


def _exchanges(table: _Table, key: str) -> tuple[Exchange, ...]:
    return tuple(_exchange(raw, f"{table.where}.{key}[{index}]") for index, raw in enumerate(table.get(key, [])))


def _topic(row: _Table) -> Topic:
    contact, promise = row.get("contact", None), row.get("promise", None)
    return Topic(
        weight=row.get("weight"),
        outcome=row.get("outcome"),
        pairs=_exchanges(row, "pairs"),
        summary=row.get("summary", ""),
        tag=row.get("tag", ""),
        follow_ups=_exchanges(row, "follow_ups"),
        contact=_exchange(contact, f"{row.where}.contact") if contact else None,
        wants=row.get("wants", ""),
        promise=Promise(**promise) if promise else None,
    )


def _script(table: _Table) -> ChatScript:
    lists = ("greetings", "thanks", "goodbyes", "unanswered", "good_comments", "bad_comments", "names", "companies")
    return ChatScript(
        topics=tuple(_read(row, _topic) for row in table.tables("topics")),
        **{name: tuple(table.get(name)) for name in (*lists, "phone_patterns")},
        offline_suffix=table.get("offline_suffix"),
        offline_reply=table.get("offline_reply"),
        order_prefix=table.get("order_prefix", ""),
        pages=tuple((page["path"], page["title"]) for page in table.get("pages")),
        notes=tuple((note["outcome"], note["text"]) for note in table.get("notes", [])),
    )


def _traffic(table: _Table) -> Traffic:
    return Traffic(
        daily_chats=table.get("daily_chats"),
        hourly=tuple(table.get("hourly")),
        weekday_factors=tuple(table.get("weekday_factors")),
        weekly_growth=table.get("weekly_growth"),
        visits_per_chat=table.get("visits_per_chat"),
    )


def _invitation(row: _Table) -> Invitation:
    return Invitation(
        name=row.get("name"),
        url_pattern=row.get("url_pattern"),
        seconds_on_page=row.get("seconds_on_page"),
        message=row.get("message"),
        returning_only=row.get("returning_only", False),
        active=row.get("active", True),
    )


PLAIN_TENANT_KEYS = (
    "slug",
    "name",
    "language",
    "tone",
    "time_zone",
    "colour",
    "greeting",
    "style_notes",
    "escalation_rules",
    "contract_days_ago",
    "live",
    "widget_seen",
)


def _tenant(table: _Table) -> TenantSpec:
    client, notice = table.table("client"), table.table("notice")
    traffic = _read(table.table("traffic"), _traffic) if "traffic" in table.data else None
    script = _read(table.table("script"), _script) if "script" in table.data else None
    spec = TenantSpec(
        **{name: table.get(name) for name in PLAIN_TENANT_KEYS},
        goals=tuple(table.get("goals")),
        manual_steps_done=tuple(table.get("manual_steps_done")),
        tags=tuple(table.get("tags")),
        hours=tuple(hours for row in table.tables("hours") for hours in _read(row, _weekly_hours)),
        holidays=tuple(_read(row, _holiday) for row in table.tables("holidays")),
        client_username=client.get("username"),
        client_name=client.get("name"),
        client_email=client.get("email"),
        recipients=tuple(
            _read(row, lambda row: Recipient(**{name: row.get(name) for name in Recipient.__annotations__}))
            for row in table.tables("recipients")
        ),
        canned=tuple(table.get("canned").items()),
        notice=Notice(title=notice.get("title"), body=notice.get("body")),
        earlier_notices=tuple(
            _read(row, lambda row: Notice(title=row.get("title"), body=row.get("body"), days_ago=row.get("days_ago")))
            for row in table.tables("earlier_notices")
        ),
        invitations=tuple(_read(row, _invitation) for row in table.tables("invitations")),
        articles=tuple(
            _read(row, lambda row: Article(title=row.get("title"), keywords=row.get("keywords"), body=row.get("body")))
            for row in table.tables("articles")
        ),
        handoff_failures=tuple(
            _read(
                row,
                lambda row: MailFailure(
                    code=row.get("code"), reply=row.get("reply"), recipient=row.get("recipient", "")
                ),
            )
            for row in table.tables("handoff_failures")
        ),
        traffic=traffic,
        script=script,
    )
    for part in (client, notice):
        part.done()
    # A refusal for now (4xx) would be tried again by the live outbox after the seeding, and might go out.
    if any(not 500 <= failure.code < 600 for failure in spec.handoff_failures):
        raise DescriptionError(f"{table.where}: a handoff failure is a refusal for good, a 5xx code.")
    if spec.live != (script is not None and traffic is not None):
        raise DescriptionError(f"{table.where}: a live client needs [traffic] and [script], one onboarding neither.")
    return spec


# --- Reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    team: Team
    tenants: tuple[TenantSpec, ...]

    def trained_for(self, slug: str) -> list[AgentSpec]:
        """Return the agents who have completed training for the tenant, in the team's order."""
        return [agent for agent in self.team.agents if slug in agent.trained_for]


def _load(path: Path, build):
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise DescriptionError(f"{path.name}: {error}") from error
    return _read(_Table(data, path.name), build)


def with_weeks_of_history(demo: Demo, weeks: int) -> Demo:
    """Return the description with each live client gone live at most ``weeks`` weeks ago (a quicker build).

    Everything else stays as described: the clients, the team, the shifts and the traffic of each day.
    """
    if weeks < 1:
        raise DescriptionError("A demo needs at least one week of history.")
    went_live = demo.team.onboarding.day("live")
    tenants = tuple(
        dataclasses.replace(spec, contract_days_ago=min(spec.contract_days_ago, went_live + 7 * weeks))
        if spec.live
        else spec
        for spec in demo.tenants
    )
    return dataclasses.replace(demo, tenants=tenants)


@functools.cache
def load(folder: Path = DATA) -> Demo:
    """Read the demo's description from the folder's TOML files."""
    team = _load(folder / "team.toml", _team)
    tenants = tuple(_load(folder / f"{name}.toml", _tenant) for name in team.client_files)
    known = {tenant.slug for tenant in tenants}
    for agent in team.agents:
        unknown = set(agent.trained_for + agent.in_training_for) - known
        if unknown:
            raise DescriptionError(f"team.toml: {agent.username} is trained for unknown clients {sorted(unknown)}.")
    return Demo(team=team, tenants=tenants)
