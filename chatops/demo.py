"""Demo data for a first look: three client companies, six agents, eight weeks of chats, shifts since last month.

Everything is drawn from fixed random seeds relative to the moment of seeding, so the same
moment gives the same data and the data always looks recent. Demo tenants are recognised by
their short name together with a widget key of their own (``wk_demo_<slug>``), demo users by
username together with e-mail address; nothing else is changed or deleted.
"""

from __future__ import annotations

import bisect
import datetime as dt
import fnmatch
import math
import random
import unicodedata
import uuid
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chatops import roles
from chatops.models import Agent, Qualification, Shift
from chatops.services import plan_shift
from conversations import aftercare, visitor_tallies
from conversations import handoff as handoff_reports
from conversations.aftercare import transcript_subject
from conversations.handoff import handoff_subject
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
    VisitorMark,
    VisitorTally,
    email_reference,
)
from conversations.offline import escalation_contacts
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants import onboarding
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ChangeNoticeAcknowledgement,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    ProactiveRule,
    ReportRecipient,
    ServiceException,
    ServiceHours,
    Tenant,
)
from tenants.services import mark_tenant_live

SEED = 20261123
MANAGER_USERNAME = "manager"
MANAGER_PASSWORD = "demo-manager"  # noqa: S105 (published demo login)
AGENT_PASSWORD = "demo-agent"  # noqa: S105 (published demo login)
CLIENT_PASSWORD = "demo-client"  # noqa: S105 (published demo login)
STAFF_DOMAIN = "chatops-demo.example"
DEMO_WIDGET_KEY_PREFIX = "wk_demo_"

BATCH_SIZE = 1000
# The team works from Helsinki, so shifts are cut on the Helsinki clock.
PLANNING_ZONE = "Europe/Helsinki"
SHIFT_HOURS = 8
# A block may run this much longer to finish a tenant's day rather than leave a short leftover.
STRETCH_HOURS = 1
MIN_REST_HOURS = 11
MAX_SHIFTS_PER_WEEK = 5
# Shifts run from the first day of the previous month, so last month's report shows its staffing
# coverage, to the end of next week; trainees shadow only in this week and next.
UPCOMING_WEEKS = 2

# Shares of the conversation kinds; the rest are ordinary chats about one topic.
OFFLINE_MESSAGE_SHARE = 0.3  # of the visitors who open the widget outside service hours
PROACTIVE_SHARE = 0.1
EMPTY_CHAT_SHARE = 0.02
MISSED_CHAT_SHARE = 0.03
RATING_SHARE = 0.45
RETURNING_SHARE = 0.22
# Agents' habits: tagging a chat whose topic has a tag, leaving a private note (by outcome), and
# visitors asking for the transcript by e-mail (of those who gave their address).
TAGGED_SHARE = 0.45
TRANSCRIPT_SHARE = 0.04
HANDOFF_FAILED_ATTEMPTS = 3
# When the trained agents read a change notice, in hours after it was posted.
ACKNOWLEDGED_AFTER_HOURS = (2, 7, 26, 31, 50)

ERROR_TENANT_NOT_DEMO = gettext_lazy(
    "A tenant with the short name “%(slug)s” exists and is not demo data; nothing was changed. "
    "Rename it or drop the database to seed the demo."
)
ERROR_USER_NOT_DEMO = gettext_lazy(
    "A user named “%(username)s” exists and is not a demo user; nothing was changed. "
    "Rename it or drop the database to seed the demo."
)

Progress = Callable[[str], None]


class DemoDataConflict(Exception):
    """A tenant or user with a demo name exists that the demo did not create."""


# --- What the demo contains ------------------------------------------------------------------


@dataclass(frozen=True)
class Promise:
    """What an escalating agent promises the visitor: a reply within working days, by a local hour."""

    text: str
    working_days: int
    by_hour: int


@dataclass(frozen=True)
class Topic:
    """One reason to chat: question/answer pairs in the tenant's language and where they lead."""

    weight: int
    outcome: str
    pairs: tuple[tuple[str, str], ...]
    summary: str
    follow_ups: tuple[tuple[str, str], ...] = ()
    # The visitor's line with their details and the agent's confirmation; the answer asks for them.
    contact: tuple[str, str] | None = None
    # The tag agents put on such chats (one of the tenant's tags), if any.
    tag: str = ""
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
    offline_suffix: str
    offline_reply: str
    unanswered: tuple[str, ...]
    good_comments: tuple[str, ...]
    bad_comments: tuple[str, ...]
    names: tuple[str, ...]
    pages: tuple[tuple[str, str], ...]
    companies: tuple[str, ...] = ("",)
    order_prefix: str = ""
    # How visitors write their phone numbers; each # is a digit.
    phone_patterns: tuple[str, ...] = ("### ### ####",)
    # Private notes agents leave for the team, by the outcome of the chat they are written on.
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Invitation:
    """An invitation rule: the widget invites visitors on matching pages after some seconds."""

    name: str
    url_pattern: str
    seconds_on_page: int
    message: str
    returning_only: bool = False
    is_active: bool = True


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
    # (first weekday, last weekday, opens, closes); a closing at or before the opening is the next day.
    hours: tuple[tuple[int, int, str, str], ...]
    holidays: tuple[tuple[int, int, str], ...]
    articles: tuple[tuple[str, str, str], ...]
    canned: tuple[tuple[str, str], ...]
    # The open change notice: posted days ago and read by all but the last trained agent.
    notice: tuple[str, str]
    recipients: tuple[tuple[str, str, bool, bool, bool], ...]
    client: tuple[str, str, str]
    contract_days_ago: int
    # Live tenants went live LIVE_AFTER_CONTRACT_DAYS after the contract; the others are onboarding.
    live: bool = False
    manual_steps_done: tuple[str, ...] = ("kickoff", "tone_goals", "test_chat")
    widget_seen: bool = True
    script: ChatScript | None = None
    traffic: Traffic | None = None
    escalation_rules: str = ""
    invitations: tuple[Invitation, ...] = ()
    tags: tuple[str, ...] = ()
    # Older change notices (title, text, days ago) that every trained agent has read.
    earlier_notices: tuple[tuple[str, str, int], ...] = ()
    # Why the latest handoff reports could not be e-mailed, newest first: the admin shows the problem.
    handoff_errors: tuple[str, ...] = ()

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def widget_key(self) -> str:
        return DEMO_WIDGET_KEY_PREFIX + self.slug


@dataclass(frozen=True)
class AgentSpec:
    username: str
    display_name: str
    full_name: str
    languages: tuple[str, ...]
    max_concurrent_chats: int
    trained_for: tuple[str, ...] = ()
    in_training_for: tuple[str, ...] = ()

    @property
    def email(self) -> str:
        return _ascii(self.full_name).lower().replace(" ", ".") + "@" + STAFF_DOMAIN


# Relative chat arrivals by hour of the local day: a web shop peaks in the evening, a fitness
# club has a small morning bump before work and its peak after work.
# fmt: off
WEB_SHOP_HOURLY = (
    0.25, 0.15, 0.08, 0.05, 0.05, 0.08, 0.2, 0.45, 0.8, 1.0, 1.1, 1.2,
    1.3, 1.25, 1.2, 1.2, 1.3, 1.5, 1.9, 2.3, 2.5, 2.3, 1.6, 0.8,
)
FITNESS_CLUB_HOURLY = (
    0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.7, 1.1, 1.2, 1.0, 0.9, 0.9,
    1.0, 0.9, 0.9, 1.0, 1.3, 1.8, 2.2, 2.4, 2.1, 1.5, 0.8, 0.4,
)
# fmt: on

RESOLVED = Conversation.Outcome.RESOLVED
LEAD = Conversation.Outcome.LEAD
BOOKING = Conversation.Outcome.BOOKING
ESCALATED = Conversation.Outcome.ESCALATED
SPAM = Conversation.Outcome.SPAM
NOTE_SHARES = {ESCALATED: 0.5, LEAD: 0.35, BOOKING: 0.2, RESOLVED: 0.04, SPAM: 0.3}

KOTIPUOTI_SCRIPT = ChatScript(
    topics=(
        Topic(
            18,
            RESOLVED,
            (
                (
                    "Moi, kauanko toimitus kestää?",
                    "Varastossa olevat tuotteet lähtevät 1–2 arkipäivässä, ja perillä ne ovat yleensä 2–4 "
                    "arkipäivässä. Yli 79 euron tilaukset toimitetaan ilmaiseksi, muuten toimitus "
                    "noutopisteeseen maksaa 5,90 €.",
                ),
                (
                    "Jos tilaan tänään, milloin paketti on perillä?",
                    "Jos tuote on varastossa, paketti lähtee 1–2 arkipäivässä ja on perillä yleensä 2–4 "
                    "arkipäivän kuluttua. Saat seurantakoodin sähköpostiin heti kun paketti lähtee.",
                ),
                (
                    "Toimitatteko myös Lappiin?",
                    "Toimitamme koko Suomeen Postin ja Matkahuollon noutopisteisiin. Lappiin paketti on "
                    "yleensä perillä 3–4 arkipäivässä, ja yli 79 euron tilauksissa toimitus on ilmainen.",
                ),
            ),
            "Kysyi toimitusajasta ja -hinnasta.",
            tag="toimitus",
            follow_ups=(
                (
                    "Saako paketin kotiovelle asti?",
                    "Saa! Pääkaupunkiseudulla on kotiinkuljetus 14,90 €, muualla paketti tulee lähimpään "
                    "noutopisteeseen.",
                ),
                (
                    "Voiko noutopisteen vaihtaa tilauksen jälkeen?",
                    "Voi, seurantalinkin kautta niin kauan kuin paketti ei ole vielä perillä.",
                ),
            ),
        ),
        Topic(
            14,
            RESOLVED,
            (
                (
                    "Miten palautan tuotteen?",
                    "Tosi helposti: tee palautusilmoitus osoitteessa kotipuoti.example/palautus, niin saat "
                    "palautuskoodin sähköpostiisi. Paketin voi jättää mihin tahansa Postin noutopisteeseen, "
                    "ja palautus on ilmainen 30 päivän ajan.",
                ),
                (
                    "Tilasin liian pienen pöytäliinan, voinko vaihtaa sen isompaan?",
                    "Onnistuu! Valitse palautusilmoituksessa osoitteessa kotipuoti.example/palautus ”vaihto” "
                    "ja uusi koko, niin lähetämme isomman liinan heti kun palautus on kirjattu.",
                ),
            ),
            "Neuvottu palautuksessa tai vaihdossa.",
            tag="palautus",
            follow_ups=(
                (
                    "Kauanko rahojen palautus kestää?",
                    "Rahat tulevat samalle maksutavalle viiden arkipäivän sisällä siitä, kun paketti on "
                    "saapunut varastollemme.",
                ),
            ),
        ),
        Topic(
            9,
            LEAD,
            (
                (
                    "Onko Teema-lautasia tulossa lisää varastoon?",
                    "Seuraava erä on tulossa parin viikon päästä. Voin laittaa sinulle ilmoituksen, kun "
                    "lautaset ovat taas saatavilla – saisinko nimesi ja sähköpostiosoitteesi?",
                ),
                (
                    "Milloin harmaa pellavaverho tulee taas myyntiin?",
                    "Uusi erä on jo matkalla, ja verhot tulevat myyntiin noin kahden viikon päästä. "
                    "Laitanko sinulle ilmoituksen? Tarvitsen vain nimesi ja sähköpostiosoitteesi.",
                ),
            ),
            "Haluaa ilmoituksen, kun tuote palaa varastoon.",
            contact=(
                "{name}, {email}",
                "Kiitos {first}! Laitoin muistutuksen, ja saat viestin heti kun tuote on varastossa.",
            ),
            tag="varastotilanne",
            wants="Ilmoitus sähköpostiin, kun kysytty tuote on taas varastossa (uusi erä noin kahden viikon päästä).",
        ),
        Topic(
            6,
            LEAD,
            (
                (
                    "Tarvitsisimme toimistolle uudet astiat ja kahvinkeittimen, teettekö yritystarjouksia?",
                    "Teemme! Yli 500 euron hankinnoista saat meiltä tarjouksen. Kertoisitko nimesi, "
                    "yrityksesi, sähköpostiosoitteesi ja puhelinnumerosi, niin myyntimme ottaa yhteyttä "
                    "seuraavana arkipäivänä?",
                ),
                (
                    "Olemme avaamassa kahvilaa, saisiko isommasta tilauksesta tarjouksen?",
                    "Ilman muuta, onnea kahvilalle! Kertoisitko nimesi, yrityksen nimen, sähköpostiosoitteen "
                    "ja puhelinnumeron, niin myyntimme tekee tarjouksen seuraavana arkipäivänä.",
                ),
            ),
            "Yritysasiakas pyytää tarjousta; yhteystiedot välitetty myyntiin.",
            contact=(
                "{name}, {company}, {email}, puh. {phone}",
                "Kiitos, välitin tiedot myyntiin. He palaavat asiaan seuraavana arkipäivänä!",
            ),
            tag="yritysasiakas",
            wants="Yritystarjous ({company}): astioita ja keittiötarvikkeita yli 500 eurolla. Myynti ottaa "
            "yhteyttä seuraavana arkipäivänä.",
        ),
        Topic(
            5,
            ESCALATED,
            (
                (
                    "Tilasin viime viikolla, mutta en ole saanut seurantakoodia. Tilausnumero on {order}.",
                    "Pahoittelut viivästyksestä! En näe täältä varaston tietoja, joten välitän tilauksesi "
                    "{order} asiakaspalvelullemme. Mihin sähköpostiosoitteeseen he voivat vastata?",
                ),
                (
                    "Missä tilaukseni {order} viipyy? Sen piti olla jo perillä.",
                    "Harmillista, pahoittelut! Välitän tilauksen {order} asiakaspalvelulle tarkistettavaksi. "
                    "Kerrotko vielä sähköpostiosoitteesi, niin he kertovat sinulle, missä paketti on?",
                ),
            ),
            "Tilaus {order} viivästynyt eikä seurantakoodia ole tullut – tarkistakaa varastosta ja olkaa "
            "yhteydessä asiakkaaseen.",
            contact=(
                "{email}",
                "Kiitos! Asiakaspalvelu selvittää asian ja vastaa sinulle sähköpostitse viimeistään seuraavan "
                "arkipäivän aamupäivänä.",
            ),
            tag="toimitus",
            promise=Promise("Asiakaspalvelu vastaa sähköpostitse viimeistään seuraavan arkipäivän aamupäivänä.", 1, 12),
        ),
        Topic(
            3,
            ESCALATED,
            (
                (
                    "Kahvinkeitin lakkasi toimimasta parin kuukauden käytön jälkeen.",
                    "Voi harmi, pahoittelut! Keittiökoneilla on kahden vuoden takuu. Lähetä kuva laitteesta "
                    "ja tilausnumero osoitteeseen asiakaspalvelu@kotipuoti.example, niin asiakaspalvelu "
                    "lähettää uuden laitteen tai palauttaa rahat. Kerrotko nimesi ja sähköpostiosoitteesi, "
                    "niin kirjaan reklamaation valmiiksi?",
                ),
                (
                    "Paketissa tullut kulho oli rikki, mitä teen?",
                    "Pahoittelut! Lähetä kuva kulhosta ja tilausnumero osoitteeseen "
                    "asiakaspalvelu@kotipuoti.example, niin asiakaspalvelu lähettää sinulle uuden. Kerrotko "
                    "nimesi ja sähköpostiosoitteesi, niin kirjaan reklamaation valmiiksi?",
                ),
            ),
            "Reklamaatio viallisesta tuotteesta; asiakas lähettää kuvan ja tilausnumeron.",
            contact=(
                "{name}, {email}",
                "Kiitos {first}, reklamaatio on kirjattu. Asiakaspalvelu vastaa sähköpostitse kahden "
                "arkipäivän kuluessa.",
            ),
            tag="reklamaatio",
            promise=Promise("Asiakaspalvelu käsittelee reklamaation ja vastaa kahden arkipäivän kuluessa.", 2, 16),
        ),
        Topic(
            10,
            RESOLVED,
            (
                (
                    "Voiko teillä maksaa laskulla?",
                    "Voi! Laskun ja osamaksun saat Klarnan kautta, ja laskun maksuaika on 14 päivää. Lisäksi "
                    "käyvät verkkopankit, kortit, MobilePay, Apple Pay ja Google Pay.",
                ),
                (
                    "Käykö MobilePay?",
                    "Käy! Meillä voit maksaa myös verkkopankilla, kortilla, Apple Paylla, Google Paylla sekä "
                    "laskulla tai osamaksulla Klarnan kautta.",
                ),
            ),
            "Kysyi maksutavoista.",
            tag="maksaminen",
        ),
        Topic(
            8,
            RESOLVED,
            (
                (
                    "Alennuskoodi ei toimi kassalla.",
                    "Harmillista! Koodi ei käy jo alennettuihin tuotteisiin, eikä kahta koodia voi yhdistää. "
                    "Onko ostoskorissasi alennettuja tuotteita?",
                ),
            ),
            "Alennuskoodi ei käynyt alennettuihin tuotteisiin; neuvottu.",
            tag="alennuskoodi",
            follow_ups=(
                (
                    "Ai, siellä oli yksi alennettu matto.",
                    "Se selittää asian – tilaa matto erikseen, niin koodi toimii muihin tuotteisiin.",
                ),
            ),
        ),
        Topic(
            10,
            RESOLVED,
            (
                (
                    "Sopiiko Pannu Pro induktioliesille?",
                    "Sopii! Kaikki Pannu Pro -sarjan pannut toimivat induktiolla, ja niillä on kahden vuoden takuu.",
                ),
                (
                    "Voiko pellavaverhot pestä koneessa?",
                    "Voi: 40 asteen hienopesu ja kevyt linkous. Ripusta verhot kosteina paikalleen, niin ne "
                    "suoristuvat itsestään.",
                ),
                (
                    "Riittääkö 160 cm:n pöytäliina kuuden hengen pöytään?",
                    "Yleensä riittää, jos pöytä on noin 120 cm pitkä – reunoille jää silloin 20 cm. Yli "
                    "140 cm:n pöytään suosittelen 200 cm:n liinaa.",
                ),
            ),
            "Tuoteneuvontaa.",
            tag="tuoteneuvonta",
        ),
        Topic(
            3,
            SPAM,
            (
                (
                    "Hei, tarjoamme hakukoneoptimointia edullisesti, kiinnostaako?",
                    "Tämä chat palvelee Kotipuodin asiakkaita, joten emme valitettavasti voi auttaa tässä.",
                ),
                (
                    "Voitit lahjakortin! Lunasta se osoitteessa www.example.org/voitto",
                    "Tämä chat palvelee Kotipuodin asiakkaita. Emme jaa lahjakortteja tällaisten linkkien kautta.",
                ),
            ),
            "",
        ),
    ),
    greetings=("Moikka!", "Hei!", "Moi!"),
    thanks=("Kiitos paljon!", "Kiitti, tää auttoi!", "Selvä, kiitos!", "Okei, kiitos avusta!"),
    goodbyes=(
        "Ole hyvä! Mukavaa päivänjatkoa 😊",
        "Kiva kun pystyin auttamaan, tervetuloa uudestaan!",
        "Eipä kestä! Mukavaa viikonjatkoa.",
    ),
    offline_suffix="Vastaisitteko sähköpostiin {email}? T. {name}",
    offline_reply="Hei {first}, kiitos viestistäsi!",
    unanswered=("Onko siellä ketään?", "Haloo?"),
    good_comments=(
        "Nopea ja ystävällinen palvelu!",
        "Sain vastauksen heti, kiitos.",
        "Tosi hyvää palvelua.",
        "Selkeä vastaus, kiitos!",
    ),
    bad_comments=("Vastaus tuli hitaasti.", "Ei ratkaissut ongelmaani.", "Jouduin odottamaan pitkään."),
    names=(
        "Matti Korhonen",
        "Laura Nieminen",
        "Antti Mäkelä",
        "Sanna Hämäläinen",
        "Juha Heikkinen",
        "Emilia Koskinen",
        "Ville Järvinen",
        "Noora Saarinen",
        "Petri Lehtinen",
        "Heidi Salonen",
        "Tiina Rantanen",
        "Jari Leinonen",
    ),
    pages=(
        ("/", "Kotipuoti – kodin sisustus ja keittiö"),
        ("/keittio", "Keittiö"),
        ("/keittio/kahvinkeittimet", "Kahvinkeittimet"),
        ("/keittio/pannut/pannu-pro-28", "Pannu Pro 28 cm"),
        ("/sisustus/verhot", "Verhot"),
        ("/tekstiilit/poytaliinat", "Pöytäliinat"),
        ("/astiat/teema", "Teema-astiasto"),
        ("/ale", "Ale"),
        ("/toimitus-ja-palautukset", "Toimitus ja palautukset"),
        ("/ostoskori", "Ostoskori"),
    ),
    companies=("Kahvila Aamukaste", "Toimistopalvelu Lehto Oy", "Ravintola Sointu", "Tilitoimisto Kivi Oy"),
    order_prefix="KP-",
    phone_patterns=("040 ### ####", "050 ### ####", "044 ### ####", "045 ### ####"),
    notes=(
        (ESCALATED, "Asiakas oli aika harmissaan – toivottavasti asiakaspalvelu ehtii vastata ajoissa."),
        (ESCALATED, "Sama tilaus kysytty jo aiemmin tällä viikolla, ks. aiempi keskustelu."),
        (ESCALATED, "Tilausnumero tarkistettu asiakkaalta kahteen kertaan."),
        (LEAD, "Kysyi myös lahjakorteista – kannattaa mainita myynnille."),
        (LEAD, "Vaikutti tosi kiinnostuneelta, kannattaa olla yhteydessä pian."),
        (RESOLVED, "Asiakas ei löytänyt tietoa sivuilta – toimitussivua voisi selkeyttää."),
        (RESOLVED, "Kysyi samaa jo viime viikolla."),
        (SPAM, "Sama roskaviesti kuin eilen, eri nimellä."),
    ),
)

ENERGIA_SCRIPT = ChatScript(
    topics=(
        Topic(
            14,
            RESOLVED,
            (
                (
                    "Ile kosztuje karnet miesięczny?",
                    "Karnet Open kosztuje 169 zł miesięcznie przy umowie na 12 miesięcy lub 199 zł miesięcznie "
                    "bez zobowiązań. Obejmuje siłownię i wszystkie zajęcia grupowe w obu klubach.",
                ),
                (
                    "Jaka jest cena karnetu studenckiego?",
                    "Karnet studencki kosztuje 139 zł miesięcznie – wystarczy okazać ważną legitymację w recepcji.",
                ),
                (
                    "Czy jest tańszy karnet na poranne treningi?",
                    "Tak, karnet Poranny z wejściami do godz. 15:00 kosztuje 119 zł miesięcznie.",
                ),
            ),
            "Pytanie o cennik karnetów.",
            tag="karnety",
            follow_ups=(
                (
                    "Czy jest opłata wpisowa?",
                    "Standardowo opłata wpisowa wynosi 49 zł, ale w obecnej promocji nie jest pobierana.",
                ),
                (
                    "Czy można zapłacić za cały rok z góry?",
                    "Oczywiście. Przy płatności z góry za 12 miesięcy karnet Open kosztuje 1690 zł – dwa "
                    "miesiące są wtedy gratis.",
                ),
            ),
        ),
        Topic(
            12,
            BOOKING,
            (
                (
                    "Jak mogę zapisać się na trening próbny?",
                    "Pierwszy trening z trenerem jest bezpłatny i trwa 60 minut. Proszę podać imię "
                    "i nazwisko, adres e-mail oraz dogodny termin, a od razu go zarezerwuję.",
                ),
                (
                    "Czy można umówić się na darmowy trening z trenerem?",
                    "Oczywiście, pierwszy trening z trenerem jest bezpłatny. Proszę podać imię i nazwisko, "
                    "adres e-mail oraz preferowany termin.",
                ),
            ),
            "Rezerwacja bezpłatnego treningu próbnego: {date}, godz. {time}.",
            contact=(
                "{name}, {email}, najlepiej {date} około {time}.",
                "Dziękuję! Trening próbny jest zarezerwowany na {date}, godz. {time}. Potwierdzenie wyślemy "
                "na podany adres e-mail.",
            ),
            tag="rezerwacja",
        ),
        Topic(
            12,
            BOOKING,
            (
                (
                    "Czy są jeszcze wolne miejsca na jogę w czwartek o 18:00?",
                    "Tak, są jeszcze wolne miejsca. Chętnie zarezerwuję miejsce – proszę podać imię i nazwisko "
                    "oraz adres e-mail lub numer karty klubowej.",
                ),
                (
                    "Proszę o zapis na cycling w sobotę o 9:00.",
                    "Oczywiście, zostało jeszcze kilka wolnych rowerów. Proszę podać imię i nazwisko oraz "
                    "adres e-mail lub numer karty klubowej.",
                ),
                (
                    "Czy można zarezerwować pilates na wtorek wieczorem?",
                    "Tak, we wtorek o 19:00 są jeszcze wolne miejsca na pilates. Proszę podać imię i nazwisko "
                    "oraz adres e-mail lub numer karty klubowej.",
                ),
            ),
            "Rezerwacja miejsca na zajęciach grupowych.",
            contact=(
                "{name}, {email}",
                "Dziękuję, miejsce jest zarezerwowane. Rezerwację można bezpłatnie odwołać w aplikacji "
                "Energia do 2 godzin przed zajęciami.",
            ),
            tag="rezerwacja",
        ),
        Topic(
            6,
            BOOKING,
            (
                (
                    "Ile kosztuje trening personalny?",
                    "Trening personalny kosztuje 150 zł za 60 minut, a pakiet 10 treningów 1300 zł. Czy umówić "
                    "pierwsze spotkanie z trenerem? Wystarczy imię i nazwisko oraz adres e-mail.",
                ),
            ),
            "Umówienie treningu personalnego; trener ustali termin mailowo.",
            contact=(
                "Tak, poproszę. {name}, {email}, tel. {phone}",
                "Dziękuję! Trener skontaktuje się w ciągu jednego dnia roboczego, aby ustalić termin.",
            ),
            tag="trening personalny",
        ),
        Topic(
            4,
            LEAD,
            (
                (
                    "Czy mają Państwo ofertę karnetów dla firm?",
                    "Tak, przygotowujemy oferty dla firm od 10 osób, z rabatem do 20% i jedną fakturą "
                    "zbiorczą. Proszę podać imię i nazwisko, nazwę firmy, adres e-mail oraz numer telefonu, "
                    "a dział sprzedaży przygotuje ofertę w ciągu jednego dnia roboczego.",
                ),
                (
                    "Szukamy pakietu sportowego dla około 25 pracowników. Czy możemy otrzymać ofertę?",
                    "Oczywiście, z przyjemnością przygotujemy ofertę. Proszę podać imię i nazwisko, nazwę firmy, "
                    "adres e-mail oraz numer telefonu – dział sprzedaży odezwie się w ciągu jednego dnia roboczego.",
                ),
            ),
            "Zapytanie o karnety firmowe; dane przekazane do działu sprzedaży.",
            contact=(
                "{name}, {company}, {email}, tel. {phone}",
                "Dziękuję, dane zostały przekazane do działu sprzedaży. Oferta zostanie przesłana mailowo "
                "w ciągu jednego dnia roboczego.",
            ),
            tag="oferta dla firm",
            wants="Oferta karnetów firmowych dla {company} (od 10 osób, rabat do 20%). Dział sprzedaży "
            "kontaktuje się w ciągu jednego dnia roboczego.",
        ),
        Topic(
            10,
            RESOLVED,
            (
                (
                    "W jakich godzinach jest otwarty klub na Woli?",
                    "Oba kluby są czynne od poniedziałku do piątku w godz. 6:00–23:00, a w soboty i niedziele "
                    "w godz. 8:00–20:00.",
                ),
                (
                    "Czy w niedzielę siłownia jest czynna?",
                    "Tak, w niedziele oba kluby są czynne w godz. 8:00–20:00.",
                ),
                (
                    "Czy klub jest otwarty w święta?",
                    "W święta państwowe kluby są zamknięte. Aktualne godziny otwarcia publikujemy zawsze "
                    "w aplikacji Energia.",
                ),
            ),
            "Pytanie o godziny otwarcia.",
        ),
        Topic(
            5,
            ESCALATED,
            (
                (
                    "Chcę zawiesić karnet na miesiąc z powodu kontuzji.",
                    "Przykro mi z powodu kontuzji. Karnet można zawiesić raz w roku na 14–60 dni za opłatą "
                    "19 zł. Proszę podać imię i nazwisko oraz adres e-mail przypisany do karnetu, a przekażę "
                    "prośbę do biura obsługi klienta.",
                ),
                (
                    "Jak mogę wypowiedzieć umowę?",
                    "Umowę roczną można wypowiedzieć po 12 miesiącach z jednomiesięcznym okresem "
                    "wypowiedzenia. Proszę podać imię i nazwisko oraz adres e-mail przypisany do karnetu, "
                    "a przekażę prośbę do biura obsługi klienta.",
                ),
            ),
            "Prośba o zawieszenie lub wypowiedzenie umowy – proszę o kontakt z klientem.",
            contact=(
                "{name}, {email}",
                "Dziękuję, prośba została przekazana. Biuro obsługi klienta odpowie mailowo w ciągu dwóch "
                "dni roboczych.",
            ),
            tag="umowa",
            promise=Promise("Biuro obsługi klienta odpowie mailowo w ciągu dwóch dni roboczych.", 2, 16),
        ),
        Topic(
            9,
            RESOLVED,
            (
                (
                    "Czy honorujecie kartę Multisport?",
                    "Tak, honorujemy karty Multisport i Medicover Sport. Siłownia i zajęcia grupowe są w cenie, "
                    "a za trening z trenerem obowiązuje dopłata.",
                ),
            ),
            "Pytanie o karty sportowe.",
            tag="karty sportowe",
        ),
        Topic(
            5,
            RESOLVED,
            (
                (
                    "Czy przy klubie na Mokotowie jest parking?",
                    "Tak, przy klubie jest bezpłatny parking podziemny – 2 godziny z biletem z recepcji.",
                ),
                (
                    "Czy w klubie są ręczniki?",
                    "Ręczniki można wypożyczyć w recepcji za 5 zł. W szatniach są też sauny i suszarki do włosów.",
                ),
            ),
            "Pytanie o udogodnienia w klubie.",
        ),
        Topic(
            3,
            ESCALATED,
            (
                (
                    "Nie mogę zalogować się do aplikacji, pojawia się komunikat, że konto nie istnieje.",
                    "Przepraszam za kłopot. Przekażę zgłoszenie do działu technicznego – proszę podać adres "
                    "e-mail przypisany do karnetu.",
                ),
            ),
            "Problem z logowaniem do aplikacji – proszę o weryfikację konta.",
            contact=(
                "{email}",
                "Dziękuję, zgłoszenie zostało przekazane. Odpowiemy mailowo najpóźniej w następnym dniu roboczym.",
            ),
            tag="aplikacja",
            promise=Promise("Dział techniczny odpowie mailowo najpóźniej w następnym dniu roboczym.", 1, 16),
        ),
        Topic(
            3,
            SPAM,
            (
                (
                    "Oferujemy tanie suplementy w hurcie, są Państwo zainteresowani?",
                    "Ten czat służy obsłudze klientów klubu, dlatego nie możemy pomóc w tej sprawie.",
                ),
            ),
            "",
        ),
    ),
    greetings=("Dzień dobry!",),
    thanks=("Dziękuję bardzo!", "Dziękuję, to wszystko.", "Super, dziękuję za pomoc."),
    goodbyes=(
        "Dziękujemy za rozmowę i zapraszamy na trening! Miłego dnia.",
        "Dziękujemy i do zobaczenia w klubie!",
        "Cieszymy się, że mogliśmy pomóc. Miłego dnia!",
    ),
    offline_suffix="Proszę o odpowiedź na adres {email}. {name}",
    offline_reply="Dzień dobry, dziękujemy za wiadomość.",
    unanswered=("Halo, czy ktoś jest?", "Czy mogę liczyć na odpowiedź?"),
    good_comments=(
        "Bardzo szybka i miła obsługa.",
        "Wszystko jasno wyjaśnione, dziękuję.",
        "Sprawnie i uprzejmie.",
    ),
    bad_comments=("Długi czas oczekiwania na odpowiedź.", "Problem nie został rozwiązany."),
    names=(
        "Anna Nowak",
        "Piotr Wójcik",
        "Katarzyna Lewandowska",
        "Tomasz Zieliński",
        "Magdalena Szymańska",
        "Michał Woźniak",
        "Agnieszka Dąbrowska",
        "Paweł Kozłowski",
        "Joanna Jankowska",
        "Krzysztof Mazur",
        "Aleksandra Krawczyk",
        "Marcin Kaczmarek",
    ),
    pages=(
        ("/", "Energia Fitness – kluby fitness w Warszawie"),
        ("/cennik", "Cennik karnetów"),
        ("/grafik", "Grafik zajęć"),
        ("/zajecia/joga", "Joga"),
        ("/zajecia/cycling", "Cycling"),
        ("/zajecia/pilates", "Pilates"),
        ("/trening-personalny", "Trening personalny"),
        ("/kluby/mokotow", "Klub Mokotów"),
        ("/kluby/wola", "Klub Wola"),
        ("/kontakt", "Kontakt"),
    ),
    companies=(
        "Kancelaria Prawna Lis i Wspólnicy",
        "Vistula Software sp. z o.o.",
        "Biuro Rachunkowe Mazur",
        "Agencja Reklamowa Kreska",
    ),
    phone_patterns=("+48 ### ### ###", "5## ### ###", "6## ### ###"),
    notes=(
        (ESCALATED, "Klient wyraźnie zdenerwowany, prosi o szybki kontakt."),
        (ESCALATED, "Klient pisał już w tej sprawie w zeszłym tygodniu."),
        (BOOKING, "Osoba początkująca – warto uprzedzić trenera."),
        (BOOKING, "Prosi o trenerkę, jeśli to możliwe."),
        (LEAD, "Firma porównuje oferty kilku klubów, decyzja jeszcze w tym miesiącu."),
        (RESOLVED, "Pytanie o cennik mimo informacji na stronie – może warto go wyróżnić."),
        (SPAM, "Ta sama oferta co wczoraj, z innego adresu."),
    ),
)

TENANTS: tuple[TenantSpec, ...] = (
    TenantSpec(
        slug="kotipuoti",
        name="Kotipuoti Oy",
        language="fi",
        tone=Tenant.Tone.CASUAL,
        time_zone="Europe/Helsinki",
        goals=(Tenant.Goal.LEADS, Tenant.Goal.SUPPORT),
        colour="#e4572e",
        greeting="Moikka! Miten voin auttaa?",
        style_notes=(
            "Casual: use “sinä”, first names and short sentences; one emoji at most per chat. "
            "Sign off with “Mukavaa päivänjatkoa!”. Mention free delivery over 79 € whenever prices come up. "
            "Ask for name and e-mail whenever a product is out of stock: that is a lead."
        ),
        hours=((0, 3, "08:00", "22:00"), (4, 4, "08:00", "01:00"), (5, 5, "10:00", "18:00"), (6, 6, "12:00", "18:00")),
        holidays=(
            (1, 1, "Uudenvuodenpäivä"),
            (1, 6, "Loppiainen"),
            (5, 1, "Vappu"),
            (12, 6, "Itsenäisyyspäivä"),
            (12, 24, "Jouluaatto"),
            (12, 25, "Joulupäivä"),
            (12, 26, "Tapaninpäivä"),
        ),
        articles=(
            (
                "Toimitustavat ja -ajat",
                "toimitus, posti, matkahuolto, toimitusaika, toimitusmaksu, kotiinkuljetus",
                "Toimitamme tilaukset Postin ja Matkahuollon noutopisteisiin koko Suomeen sekä "
                "kotiinkuljetuksena pääkaupunkiseudulle. Varastossa olevat tuotteet lähtevät 1–2 arkipäivässä, "
                "ja toimitus kestää yleensä 2–4 arkipäivää (Lappiin 3–4).\n\n"
                "Toimitus on ilmainen yli 79 euron tilauksiin. Sitä pienemmissä tilauksissa toimitus "
                "noutopisteeseen maksaa 5,90 € ja kotiinkuljetus 14,90 €. Noutopisteen voi vaihtaa "
                "seurantalinkin kautta niin kauan kuin paketti ei ole perillä.",
            ),
            (
                "Palautukset ja vaihdot",
                "palautus, vaihto, palautusoikeus, rahojen palautus",
                "Tuotteilla on 30 päivän palautusoikeus, ja palautus on asiakkaalle maksuton. Asiakas tekee "
                "palautusilmoituksen osoitteessa kotipuoti.example/palautus ja saa sähköpostiin palautuskoodin, "
                "jolla paketin voi jättää mihin tahansa Postin noutopisteeseen.\n\n"
                "Rahat palautetaan samalle maksutavalle viiden arkipäivän kuluessa siitä, kun palautus on "
                "saapunut varastolle. Käyttämättömän tuotteen voi vaihtaa toiseen kokoon tai väriin "
                "valitsemalla ilmoituksessa ”vaihto”.",
            ),
            (
                "Maksutavat",
                "maksu, lasku, osamaksu, klarna, mobilepay, kortti",
                "Käytössä ovat verkkopankit, Visa, Mastercard, MobilePay, Apple Pay ja Google Pay sekä lasku ja "
                "osamaksu Klarnan kautta. Laskun maksuaika on 14 päivää.\n\n"
                "Yritysasiakkaat voivat tilata myös e-laskulla; ohjaa heidät myyntiin "
                "(myynti@kotipuoti.example).",
            ),
            (
                "Tilauksen seuranta ja viivästykset",
                "seuranta, seurantakoodi, tilausnumero, viivästys, missä paketti",
                "Asiakas saa seurantakoodin sähköpostiin ja tekstiviestinä, kun paketti lähtee varastolta. "
                "Tilausnumerot alkavat KP-.\n\n"
                "Agentit eivät näe varastojärjestelmää. Jos seurantakoodia ei ole tullut kahden arkipäivän "
                "kuluessa tai paketti on jumissa, kirjaa tilausnumero ja eskaloi keskustelu asiakaspalveluun, "
                "joka vastaa asiakkaalle sähköpostitse seuraavaan aamupäivään mennessä.",
            ),
            (
                "Takuu ja reklamaatiot",
                "takuu, reklamaatio, rikki, viallinen, kahvinkeitin",
                "Kaikilla tuotteilla on vähintään vuoden takuu, keittiökoneilla kaksi vuotta. Viallisesta tai "
                "kuljetuksessa rikkoutuneesta tuotteesta pyydetään kuva ja tilausnumero osoitteeseen "
                "asiakaspalvelu@kotipuoti.example. Merkitse keskustelu eskaloiduksi; asiakaspalvelu lähettää "
                "uuden tuotteen tai palauttaa rahat.",
            ),
            (
                "Alennuskoodit ja kanta-asiakasetu",
                "alennuskoodi, kampanjakoodi, uutiskirje, bonus, kanta-asiakas",
                "Uutiskirjeen tilaaja saa 10 %:n alennuskoodin ensimmäiseen tilaukseen. Koodit eivät käy jo "
                "alennettuihin tuotteisiin, eikä kahta koodia voi yhdistää: jos koodi ei toimi, tarkista ensin "
                "ostoskorin alennetut tuotteet.\n\n"
                "Kanta-asiakkaat saavat 3 % ostoistaan bonuksena seuraavaan tilaukseen.",
            ),
            (
                "Yritysmyynti ja tarjouspyynnöt",
                "yritys, tarjous, toimisto, ravintola, kahvila, liidi",
                "Yli 500 euron hankinnoista (toimistot, kahvilat, ravintolat) tehdään tarjous. Kirjaa asiakkaan "
                "nimi, yritys ja sähköpostiosoite sekä mitä tarvitaan, ja merkitse keskustelu liidiksi. Myynti "
                "ottaa yhteyttä seuraavana arkipäivänä.",
            ),
        ),
        canned=(
            ("tervehdys", "Moikka! Kiva kun tulit juttelemaan. Miten voin auttaa?"),
            (
                "toimitus",
                "Varastossa olevat tuotteet lähtevät 1–2 arkipäivässä, ja perillä ne ovat yleensä 2–4 arkipäivässä. "
                "Yli 79 euron tilaukset toimitetaan ilmaiseksi.",
            ),
            (
                "palautus",
                "Palautus on ilmainen 30 päivän ajan: tee palautusilmoitus osoitteessa kotipuoti.example/palautus, "
                "niin saat palautuskoodin sähköpostiisi.",
            ),
            (
                "yhteystiedot",
                "Voisitko jättää nimesi ja sähköpostiosoitteesi? Välitän asian eteenpäin, ja sinuun otetaan "
                "yhteyttä seuraavana arkipäivänä.",
            ),
            ("lopetus", "Kiitos juttuseurasta ja mukavaa päivänjatkoa! Tervetuloa uudestaan."),
        ),
        notice=(
            "Ilmaisen toimituksen raja laski 79 euroon",
            "Ilmaisen toimituksen raja laski 99 eurosta 79 euroon, ja muutos on voimassa kaikissa "
            "toimitustavoissa. Kerro uudesta rajasta asiakkaille, jotka kysyvät toimitusmaksuista.",
        ),
        recipients=(
            ("Johanna Lehtonen", "johanna.lehtonen@kotipuoti.example", True, True, False),
            ("Kari Virtanen", "kari.virtanen@kotipuoti.example", False, True, False),
            ("Asiakaspalvelu", "asiakaspalvelu@kotipuoti.example", False, False, True),
        ),
        client=("client-kotipuoti", "Johanna Lehtonen", "johanna.lehtonen@kotipuoti.example"),
        contract_days_ago=87,
        live=True,
        script=KOTIPUOTI_SCRIPT,
        traffic=Traffic(
            daily_chats=34,
            hourly=WEB_SHOP_HOURLY,
            weekday_factors=(1.1, 1.0, 1.0, 1.0, 0.9, 0.8, 1.05),
            weekly_growth=0.025,
            visits_per_chat=3.6,
        ),
        escalation_rules=(
            "Siirrä asiakaspalvelulle (asiakaspalvelu@kotipuoti.example):\n"
            "– viivästynyt tai kadonnut tilaus, jos seurantakoodia ei ole tullut kahden arkipäivän kuluessa "
            "(kirjaa tilausnumero KP-…)\n"
            "– reklamaatiot: viallinen tai kuljetuksessa rikkoutunut tuote (pyydä kuva ja tilausnumero)\n"
            "– hyvitys- ja korvauspyynnöt.\n\n"
            "Saat luvata: vastauksen sähköpostitse seuraavan arkipäivän aamupäivänä, reklamaatioihin kahden "
            "arkipäivän kuluessa.\n"
            "Älä lupaa hyvityksiä, uutta tuotetta tai toimituspäivää – niistä päättää asiakaspalvelu.\n"
            "Yritystarjoukset eivät ole eskalaatioita: kirjaa ne liideiksi, niin myynti saa ne."
        ),
        invitations=(
            Invitation(
                "Ostoskori, 30 s",
                "*/ostoskori*",
                30,
                "Moikka! Jäikö jokin mietityttämään ennen tilausta? Kysy vaan, autan mielelläni.",
            ),
            Invitation(
                "Toimitus ja palautukset, 20 s",
                "*/toimitus-ja-palautukset*",
                20,
                "Hei! Etsitkö tietoa toimituksesta tai palautuksesta? Vastaan heti.",
            ),
            Invitation(
                "Palaava kävijä keittiötuotteissa, 45 s",
                "*/keittio/*",
                45,
                "Tervetuloa takaisin! Voinko auttaa valitsemaan sopivan tuotteen?",
                returning_only=True,
            ),
        ),
        tags=(
            "toimitus",
            "palautus",
            "varastotilanne",
            "yritysasiakas",
            "reklamaatio",
            "maksaminen",
            "alennuskoodi",
            "tuoteneuvonta",
        ),
        earlier_notices=(
            (
                "MobilePay käytössä kassalla",
                "Kassalla voi nyt maksaa myös MobilePaylla. Kerro siitä asiakkaille, jotka kysyvät maksutavoista.",
                24,
            ),
        ),
        handoff_errors=("SMTPRecipientsRefused: {'asiakaspalvelu@kotipuoti.example': (452, '4.2.2 Mailbox full')}",),
    ),
    TenantSpec(
        slug="energia-fitness",
        name="Klub Fitness Energia",
        language="pl",
        tone=Tenant.Tone.FORMAL,
        time_zone="Europe/Warsaw",
        goals=(Tenant.Goal.BOOKINGS, Tenant.Goal.SUPPORT),
        colour="#1b998b",
        greeting="Dzień dobry! W czym możemy pomóc?",
        style_notes=(
            "Formal: “Dzień dobry”, impersonal “Proszę …” forms or Pan/Pani; no emojis. "
            "Whenever someone asks about prices, offer the free trial session and book it in the chat."
        ),
        hours=((0, 4, "07:00", "21:00"), (5, 5, "08:00", "16:00"), (6, 6, "09:00", "15:00")),
        holidays=(
            (1, 1, "Nowy Rok"),
            (1, 6, "Święto Trzech Króli"),
            (5, 1, "Święto Pracy"),
            (5, 3, "Święto Konstytucji 3 Maja"),
            (8, 15, "Wniebowzięcie NMP"),
            (11, 1, "Wszystkich Świętych"),
            (11, 11, "Narodowe Święto Niepodległości"),
            (12, 24, "Wigilia Bożego Narodzenia"),
            (12, 25, "Boże Narodzenie"),
            (12, 26, "Drugi dzień Bożego Narodzenia"),
        ),
        articles=(
            (
                "Godziny otwarcia klubów i czatu",
                "godziny, otwarcie, niedziela, święta, recepcja",
                "Kluby na Mokotowie i Woli są czynne od poniedziałku do piątku w godz. 6:00–23:00, a w soboty "
                "i niedziele w godz. 8:00–20:00. W święta państwowe kluby są zamknięte.\n\n"
                "Czat działa od poniedziałku do piątku w godz. 7:00–21:00, w soboty 8:00–16:00 i w niedziele "
                "9:00–15:00.",
            ),
            (
                "Karnety i ceny",
                "karnet, cennik, cena, student, poranny, wpisowe",
                "Karnet Open (siłownia i wszystkie zajęcia w obu klubach): 169 zł miesięcznie przy umowie na "
                "12 miesięcy lub 199 zł bez zobowiązań; płatność z góry za rok 1690 zł. Karnet Poranny (wejścia "
                "do 15:00): 119 zł. Karnet studencki: 139 zł po okazaniu legitymacji.\n\n"
                "Opłata wpisowa wynosi 49 zł; w obecnej promocji nie jest pobierana.",
            ),
            (
                "Rezerwacja zajęć grupowych",
                "rezerwacja, zajęcia, joga, pilates, cycling, odwołanie",
                "Zajęcia grupowe (joga, pilates, zumba, cycling, crossfit) rezerwuje się w aplikacji Energia "
                "lub przez czat, do 7 dni naprzód. Przy rezerwacji przez czat potrzebne są: imię i nazwisko, "
                "adres e-mail lub numer karty klubowej, zajęcia, dzień i godzina.\n\n"
                "Rezerwację można bezpłatnie odwołać do 2 godzin przed zajęciami; późniejsze odwołanie lub "
                "nieobecność blokuje zapisy na 48 godzin.",
            ),
            (
                "Trening próbny i trening personalny",
                "trening próbny, trener, trening personalny, pakiet",
                "Pierwsza wizyta z 60-minutowym treningiem próbnym z trenerem jest bezpłatna. Trening personalny "
                "kosztuje 150 zł za 60 minut, pakiet 10 treningów 1300 zł.\n\n"
                "Przy rezerwacji zapytaj o cel treningowy i dogodne godziny, zapisz imię, nazwisko i adres "
                "e-mail i oznacz rozmowę jako rezerwację.",
            ),
            (
                "Zawieszenie i wypowiedzenie umowy",
                "zawieszenie, wypowiedzenie, rezygnacja, kontuzja, umowa",
                "Karnet można zawiesić raz w roku na 14–60 dni (np. choroba, wyjazd) za opłatą 19 zł. Umowę "
                "roczną można wypowiedzieć po 12 miesiącach z jednomiesięcznym okresem wypowiedzenia.\n\n"
                "Czat nie realizuje tych spraw: zapisz imię, nazwisko i adres e-mail przypisany do karnetu "
                "i eskaluj rozmowę do biura obsługi klienta.",
            ),
            (
                "Karty sportowe",
                "multisport, medicover, karta sportowa, dopłata",
                "Honorujemy karty Multisport i Medicover Sport. Siłownia i zajęcia grupowe są w cenie karty; "
                "za trening z trenerem obowiązuje dopłata 100 zł.",
            ),
            (
                "Parking, szatnie i udogodnienia",
                "parking, ręcznik, sauna, szatnia, dzieci",
                "Przy klubie na Mokotowie jest bezpłatny parking podziemny (2 godziny z biletem z recepcji). "
                "W obu klubach są szatnie z sauną, ręczniki do wypożyczenia (5 zł) i kącik dla dzieci w dni "
                "robocze w godz. 9:00–13:00.",
            ),
        ),
        canned=(
            ("powitanie", "Dzień dobry! Dziękujemy za wiadomość. W czym możemy pomóc?"),
            (
                "cennik",
                "Karnet Open kosztuje 169 zł miesięcznie przy umowie na 12 miesięcy lub 199 zł bez zobowiązań. "
                "Pełny cennik jest na stronie energia-fitness.example/cennik.",
            ),
            (
                "rezerwacja",
                "Chętnie zarezerwuję zajęcia. Proszę podać imię i nazwisko, adres e-mail lub numer karty klubowej "
                "oraz wybrany termin.",
            ),
            (
                "odwolanie",
                "Rezerwację można bezpłatnie odwołać w aplikacji Energia do 2 godzin przed rozpoczęciem zajęć.",
            ),
            ("trening-probny", "Pierwszy trening z trenerem jest bezpłatny i trwa 60 minut. Czy umówić termin?"),
            ("pozegnanie", "Dziękujemy za rozmowę i zapraszamy na trening! Miłego dnia."),
        ),
        notice=(
            "Nowe zajęcia: Pilates Reformer w klubie Mokotów",
            "Od przyszłego miesiąca w klubie Mokotów ruszają zajęcia Pilates Reformer (wtorki i czwartki "
            "o 18:00, soboty o 10:00). Zajęcia nie są wliczone w karnet Open – dopłata wynosi 35 zł za wejście. "
            "Zapisy wyłącznie przez aplikację lub czat.",
        ),
        recipients=(
            ("Tomasz Kamiński", "tomasz.kaminski@energia-fitness.example", True, True, False),
            ("Biuro Obsługi Klienta", "bok@energia-fitness.example", False, False, True),
        ),
        client=("client-energia", "Tomasz Kamiński", "tomasz.kaminski@energia-fitness.example"),
        contract_days_ago=84,
        live=True,
        script=ENERGIA_SCRIPT,
        traffic=Traffic(
            daily_chats=28,
            hourly=FITNESS_CLUB_HOURLY,
            weekday_factors=(1.2, 1.1, 1.05, 1.0, 0.85, 0.75, 0.8),
            weekly_growth=0.02,
            visits_per_chat=3.3,
        ),
        escalation_rules=(
            "Do Biura Obsługi Klienta (bok@energia-fitness.example) przekazujemy:\n"
            "– zawieszenie i wypowiedzenie umowy (imię i nazwisko, adres e-mail przypisany do karnetu, powód)\n"
            "– problemy z kontem i logowaniem w aplikacji Energia (adres e-mail i dokładna treść komunikatu)\n"
            "– reklamacje płatności i prośby o zwrot.\n\n"
            "Klientowi można obiecać odpowiedź mailową: w sprawach aplikacji w następnym dniu roboczym, "
            "w sprawach umów w ciągu dwóch dni roboczych.\n"
            "Nie obiecujemy zwrotu opłat, zwolnienia z opłaty za zawieszenie ani przedłużenia promocji.\n"
            "Zapytania firm o karnety firmowe to leady dla działu sprzedaży, nie eskalacje."
        ),
        invitations=(
            Invitation(
                "Cennik, 30 s",
                "*/cennik*",
                30,
                "Dzień dobry! Czy możemy pomóc w wyborze karnetu? Pierwszy trening z trenerem jest bezpłatny.",
            ),
            Invitation(
                "Trening personalny, 40 s",
                "*/trening-personalny*",
                40,
                "Dzień dobry! Czy umówić bezpłatny trening próbny z trenerem?",
            ),
            Invitation(
                "Powracający na stronach zajęć, 45 s",
                "*/zajecia/*",
                45,
                "Dzień dobry! Czy zarezerwować miejsce na zajęciach?",
                returning_only=True,
            ),
        ),
        tags=(
            "karnety",
            "rezerwacja",
            "trening personalny",
            "umowa",
            "aplikacja",
            "karty sportowe",
            "oferta dla firm",
        ),
        earlier_notices=(
            (
                "Nowa cena karnetu studenckiego",
                "Od tego miesiąca karnet studencki kosztuje 139 zł miesięcznie (wcześniej 129 zł). Dotychczasowi "
                "klienci zachowują starą cenę do końca umowy.",
                31,
            ),
        ),
        handoff_errors=(
            "SMTPDataError: (554, '5.7.1 Message rejected: spam content detected by the recipient's filter')",
        ),
    ),
    TenantSpec(
        slug="ledgerly",
        name="Ledgerly Ltd",
        language="en",
        tone=Tenant.Tone.CASUAL,
        time_zone="Europe/London",
        goals=(Tenant.Goal.LEADS, Tenant.Goal.SUPPORT),
        colour="#3d5a80",
        greeting="Hi there! Questions about Ledgerly? We're here to help.",
        style_notes=(
            "Friendly, plain British English; first names are fine. Never give tax advice – refer to the "
            "customer's accountant. Offer a demo to anyone comparing plans and take their details as a lead."
        ),
        hours=((0, 4, "08:00", "18:00"), (5, 5, "10:00", "14:00")),
        holidays=(
            (1, 1, "New Year's Day"),
            (12, 25, "Christmas Day"),
            (12, 26, "Boxing Day"),
        ),
        articles=(
            (
                "Plans and pricing",
                "price, plan, starter, growth, business, vat, trial",
                "Starter £12/month (1 user, 50 invoices a month); Growth £29/month (5 users, unlimited invoices, "
                "bank feeds); Business £59/month (unlimited users, multi-currency, priority support). Prices "
                "exclude VAT, and annual billing saves two months.\n\n"
                "Every plan starts with a 30-day free trial; no card needed.",
            ),
            (
                "Free trial and demos",
                "trial, demo, walkthrough, lead, sales",
                "The 30-day trial unlocks every Growth feature. Prospects who want a walkthrough can book a "
                "30-minute online demo: take their name, company, e-mail and team size and mark the chat as a "
                "lead. Sales replies within one working day.",
            ),
            (
                "Bank feeds",
                "bank, feed, open banking, reconnect, sync",
                "Ledgerly connects to UK banks through Open Banking (Barclays, HSBC, Lloyds, NatWest, Santander, "
                "Monzo, Starling and more). A connection must be renewed every 90 days; the app e-mails a "
                "reminder a week before.\n\n"
                "If a feed stops syncing, ask the customer to reconnect under Settings → Bank accounts; if that "
                "fails, escalate with the bank's name and the exact error text.",
            ),
            (
                "Making Tax Digital VAT returns",
                "mtd, vat, hmrc, tax return",
                "Ledgerly is recognised by HMRC for Making Tax Digital for VAT. Customers connect their HMRC "
                "account under Settings → Tax and file from Reports → VAT return.\n\n"
                "Agents never give tax advice: questions about what can be claimed go to the customer's "
                "accountant.",
            ),
            (
                "Changing or cancelling a plan",
                "cancel, downgrade, upgrade, refund, billing",
                "Customers upgrade, downgrade or cancel any time under Settings → Billing; changes apply from "
                "the next billing date, and data stays available read-only for 12 months after cancelling. "
                "Refund requests are escalated to the billing team.",
            ),
            (
                "Security and data protection",
                "security, gdpr, data, export, two-factor",
                "Data is stored in the EU (Ireland), encrypted in transit and at rest, and every user can turn "
                "on two-factor authentication. Data exports and deletion requests under GDPR go to "
                "privacy@ledgerly.example.",
            ),
        ),
        canned=(
            ("hello", "Hi! Thanks for getting in touch with Ledgerly. How can I help?"),
            (
                "pricing",
                "Plans start at £12/month for Starter; Growth is £29 and Business £59 (all excl. VAT). Every plan "
                "comes with a 30-day free trial, no card needed.",
            ),
            (
                "demo",
                "Happy to set up a demo! Could you share your name, company, e-mail and how many people would use "
                "Ledgerly? The team will get back to you within one working day.",
            ),
            (
                "bankfeed",
                "Bank connections need renewing every 90 days. Could you try reconnecting under Settings → Bank "
                "accounts and let me know if the error persists?",
            ),
            ("bye", "Thanks for chatting with us – have a great day!"),
        ),
        notice=(
            "Xero import now available",
            "Customers can now import contacts, invoices and their chart of accounts from Xero under Settings → "
            "Import. Point anyone moving from Xero to the help article “Switching from Xero”.",
        ),
        recipients=(
            ("Hannah Price", "hannah.price@ledgerly.example", True, True, False),
            ("Support team", "support@ledgerly.example", False, False, True),
        ),
        client=("client-ledgerly", "Hannah Price", "hannah.price@ledgerly.example"),
        # Still onboarding: the widget step was due yesterday and is overdue; the test chat is next.
        contract_days_ago=25,
        manual_steps_done=("kickoff", "tone_goals"),
        widget_seen=False,
        escalation_rules=(
            "Hand over to the support team (support@ledgerly.example):\n"
            "- bank feeds that still fail after reconnecting (the bank's name and the exact error text)\n"
            "- refund requests and billing disputes\n"
            "- suspected security problems; GDPR requests go to privacy@ledgerly.example.\n\n"
            "You may promise a reply by e-mail within one working day.\n"
            "Never promise refunds, discounts or dates for new features, and never give tax advice."
        ),
        # Prepared during onboarding, switched on at go-live.
        invitations=(
            Invitation(
                "Pricing page, 30 s",
                "*/pricing*",
                30,
                "Hi! Comparing plans? I can help you pick one, or set up a quick demo.",
                is_active=False,
            ),
        ),
        tags=("pricing", "demo", "bank feeds", "billing", "mtd"),
    ),
)

AGENTS: tuple[AgentSpec, ...] = (
    AgentSpec("agent1", "Aino", "Aino Virtanen", ("fi", "en"), 3, trained_for=("kotipuoti",)),
    AgentSpec("agent2", "Mikko", "Mikko Korhonen", ("fi", "en"), 4, trained_for=("kotipuoti", "ledgerly")),
    AgentSpec("agent3", "Kasia", "Katarzyna Nowak", ("pl", "en"), 3, trained_for=("energia-fitness",)),
    AgentSpec("agent4", "Piotr", "Piotr Wiśniewski", ("pl", "en"), 2, trained_for=("energia-fitness", "ledgerly")),
    AgentSpec(
        "agent5",
        "Laura",
        "Laura Mäkinen",
        ("fi", "pl", "en"),
        4,
        trained_for=("kotipuoti", "energia-fitness", "ledgerly"),
    ),
    AgentSpec("agent6", "Oliver", "Oliver Bennett", ("en",), 2, in_training_for=("ledgerly",)),
)

MANAGER = ("Sanna Laine", "sanna.laine@" + STAFF_DOMAIN)

# Days after the contract on which each onboarding step was done.
STEP_DAYS = {
    "kickoff": 2,
    "tone_goals": 6,
    "knowledge_base": 9,
    "service_hours": 10,
    "canned_responses": 12,
    "report_recipients": 15,
    "agents_trained": 19,
    "widget_installed": 22,
    "test_chat": 25,
}
LIVE_AFTER_CONTRACT_DAYS = 30


def client_usernames() -> list[str]:
    """Return the client users' logins, one per demo tenant."""
    return [spec.client[0] for spec in TENANTS]


def agent_usernames() -> list[str]:
    """Return the agents' logins."""
    return [spec.username for spec in AGENTS]


def _demo_user_emails() -> dict[str, str]:
    emails = {MANAGER_USERNAME: MANAGER[1]}
    emails.update({spec.username: spec.email for spec in AGENTS})
    emails.update({spec.client[0]: spec.client[2] for spec in TENANTS})
    return emails


# --- Finding and removing the demo data --------------------------------------------------------


@dataclass(frozen=True)
class DemoCounts:
    """How many rows of each kind the demo has."""

    tenants: int
    agents: int
    shifts: int
    visitors: int
    page_views: int
    conversations: int
    messages: int
    invitation_rules: int
    tags: int
    tagged_conversations: int
    notes: int
    leads: int
    handoffs: int
    transcript_requests: int
    change_notices: int
    acknowledgements: int


@dataclass
class SeedResult:
    """What a seeding did: whether it built anything, for which moment, and what is there now."""

    created: bool
    now: dt.datetime
    counts: DemoCounts
    uncovered_hours: list[str] = field(default_factory=list)


def demo_tenants() -> QuerySet[Tenant]:
    """Return the demo tenants: a demo short name together with its demo widget key."""
    condition = Q(pk__in=[])
    for spec in TENANTS:
        condition |= Q(slug=spec.slug, widget_key=spec.widget_key)
    return Tenant.objects.filter(condition)


def demo_users() -> QuerySet:
    """Return the demo users: a demo username together with its demo e-mail address."""
    condition = Q(pk__in=[])
    for username, email in _demo_user_emails().items():
        condition |= Q(username=username, email=email)
    return get_user_model().objects.filter(condition)


def demo_agents() -> QuerySet[Agent]:
    """Return the agents of the demo users."""
    return Agent.objects.filter(user__in=demo_users())


def find_conflicts() -> list[str]:
    """Return why the demo cannot be seeded: tenants or users that use a demo name but are not demo data."""
    problems = []
    demo_ids = set(demo_tenants().values_list("pk", flat=True))
    for slug in (
        Tenant.objects.filter(slug__in=[spec.slug for spec in TENANTS])
        .exclude(pk__in=demo_ids)
        .values_list("slug", flat=True)
    ):
        problems.append(ERROR_TENANT_NOT_DEMO % {"slug": slug})
    demo_user_ids = set(demo_users().values_list("pk", flat=True))
    others = get_user_model().objects.filter(username__in=list(_demo_user_emails())).exclude(pk__in=demo_user_ids)
    for username in others.values_list("username", flat=True):
        problems.append(ERROR_USER_NOT_DEMO % {"username": username})
    return problems


def demo_is_complete() -> bool:
    """Say whether every demo tenant and every demo user is there."""
    return demo_tenants().count() == len(TENANTS) and demo_users().count() == len(_demo_user_emails())


def demo_counts() -> DemoCounts:
    """Count the rows of the demo data."""
    tenants = demo_tenants()
    return DemoCounts(
        tenants=tenants.count(),
        agents=demo_agents().count(),
        shifts=Shift.objects.filter(agent__in=demo_agents()).count(),
        visitors=Visitor.objects.filter(tenant__in=tenants).count(),
        page_views=PageView.objects.filter(tenant__in=tenants).count(),
        conversations=Conversation.objects.filter(tenant__in=tenants).count(),
        messages=Message.objects.filter(tenant__in=tenants).count(),
        invitation_rules=ProactiveRule.objects.filter(tenant__in=tenants).count(),
        tags=Tag.objects.filter(tenant__in=tenants).count(),
        tagged_conversations=Conversation.objects.filter(tenant__in=tenants, tags__isnull=False).distinct().count(),
        notes=Note.objects.filter(tenant__in=tenants).count(),
        leads=Lead.objects.filter(tenant__in=tenants).count(),
        handoffs=Handoff.objects.filter(tenant__in=tenants).count(),
        transcript_requests=TranscriptRequest.objects.filter(tenant__in=tenants).count(),
        change_notices=ChangeNotice.objects.filter(tenant__in=tenants).count(),
        acknowledgements=ChangeNoticeAcknowledgement.objects.filter(notice__tenant__in=tenants).count(),
    )


@transaction.atomic
def delete_demo_data() -> None:
    """Delete the demo tenants with everything they own, and the demo users with their agents."""
    tenant_ids = list(demo_tenants().values_list("pk", flat=True))
    # The bulky rows go first, child before parent, so Django needs few statements for them.
    Conversation.tags.through.objects.filter(conversation__tenant_id__in=tenant_ids).delete()
    e_mailed = [
        *Handoff.objects.filter(tenant_id__in=tenant_ids).values_list("conversation_id", flat=True),
        *TranscriptRequest.objects.filter(tenant_id__in=tenant_ids).values_list("conversation_id", flat=True),
    ]
    outbox.forget(references=[email_reference(conversation_id) for conversation_id in e_mailed])
    for model in (Message, Note, Lead, Handoff, TranscriptRequest, Conversation, PageView, VisitorMark, VisitorTally):
        model.objects.filter(tenant_id__in=tenant_ids).delete()
    _delete_visitors(tenant_ids)
    Tenant.objects.filter(pk__in=tenant_ids).delete()
    demo_users().delete()


def _delete_visitors(tenant_ids: list[int]) -> None:
    """Delete the tenants' visitors in one statement.

    Django's delete() would fetch every visitor and delete them a hundred at a time, seconds for
    the demo's thousands. Their page views and conversations are gone already, and anything else
    pointing at them belongs to the same tenants and goes with them below, in this transaction;
    foreign keys are checked at commit.
    """
    if not tenant_ids:
        return
    table = connection.ops.quote_name(Visitor._meta.db_table)
    column = connection.ops.quote_name(Visitor._meta.get_field("tenant").column)
    placeholders = ", ".join(["%s"] * len(tenant_ids))
    with connection.cursor() as cursor:
        # Only quoted identifiers are formatted in; the ids are parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", tenant_ids)  # noqa: S608


# --- Seeding -----------------------------------------------------------------------------------


def seed_demo(*, reset: bool = False, now: dt.datetime | None = None, progress: Progress | None = None) -> SeedResult:
    """Create the demo data unless it is all there already; with ``reset``, delete and rebuild it.

    Raise DemoDataConflict, changing nothing, if a tenant or user that is not demo data uses a demo name.
    The whole seeding is one transaction, so a failure leaves no half-built demo behind.
    """
    now = now or timezone.now()
    say = progress or (lambda _line: None)
    problems = find_conflicts()
    if problems:
        raise DemoDataConflict(" ".join(str(problem) for problem in problems))
    with transaction.atomic():
        if not reset and demo_is_complete():
            return SeedResult(created=False, now=now, counts=demo_counts())
        delete_demo_data()
        uncovered = _build(now=now, say=say)
    return SeedResult(created=True, now=now, counts=demo_counts(), uncovered_hours=uncovered)


def _build(*, now: dt.datetime, say: Progress) -> list[str]:
    """Create users, tenants, history and shifts; return the open hours no trained agent could cover."""
    # Hashing is deliberately slow; one hash per published demo password keeps seeding fast.
    hashes = {password: make_password(password) for password in (MANAGER_PASSWORD, AGENT_PASSWORD, CLIENT_PASSWORD)}
    manager = _create_user(
        username=MANAGER_USERNAME,
        full_name=MANAGER[0],
        email=MANAGER[1],
        password_hash=hashes[MANAGER_PASSWORD],
        role=roles.OPERATIONS_MANAGER,
    )
    agents = {spec.username: _create_agent(spec=spec, password_hash=hashes[AGENT_PASSWORD]) for spec in AGENTS}
    tenants = {}
    for spec in TENANTS:
        tenants[spec.slug] = _create_tenant(
            spec=spec, now=now, manager=manager, agents=agents, client_password_hash=hashes[CLIENT_PASSWORD]
        )
    # Planned before the history, so each chat goes to an agent who was on shift.
    plan = _plan_demo_shifts(now=now, agents=agents, tenants=tenants)
    for spec in TENANTS:
        tenant = tenants[spec.slug]
        if spec.live:
            qualified = [agents[agent.username] for agent in AGENTS if spec.slug in agent.trained_for]
            history = _History(tenant=tenant, spec=spec, agents=qualified, shifts=plan.shifts, now=now)
            history.generate()
            history.save()
            say(
                _(
                    "%(tenant)s (%(language)s): live, %(conversations)d conversations, %(messages)d messages, "
                    "%(visitors)d visitors, %(page_views)d page views, %(leads)d leads, %(handoffs)d handoff reports"
                )
                % {
                    "tenant": tenant.name,
                    "language": tenant.language,
                    "conversations": len(history.conversations),
                    "messages": len(history.messages),
                    "visitors": len(history.visitors),
                    "page_views": len(history.page_views),
                    "leads": len(history.leads),
                    "handoffs": len(history.handoffs),
                }
            )
        else:
            checklist = onboarding.progress_of(
                OnboardingItem.objects.for_tenant(tenant), onboarding.tenant_today(tenant, now)
            )
            say(
                _("%(tenant)s (%(language)s): onboarding, checklist %(progress)s")
                % {"tenant": tenant.name, "language": tenant.language, "progress": checklist}
            )
    # The history's page views were written in bulk; count their visitors per day, week and month.
    visitor_tallies.rebuild(list(tenants.values()), now=now)
    say(
        _("%(agents)d agents, %(shifts)d shifts from %(first)s to %(last)s (%(upcoming)d of them this week and next)")
        % {
            "agents": len(agents),
            "shifts": len(plan.shifts),
            "first": plan.first_day.isoformat(),
            "last": plan.last_day.isoformat(),
            "upcoming": plan.upcoming,
        }
    )
    for slot in plan.uncovered:
        say(_("No trained agent free for %(slot)s") % {"slot": slot})
    return plan.uncovered


def _create_user(*, username: str, full_name: str, email: str, password_hash: str, role: str) -> AbstractBaseUser:
    """Create a login directly with a known password; demo users get no invitation e-mail."""
    first_name, _sep, last_name = full_name.partition(" ")
    user = get_user_model()(
        username=username, email=email, first_name=first_name, last_name=last_name, password=password_hash
    )
    user.save()
    roles.grant_role(user, role)
    return user


def _create_agent(*, spec: AgentSpec, password_hash: str) -> Agent:
    user = _create_user(
        username=spec.username,
        full_name=spec.full_name,
        email=spec.email,
        password_hash=password_hash,
        role=roles.AGENT,
    )
    agent = Agent(
        user=user,
        display_name=spec.display_name,
        languages=list(spec.languages),
        max_concurrent_chats=spec.max_concurrent_chats,
    )
    agent.full_clean()
    agent.save()
    return agent


def _local_moment(zone: zoneinfo.ZoneInfo, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def _next_holiday(holidays: Iterable[tuple[int, int, str]], today: dt.date) -> tuple[dt.date, str]:
    upcoming = []
    for month, day, note in holidays:
        date = dt.date(today.year, month, day)
        if date <= today:
            date = dt.date(today.year + 1, month, day)
        upcoming.append((date, note))
    return min(upcoming)


def _weekly_ranges(spec: TenantSpec) -> dict[int, list[tuple[dt.time, dt.time]]]:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for first, last, opens, closes in spec.hours:
        for weekday in range(first, last + 1):
            weekly.setdefault(weekday, []).append((dt.time.fromisoformat(opens), dt.time.fromisoformat(closes)))
    return weekly


def _create_tenant(
    *,
    spec: TenantSpec,
    now: dt.datetime,
    manager: AbstractBaseUser,
    agents: dict[str, Agent],
    client_password_hash: str,
) -> Tenant:
    zone = spec.zone
    today = now.astimezone(zone).date()
    contract = today - dt.timedelta(days=spec.contract_days_ago)
    tenant = Tenant(
        name=spec.name,
        slug=spec.slug,
        status=Tenant.Status.ONBOARDING,
        contract_signed_on=contract,
        time_zone=spec.time_zone,
        language=spec.language,
        tone=spec.tone,
        style_notes=spec.style_notes,
        goals=list(spec.goals),
        widget_key=spec.widget_key,
        allowed_origins="\n".join(
            ["http://127.0.0.1:8000", "http://localhost:8000", f"https://www.{spec.slug}.example"]
        ),
        widget_colour=spec.colour,
        greeting=spec.greeting,
        escalation_rules=spec.escalation_rules,
    )
    if spec.widget_seen:
        tenant.widget_first_seen_at = _local_moment(
            zone, contract + dt.timedelta(days=STEP_DAYS["widget_installed"]), 11
        )
    tenant.full_clean()
    tenant.save()
    Tenant.objects.filter(pk=tenant.pk).update(created_at=_local_moment(zone, contract, 9))

    ServiceHours.objects.bulk_create(
        ServiceHours(tenant=tenant, weekday=weekday, opens=opens, closes=closes)
        for weekday, ranges in sorted(_weekly_ranges(spec).items())
        for opens, closes in ranges
    )
    holiday, note = _next_holiday(spec.holidays, today)
    ServiceException.objects.create(tenant=tenant, date=holiday, closed=True, note=note)
    KnowledgeArticle.objects.bulk_create(
        KnowledgeArticle(tenant=tenant, title=title, keywords=keywords, body=body)
        for title, keywords, body in spec.articles
    )
    CannedResponse.objects.bulk_create(
        CannedResponse(tenant=tenant, shortcut=shortcut, text=text) for shortcut, text in spec.canned
    )
    ReportRecipient.objects.bulk_create(
        ReportRecipient(tenant=tenant, name=name, email=email, weekly=weekly, monthly=monthly, escalations=escalations)
        for name, email, weekly, monthly, escalations in spec.recipients
    )
    _invitation_rules(spec=spec, tenant=tenant)
    Tag.objects.bulk_create(Tag(tenant=tenant, name=name) for name in spec.tags)
    username, full_name, email = spec.client
    client = _create_user(
        username=username,
        full_name=full_name,
        email=email,
        password_hash=client_password_hash,
        role=roles.CLIENT_USER,
    )
    ClientUser.objects.create(user=client, tenant=tenant)
    _train_agents(spec=spec, tenant=tenant, agents=agents, contract=contract, today=today)
    _notice(spec=spec, tenant=tenant, manager=manager, agents=agents, now=now)
    _complete_checklist(spec=spec, tenant=tenant, manager=manager, now=now)
    tenant.refresh_from_db()
    return tenant


def _train_agents(
    *, spec: TenantSpec, tenant: Tenant, agents: dict[str, Agent], contract: dt.date, today: dt.date
) -> None:
    qualifications = []
    trained = [agent for agent in AGENTS if spec.slug in agent.trained_for]
    for index, agent in enumerate(trained):
        started = contract + dt.timedelta(days=12 + index)
        completed = min(contract + dt.timedelta(days=16 + index), today)
        qualifications.append(
            Qualification(
                agent=agents[agent.username],
                tenant=tenant,
                training_started_on=started,
                training_completed_on=completed,
            )
        )
    for agent in AGENTS:
        if spec.slug in agent.in_training_for:
            qualifications.append(
                Qualification(
                    agent=agents[agent.username],
                    tenant=tenant,
                    training_started_on=max(today - dt.timedelta(days=8), contract),
                )
            )
    for qualification in qualifications:
        qualification.full_clean()
    Qualification.objects.bulk_create(qualifications)


def _invitation_rules(*, spec: TenantSpec, tenant: Tenant) -> None:
    rules = [
        ProactiveRule(
            tenant=tenant,
            name=invitation.name,
            url_pattern=invitation.url_pattern,
            seconds_on_page=invitation.seconds_on_page,
            returning_only=invitation.returning_only,
            message=invitation.message,
            is_active=invitation.is_active,
            position=10 * index,
        )
        for index, invitation in enumerate(spec.invitations, start=1)
    ]
    for rule in rules:
        rule.full_clean()
    ProactiveRule.objects.bulk_create(rules)


def _notice(
    *, spec: TenantSpec, tenant: Tenant, manager: AbstractBaseUser, agents: dict[str, Agent], now: dt.datetime
) -> None:
    """Post the change notices: the older ones every trained agent has read, the latest one only some.

    In a live tenant all trained agents but the last have acknowledged the latest notice, so the
    console reminds that agent and the admin names who has not read it.
    """
    trained = [agents[agent.username] for agent in AGENTS if spec.slug in agent.trained_for]
    latest_title, latest_body = spec.notice
    notices = [(latest_title, latest_body, dt.timedelta(days=3, hours=5), trained[:-1] if spec.live else [])]
    notices += [(title, body, dt.timedelta(days=days), trained) for title, body, days in spec.earlier_notices]
    for title, body, age, readers in notices:
        notice = ChangeNotice.objects.create(tenant=tenant, title=title, body=body, created_by=manager)
        posted = now - age
        ChangeNotice.objects.filter(pk=notice.pk).update(created_at=posted)
        ChangeNoticeAcknowledgement.objects.bulk_create(
            ChangeNoticeAcknowledgement(notice=notice, agent=agent) for agent in readers
        )
        # Each reader got to it on their next shift.
        for hours, reader in zip(ACKNOWLEDGED_AFTER_HOURS, readers, strict=False):
            ChangeNoticeAcknowledgement.objects.filter(notice=notice, agent=reader).update(
                acknowledged_at=posted + dt.timedelta(hours=hours)
            )


def _complete_checklist(*, spec: TenantSpec, tenant: Tenant, manager: AbstractBaseUser, now: dt.datetime) -> None:
    """Build the checklist with the real onboarding code, then date each done step when it was done."""
    zone = spec.zone
    contract = tenant.contract_signed_on

    def done_on(key: str) -> dt.datetime:
        return _local_moment(zone, contract + dt.timedelta(days=STEP_DAYS[key]), 10, 30)

    onboarding.schedule_checklist(tenant)
    onboarding.refresh_checklist(tenant, now)
    for item in OnboardingItem.objects.for_tenant(tenant).filter(key__in=spec.manual_steps_done):
        onboarding.tick_step(item=item, by=manager, now=done_on(item.key))
    if spec.live:
        went_live = _local_moment(zone, contract + dt.timedelta(days=LIVE_AFTER_CONTRACT_DAYS), 9)
        mark_tenant_live(tenant=tenant, by=manager, now=went_live)
    for item in OnboardingItem.objects.for_tenant(tenant).filter(done_automatically=True, done_at__isnull=False):
        if item.key in STEP_DAYS:
            OnboardingItem.objects.filter(pk=item.pk).update(done_at=done_on(item.key))


# --- Service hours in memory ---------------------------------------------------------------------


@dataclass
class PlannedEmail:
    """An e-mail of the demo's history: when it was queued, and when it went out (or why it did not)."""

    created_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int = 1
    error: str = ""

    def email(self, *, kind: str, reference: str, subject: str, body: str, to: list[str]) -> OutgoingEmail:
        """Return its outbox row (not saved), sent or failed as planned."""
        message = EmailMessage(subject=subject, body=body, to=to)
        row = outbox.outgoing_email(message=message, kind=kind, reference=reference, now=self.created_at)
        row.status = OutgoingEmail.Status.SENT if self.sent_at else OutgoingEmail.Status.FAILED
        row.attempts = row.max_attempts = self.attempts
        row.sent_at, row.last_error = self.sent_at, self.error
        return row


class _ServiceCalendar:
    """A tenant's open intervals over a stretch of days, answering "open at?" without a query."""

    def __init__(self, *, spec: TenantSpec, holiday: dt.date, first_day: dt.date, last_day: dt.date):
        zone = spec.zone
        weekly = _weekly_ranges(spec)
        intervals = []
        day = first_day - dt.timedelta(days=1)
        while day <= last_day:
            if day != holiday:
                for opens, closes in weekly.get(day.weekday(), []):
                    ends_on = day + dt.timedelta(days=1) if closes <= opens else day
                    intervals.append(
                        (
                            dt.datetime.combine(day, opens, tzinfo=zone).astimezone(dt.UTC),
                            dt.datetime.combine(ends_on, closes, tzinfo=zone).astimezone(dt.UTC),
                        )
                    )
            day += dt.timedelta(days=1)
        intervals.sort()
        self.starts = [start for start, _end in intervals]
        self.ends = [end for _start, end in intervals]

    def is_open(self, moment: dt.datetime) -> bool:
        index = bisect.bisect_right(self.starts, moment) - 1
        return index >= 0 and moment < self.ends[index]

    def next_opening(self, moment: dt.datetime) -> dt.datetime | None:
        index = bisect.bisect_right(self.starts, moment)
        return self.starts[index] if index < len(self.starts) else None


def _calendar_for(*, spec: TenantSpec, tenant: Tenant, first_day: dt.date, last_day: dt.date) -> _ServiceCalendar:
    holiday = ServiceException.objects.for_tenant(tenant).values_list("date", flat=True).first()
    return _ServiceCalendar(spec=spec, holiday=holiday, first_day=first_day, last_day=last_day)


# --- Eight weeks of chats ------------------------------------------------------------------------


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth's method; the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


_TRANSLITERATE = str.maketrans({"ł": "l", "Ł": "L"})


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return decomposed.encode("ascii", "ignore").decode()


LIVE, OFFLINE, BROWSE = "live", "offline", "browse"


class _History:
    """Generate a live tenant's visitors, page views, conversations and messages since it went live."""

    def __init__(self, *, tenant: Tenant, spec: TenantSpec, agents: list[Agent], shifts: list[Shift], now: dt.datetime):
        self.tenant, self.spec, self.agents = tenant, spec, agents
        # Each trained agent's shifts (which never overlap) as sorted starts and ends.
        self.shift_times: dict[int, tuple[list[dt.datetime], list[dt.datetime]]] = {}
        for agent in agents:
            mine = sorted((shift for shift in shifts if shift.agent_id == agent.pk), key=lambda shift: shift.starts_at)
            self.shift_times[agent.pk] = ([shift.starts_at for shift in mine], [shift.ends_at for shift in mine])
        self.script, self.traffic = spec.script, spec.traffic
        self.zone = spec.zone
        self.rng = random.Random(f"{SEED}:{spec.slug}")
        self.start = tenant.went_live_at
        # Leave the last minutes empty so every generated chat has closed.
        self.end = now - dt.timedelta(minutes=15)
        self.calendar = _calendar_for(
            spec=spec,
            tenant=tenant,
            first_day=self.start.astimezone(self.zone).date(),
            last_day=now.astimezone(self.zone).date() + dt.timedelta(days=3),
        )
        self.peak = max(self.traffic.hourly)
        self.topic_weights = [topic.weight for topic in self.script.topics]
        self.offline_topics = [topic for topic in self.script.topics if topic.contact is None and topic.outcome != SPAM]
        self.tag_ids = dict(Tag.objects.for_tenant(tenant).values_list("name", "pk"))
        # Each active invitation rule with the pages of the site it fires on.
        self.rules: list[ProactiveRule] = []
        self.rule_pages: dict[int, list[tuple[str, str]]] = {}
        for rule in ProactiveRule.objects.for_tenant(tenant).active().order_by("position"):
            pages = [page for page in self.script.pages if fnmatch.fnmatchcase(self._url(page[0]), rule.url_pattern)]
            if not pages:
                raise ValueError(f"The invitation rule “{rule.name}” matches none of the demo pages.")
            self.rules.append(rule)
            self.rule_pages[rule.pk] = pages
        self.escalation_contacts = ", ".join(escalation_contacts(tenant=tenant))
        self.visitors: list[Visitor] = []
        self.page_views: list[PageView] = []
        self.conversations: list[Conversation] = []
        self.messages: list[Message] = []
        self.tagged: list[tuple[Conversation, int]] = []
        self.notes: list[Note] = []
        self.leads: list[Lead] = []
        self.handoffs: list[Handoff] = []
        self.handoff_emails: list[PlannedEmail] = []
        self.transcript_requests: list[TranscriptRequest] = []
        self.transcript_emails: list[PlannedEmail] = []

    def generate(self) -> None:
        for moment, kind in self._arrivals():
            self._visit(moment, kind)
        self._fail_latest_handoffs()

    def save(self) -> None:
        # Rows are built with ids rather than objects where the parent exists: far cheaper by the thousand.
        Visitor.objects.bulk_create(self.visitors, batch_size=BATCH_SIZE)
        PageView.objects.bulk_create(self.page_views, batch_size=BATCH_SIZE)
        Conversation.objects.bulk_create(self.conversations, batch_size=BATCH_SIZE)
        Message.objects.bulk_create(self.messages, batch_size=BATCH_SIZE)
        Conversation.tags.through.objects.bulk_create(
            (
                Conversation.tags.through(conversation_id=conversation.pk, tag_id=tag_id)
                for conversation, tag_id in self.tagged
            ),
            batch_size=BATCH_SIZE,
        )
        self._save_emails()
        for model, rows in (
            (Note, self.notes),
            (Lead, self.leads),
            (Handoff, self.handoffs),
            (TranscriptRequest, self.transcript_requests),
        ):
            model.objects.bulk_create(rows, batch_size=BATCH_SIZE)

    def _save_emails(self) -> None:
        """Write the handoff reports' and transcripts' e-mails to the outbox as they went out, and link them."""
        tenant, contacts = self.tenant, self.escalation_contacts.split(", ")
        handoff_emails = [
            planned.email(
                kind=handoff_reports.EMAIL_KIND,
                reference=email_reference(handoff.conversation.pk),
                subject=handoff_subject(handoff, tenant=tenant),
                body=f"{handoff.summary}\n\n{handoff.promise}",
                to=contacts,
            )
            for handoff, planned in zip(self.handoffs, self.handoff_emails, strict=True)
        ]
        transcript_emails = [
            planned.email(
                kind=aftercare.EMAIL_KIND,
                reference=email_reference(request.conversation.pk),
                subject=transcript_subject(tenant),
                body=tenant.name,
                to=[request.email],
            )
            for request, planned in zip(self.transcript_requests, self.transcript_emails, strict=True)
        ]
        OutgoingEmail.objects.bulk_create(handoff_emails + transcript_emails, batch_size=BATCH_SIZE)
        for record, email in zip(
            self.handoffs + self.transcript_requests, handoff_emails + transcript_emails, strict=True
        ):
            record.outgoing = email

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
                hour_start = _local_moment(self.zone, day, hour).astimezone(dt.UTC)
                rate = day_rate * traffic.hourly[hour] / hourly_total
                for _chat in range(_poisson(rng, rate)):
                    moment = hour_start + dt.timedelta(seconds=rng.uniform(0, 3600))
                    if self.calendar.is_open(moment):
                        kind = LIVE
                    else:
                        kind = OFFLINE if rng.random() < OFFLINE_MESSAGE_SHARE else BROWSE
                    arrivals.append((moment, kind))
                for _visit in range(_poisson(rng, rate * traffic.visits_per_chat)):
                    arrivals.append((hour_start + dt.timedelta(seconds=rng.uniform(0, 3600)), BROWSE))
            day += dt.timedelta(days=1)
        arrivals = [(moment, kind) for moment, kind in arrivals if self.start <= moment < self.end]
        arrivals.sort(key=lambda arrival: arrival[0])
        return arrivals

    def _visitor_at(self, moment: dt.datetime) -> tuple[Visitor, bool]:
        rng = self.rng
        if self.visitors and rng.random() < RETURNING_SHARE:
            # Someone from the last couple of thousand visitors, i.e. from the last weeks.
            visitor = self.visitors[rng.randrange(max(0, len(self.visitors) - 2000), len(self.visitors))]
            if visitor.last_seen_at < moment - dt.timedelta(hours=1):
                return visitor, True
        visitor = Visitor(
            tenant_id=self.tenant.pk,
            public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            first_seen_at=moment,
            last_seen_at=moment,
        )
        self.visitors.append(visitor)
        return visitor, False

    def _page_view(
        self, visitor: Visitor, moment: dt.datetime, returning: bool, pages: list[tuple[str, str]] | None = None
    ) -> None:
        path, title = self.rng.choice(pages or self.script.pages)
        self.page_views.append(
            PageView(
                tenant_id=self.tenant.pk,
                visitor=visitor,
                url=self._url(path),
                title=title,
                viewed_at=moment,
                returning=returning,
            )
        )
        visitor.first_seen_at = min(visitor.first_seen_at, moment)
        visitor.last_seen_at = max(visitor.last_seen_at, moment)

    def _visit(self, moment: dt.datetime, kind: str) -> None:
        rng = self.rng
        visitor, returning = self._visitor_at(moment)
        conversation = (
            None
            if kind == BROWSE
            else self._conversation(visitor, moment, offline=kind == OFFLINE, returning=returning)
        )
        if conversation is None:
            views = 1 + min(int(rng.expovariate(1.3)), 7)
            at = moment
            for _view in range(views):
                if at < self.end:
                    self._page_view(visitor, at, returning)
                at += dt.timedelta(seconds=rng.uniform(15, 180))
            return
        # A chat starts after a page view or three and the visitor may browse on afterwards. An invitation
        # appeared once the visitor had stayed its time on a page it is for.
        at = moment
        for view in range(1 + rng.randrange(3)):
            if view == 0 and conversation.proactive_rule is not None:
                rule = conversation.proactive_rule
                at -= dt.timedelta(seconds=rule.seconds_on_page + rng.uniform(0.2, 2))
                self._page_view(visitor, at, returning, self.rule_pages[rule.pk])
                continue
            at -= dt.timedelta(seconds=rng.uniform(20, 150))
            self._page_view(visitor, at, returning)
        after = conversation.closed_at + dt.timedelta(seconds=rng.uniform(10, 120))
        if rng.random() < 0.4 and after < self.end:
            self._page_view(visitor, after, returning)

    def _agent_at(self, moment: dt.datetime) -> Agent:
        """Pick one of the trained agents on shift at the moment; any of them before the shifts were planned."""
        on_shift = []
        for agent in self.agents:
            starts, ends = self.shift_times[agent.pk]
            index = bisect.bisect_right(starts, moment) - 1
            if index >= 0 and moment < ends[index]:
                on_shift.append(agent)
        return self.rng.choice(on_shift or self.agents)

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

    def _context(self, visitor: Visitor, moment: dt.datetime) -> dict[str, str]:
        rng, script = self.rng, self.script
        name = visitor.name or rng.choice(script.names)
        email = visitor.email or "{local}{number}@{domain}".format(
            local=_ascii(name).lower().replace(" ", "."),
            number=rng.choice(("", "", str(rng.randint(1, 99)))),
            domain=rng.choice(("example.com", "example.net", "example.org")),
        )
        local = moment.astimezone(self.zone) + dt.timedelta(days=rng.randint(1, 5))
        phone = visitor.phone or "".join(
            str(rng.randrange(10)) if char == "#" else char for char in rng.choice(script.phone_patterns)
        )
        return {
            "name": name,
            "first": name.split()[0],
            "email": email,
            "phone": phone,
            "company": rng.choice(script.companies),
            "order": f"{script.order_prefix}{rng.randint(100000, 999999)}",
            "date": local.strftime("%d.%m."),
            "time": rng.choice(("7:00", "9:00", "12:30", "17:00", "18:30", "19:00")),
        }

    def _conversation(
        self, visitor: Visitor, moment: dt.datetime, *, offline: bool, returning: bool
    ) -> Conversation | None:
        """Build one closed conversation and its messages; return None if it would not have closed yet."""
        rng, script = self.rng, self.script
        rules = [rule for rule in self.rules if returning or not rule.returning_only]
        if offline:
            origin = Conversation.Origin.OFFLINE_MESSAGE
        elif rules and rng.random() < PROACTIVE_SHARE:
            origin = Conversation.Origin.PROACTIVE
        else:
            origin = Conversation.Origin.REACTIVE
        conversation = Conversation(
            tenant_id=self.tenant.pk,
            visitor=visitor,
            status=Conversation.Status.CLOSED,
            origin=origin,
            started_at=moment,
        )
        lines: list[tuple[str, str, dt.datetime, Agent | None]] = []
        context = self._context(visitor, moment)
        load = self.traffic.hourly[moment.astimezone(self.zone).hour] / self.peak
        roll = rng.random()
        topic: Topic | None = None
        agent: Agent | None = None

        if origin == Conversation.Origin.PROACTIVE:
            conversation.proactive_rule = rng.choice(rules)
            lines.append((Message.Sender.SYSTEM, conversation.proactive_rule.message, moment, None))
            first_message_at = moment + dt.timedelta(seconds=rng.uniform(5, 40))
        else:
            first_message_at = moment + dt.timedelta(seconds=rng.uniform(0.5, 12))

        if offline:
            topic = rng.choice(self.offline_topics)
            question, answer = rng.choice(topic.pairs)
            first_message_at = moment + dt.timedelta(seconds=rng.uniform(20, 90))
            opening = self.calendar.next_opening(first_message_at)
            if opening is None:
                return None
            assigned_at = opening + dt.timedelta(minutes=rng.uniform(3, 40))
            agent = self._agent_at(assigned_at)
            reply_at = assigned_at + dt.timedelta(minutes=rng.uniform(2, 8))
            lines.append(
                (
                    Message.Sender.VISITOR,
                    f"{question.format(**context)} {script.offline_suffix.format(**context)}",
                    first_message_at,
                    None,
                )
            )
            lines.append(
                (
                    Message.Sender.AGENT,
                    f"{script.offline_reply.format(**context)} {answer.format(**context)}",
                    reply_at,
                    agent,
                )
            )
            visitor.name, visitor.email = context["name"], context["email"]
            conversation.agent_id, conversation.assigned_at = agent.pk, assigned_at
            conversation.outcome, conversation.summary = topic.outcome, topic.summary.format(**context)
            closed_at = reply_at + dt.timedelta(seconds=rng.uniform(30, 180))
        elif origin == Conversation.Origin.REACTIVE and roll < EMPTY_CHAT_SHARE:
            # Opened the chat and left without a word.
            first_message_at = None
            conversation.outcome = SPAM
            closed_at = moment + dt.timedelta(seconds=rng.uniform(60, 300))
        elif roll < EMPTY_CHAT_SHARE + MISSED_CHAT_SHARE * (0.5 + load):
            # Nobody answered in time and the visitor gave up: a missed chat.
            topic = rng.choices(self.script.topics, weights=self.topic_weights)[0]
            question, _answer = rng.choice(topic.pairs)
            lines.append((Message.Sender.VISITOR, question.format(**context), first_message_at, None))
            last = first_message_at
            if rng.random() < 0.5:
                last += dt.timedelta(seconds=rng.uniform(40, 120))
                lines.append((Message.Sender.VISITOR, rng.choice(script.unanswered), last, None))
            closed_at = last + dt.timedelta(seconds=rng.uniform(60, 240))
        else:
            topic = rng.choices(self.script.topics, weights=self.topic_weights)[0]
            agent = self._agent_at(moment)
            first_response = self._first_response_seconds(moment)
            reply_at = first_message_at + dt.timedelta(seconds=first_response)
            # Routing takes a moment; a long first response means the chat waited in the queue.
            typing = rng.uniform(1.5, min(8.0, first_response - 0.5))
            assigned_at = reply_at - dt.timedelta(seconds=typing)
            question, answer = rng.choice(topic.pairs)
            lines.append((Message.Sender.VISITOR, question.format(**context), first_message_at, None))
            # The invitation has greeted the visitor already.
            greeting = "" if origin == Conversation.Origin.PROACTIVE else rng.choice(script.greetings) + " "
            lines.append((Message.Sender.AGENT, greeting + answer.format(**context), reply_at, agent))
            exchanges = []
            if topic.contact:
                exchanges.append(topic.contact)
                if "{name}" in topic.contact[0]:
                    visitor.name = context["name"]
                if "{phone}" in topic.contact[0]:
                    visitor.phone = context["phone"]
                visitor.email = context["email"]
            if topic.follow_ups and rng.random() < 0.55:
                exchanges.append(rng.choice(topic.follow_ups))
            if topic.outcome != SPAM and rng.random() < 0.65:
                exchanges.append((rng.choice(script.thanks), rng.choice(script.goodbyes)))
            at = reply_at
            for visitor_line, agent_line in exchanges:
                at += dt.timedelta(seconds=rng.uniform(10, 80))
                lines.append((Message.Sender.VISITOR, visitor_line.format(**context), at, None))
                at += dt.timedelta(seconds=rng.uniform(6, 45))
                lines.append((Message.Sender.AGENT, agent_line.format(**context), at, agent))
            conversation.agent_id, conversation.assigned_at = agent.pk, assigned_at
            conversation.outcome, conversation.summary = topic.outcome, topic.summary.format(**context)
            closed_at = at + dt.timedelta(seconds=rng.uniform(20, 240))
            if topic.outcome != SPAM and rng.random() < RATING_SHARE:
                self._rate(conversation, slow=first_response > 30)

        if closed_at >= self.end:
            return None
        if conversation.rating is not None:
            conversation.rated_at = closed_at + dt.timedelta(seconds=rng.uniform(3, 90))
        conversation.first_visitor_message_at = first_message_at
        conversation.first_agent_reply_at = next(
            (at for sender, _body, at, _agent in lines if sender == Message.Sender.AGENT), None
        )
        conversation.closed_at = closed_at
        conversation.last_seq = len(lines)
        for seq, (sender, body, at, author) in enumerate(lines, start=1):
            self.messages.append(
                Message(
                    tenant_id=self.tenant.pk,
                    conversation=conversation,
                    seq=seq,
                    sender=sender,
                    agent_id=author.pk if author else None,
                    body=body,
                    created_at=at,
                )
            )
        visitor.last_seen_at = max(visitor.last_seen_at, closed_at)
        self.conversations.append(conversation)
        if agent is not None and topic is not None:
            self._agent_work(conversation, topic=topic, agent=agent, context=context)
        return conversation

    def _agent_work(self, conversation: Conversation, *, topic: Topic, agent: Agent, context: dict[str, str]) -> None:
        """Add what the agent recorded besides the messages: tag, private note, lead, handoff, transcript."""
        rng, visitor = self.rng, conversation.visitor
        closed_at = conversation.closed_at
        if topic.tag and rng.random() < TAGGED_SHARE:
            self.tagged.append((conversation, self.tag_ids[topic.tag]))
        notes = [text for outcome, text in self.script.notes if outcome == topic.outcome]
        if notes and rng.random() < NOTE_SHARES.get(topic.outcome, 0):
            written = conversation.first_agent_reply_at + (closed_at - conversation.first_agent_reply_at) * rng.random()
            self.notes.append(
                Note(
                    tenant_id=self.tenant.pk,
                    conversation=conversation,
                    agent_id=agent.pk,
                    body=rng.choice(notes),
                    created_at=written,
                )
            )
        if topic.outcome == LEAD:
            self.leads.append(
                Lead(
                    tenant_id=self.tenant.pk,
                    conversation=conversation,
                    name=visitor.name,
                    email=visitor.email,
                    phone=visitor.phone,
                    wants=topic.wants.format(**context),
                    created_at=closed_at,
                )
            )
        if topic.outcome == ESCALATED:
            self.handoffs.append(
                Handoff(
                    tenant_id=self.tenant.pk,
                    conversation=conversation,
                    agent_id=agent.pk,
                    summary=conversation.summary,
                    visitor_name=visitor.name,
                    visitor_email=visitor.email,
                    visitor_phone=visitor.phone,
                    promise=topic.promise.text,
                    promised_by=self._working_days_later(closed_at, topic.promise),
                    created_at=closed_at,
                )
            )
            self.handoff_emails.append(
                PlannedEmail(created_at=closed_at, sent_at=closed_at + dt.timedelta(seconds=rng.uniform(1, 8)))
            )
        if visitor.email and rng.random() < TRANSCRIPT_SHARE:
            requested = closed_at + dt.timedelta(seconds=rng.uniform(5, 60))
            self.transcript_requests.append(
                TranscriptRequest(
                    tenant_id=self.tenant.pk, conversation=conversation, email=visitor.email, requested_at=requested
                )
            )
            self.transcript_emails.append(
                PlannedEmail(created_at=requested, sent_at=requested + dt.timedelta(seconds=rng.uniform(1, 5)))
            )

    def _working_days_later(self, moment: dt.datetime, promise: Promise) -> dt.datetime:
        """Return the promised hour of the working day (Monday to Friday, local) that many days after the moment."""
        day = moment.astimezone(self.zone).date()
        remaining = promise.working_days
        while remaining:
            day += dt.timedelta(days=1)
            if day.weekday() < 5:
                remaining -= 1
        return _local_moment(self.zone, day, promise.by_hour)

    def _fail_latest_handoffs(self) -> None:
        """Leave the latest handoff reports unsent with the tenant's mail error, so the admin shows the problem."""
        latest = sorted(self.handoff_emails, key=lambda planned: planned.created_at, reverse=True)
        for planned, error in zip(latest, self.spec.handoff_errors, strict=False):
            planned.sent_at, planned.attempts, planned.error = None, HANDOFF_FAILED_ATTEMPTS, error

    def _rate(self, conversation: Conversation, *, slow: bool) -> None:
        rng, script = self.rng, self.script
        weights = (12, 12, 20, 28, 28) if slow else (3, 3, 7, 25, 62)
        rating = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        conversation.rating = rating
        if rng.random() < 0.3:
            conversation.rating_comment = rng.choice(script.good_comments if rating >= 4 else script.bad_comments)


# --- Shifts, from last month to the end of next week -------------------------------------------------


@dataclass(frozen=True)
class ShiftPlan:
    """The demo's planned shifts, the local days they span and the open hours nobody could cover."""

    shifts: list[Shift]
    first_day: dt.date
    last_day: dt.date
    # Of the shifts, those that start this week or next.
    upcoming: int
    uncovered: list[str]


def first_planned_day(today: dt.date) -> dt.date:
    """Return the first day of the month before today's: the demo's shifts start on it.

    Not on the Monday before: the month before would get a few days of shifts, and its staffing
    coverage, a monthly mean, would read as short in nearly every hour it had chats.
    """
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _staffed_from(tenant: Tenant) -> dt.datetime | None:
    """Return from when a tenant has an agent on shift in its open hours: once all its agents are trained.

    That is the day its last trained agent completed training, some days before a go-live: the month
    a tenant went live is staffed throughout, and only trained agents are ever planned for it. None
    if nobody is trained for it.
    """
    last_trained = (
        Qualification.objects.completed().filter(tenant=tenant).aggregate(day=Max("training_completed_on"))["day"]
    )
    if last_trained is None:
        return None
    return _local_moment(tenant.zone, last_trained, 0)


def _plan_demo_shifts(*, now: dt.datetime, agents: dict[str, Agent], tenants: dict[str, Tenant]) -> ShiftPlan:
    """Plan shifts so every open hour of every staffed tenant has a trained agent, where one is free.

    The plan runs from the previous month's first day (so last month's report has its staffing
    coverage) to the end of next week, on the team's clock.
    """
    zone = zoneinfo.ZoneInfo(PLANNING_ZONE)
    today = now.astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    first_day = first_planned_day(today)
    first_monday = first_day - dt.timedelta(days=first_day.weekday())
    end_monday = monday + dt.timedelta(weeks=UPCOMING_WEEKS)
    window_start = _local_moment(zone, first_day, 0).astimezone(dt.UTC)
    this_week = _local_moment(zone, monday, 0).astimezone(dt.UTC)
    # Counted in real hours: a stretch across a daylight-saving change is an hour longer or shorter.
    slot_count = (_local_moment(zone, end_monday, 0).astimezone(dt.UTC) - window_start) // dt.timedelta(hours=1)
    slots = [window_start + dt.timedelta(hours=index) for index in range(slot_count)]
    weeks = [(slot.astimezone(zone).date() - first_monday).days // 7 for slot in slots]
    calendars = {
        spec.slug: _calendar_for(
            spec=spec,
            tenant=tenants[spec.slug],
            first_day=first_day - dt.timedelta(days=1),
            last_day=end_monday + dt.timedelta(days=1),
        )
        for spec in TENANTS
    }
    staffed_from = {slug: _staffed_from(tenant) for slug, tenant in tenants.items()}
    demand = [
        frozenset(
            slug
            for slug, calendar in calendars.items()
            if staffed_from[slug] is not None and staffed_from[slug] <= slot and calendar.is_open(slot)
        )
        for slot in slots
    ]
    skills = {spec.username: frozenset(spec.trained_for) for spec in AGENTS if spec.trained_for}
    blocks, uncovered = plan_blocks(demand=demand, skills=skills, weeks=weeks)
    names = {slug: tenant.name for slug, tenant in tenants.items()}
    shifts = []
    for username, first, last in blocks:
        served = sorted(set().union(*(demand[index] & skills[username] for index in range(first, last))))
        shifts.append(
            plan_shift(
                agent=agents[username],
                starts_at=slots[first],
                ends_at=slots[first] + dt.timedelta(hours=last - first),
                note=", ".join(names[slug] for slug in served),
            )
        )
    shifts += _shadowing_shifts(agents=agents, monday=monday, zone=zone)
    return ShiftPlan(
        shifts=shifts,
        first_day=first_day,
        last_day=end_monday - dt.timedelta(days=1),
        upcoming=sum(shift.starts_at >= this_week for shift in shifts),
        uncovered=[f"{slots[index].astimezone(zone):%a %d.%m. %H:%M} {slug}" for index, slug in uncovered],
    )


def _shadowing_shifts(*, agents: dict[str, Agent], monday: dt.date, zone: zoneinfo.ZoneInfo) -> list[Shift]:
    """Plan the trainees' shifts: they shadow an experienced colleague in the daytime, Monday to Thursday.

    Only this week and next: the past needs no training shifts, and an untrained agent does not count
    for coverage anyway.
    """
    shifts = []
    for spec in AGENTS:
        if spec.trained_for or not spec.in_training_for:
            continue
        for week in range(UPCOMING_WEEKS):
            for weekday in range(4):
                day = monday + dt.timedelta(days=7 * week + weekday)
                shifts.append(
                    plan_shift(
                        agent=agents[spec.username],
                        starts_at=_local_moment(zone, day, 10),
                        ends_at=_local_moment(zone, day, 10 + SHIFT_HOURS),
                        note="Training (shadowing)",
                    )
                )
    return shifts


def plan_blocks(
    *, demand: list[frozenset[str]], skills: dict[str, frozenset[str]], weeks: list[int] | None = None
) -> tuple[list[tuple[str, int, int]], list[tuple[int, str]]]:
    """Cover hourly demand (the tenants open in each hour) with blocks of up to eight hours per agent.

    Walk the hours in order; where an open tenant has no trained agent on shift, start a block for
    the agent who would cover the most still-uncovered tenant-hours, keeping each agent's blocks
    apart by the rest time and within the weekly limit. A block that would run past the tenant's
    closing is moved earlier to end at it (a handover overlap with the previous agent); one that
    would leave an hour over is stretched to the closing. Return (agent, first hour, end hour)
    blocks and the (hour, tenant) pairs nobody could cover.

    ``weeks`` gives the week of each hour for the weekly limit: across a daylight-saving change a
    local week is not 168 hours. Without it every 168 hours from hour 0 are a week.
    """
    hours = len(demand)
    week_of = weeks if weeks is not None else [hour // (7 * 24) for hour in range(hours)]
    covered: list[set[str]] = [set() for _hour in range(hours)]
    planned: dict[str, list[tuple[int, int]]] = {username: [] for username in skills}
    blocks: list[tuple[str, int, int]] = []
    uncovered: list[tuple[int, str]] = []
    for hour in range(hours):
        for slug in sorted(demand[hour] - covered[hour]):
            if slug in covered[hour]:
                continue
            run_end = hour
            while run_end < hours and slug in demand[run_end]:
                run_end += 1
            if run_end - hour > SHIFT_HOURS + STRETCH_HOURS:
                first, last = hour, hour + SHIFT_HOURS
            elif run_end - hour >= SHIFT_HOURS:
                first, last = hour, run_end
            else:
                first, last = max(run_end - SHIFT_HOURS, 0), run_end
            best = None
            for order, (username, skill) in enumerate(skills.items()):
                if slug not in skill:
                    continue
                start, end = first, last
                while start < end and not demand[start] & skill:
                    start += 1
                while end > start and not demand[end - 1] & skill:
                    end -= 1
                rested = all(
                    end + MIN_REST_HOURS <= other_start or other_end + MIN_REST_HOURS <= start
                    for other_start, other_end in planned[username]
                )
                week = week_of[start]
                this_week = sum(week_of[other_start] == week for other_start, _end in planned[username])
                if not rested or this_week >= MAX_SHIFTS_PER_WEEK:
                    continue
                gain = sum(len((demand[index] & skill) - covered[index]) for index in range(start, end))
                rank = (gain, -this_week, -order)
                if best is None or rank > best[0]:
                    best = (rank, username, start, end)
            if best is None:
                uncovered.append((hour, slug))
                continue
            _rank, username, start, end = best
            planned[username].append((start, end))
            blocks.append((username, start, end))
            for index in range(start, end):
                covered[index] |= demand[index] & skills[username]
    return blocks, uncovered
