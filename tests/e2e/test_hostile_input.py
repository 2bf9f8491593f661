"""Hostile input in Chromium: well-known XSS payloads in every field a visitor, a client or an agent controls,
shown as text in every place they appear and never run (issue 12).

Places: the widget (a chat in progress, and a new visitor's greeting), the console (lists, chat, client and
visitor cards, notes, tags, knowledge base, canned responses, a transferred chat's note), the wall of fame,
the client dashboard, the live board, the admin's change lists and change pages of tenants, articles, canned
responses, client users, users, agents, conversations, leads, handoff reports, the outbox (the offline
message's e-mail is plain text only, shown there) and a visitor's data with the audit log, the weekly and
monthly report previews (HTML frame and plain text), and the handoff and transcript e-mails' HTML.

One history is seeded and one daphne and one browser serve every place, so the whole tour takes a few dozen
page loads. A place fails on a JavaScript dialog, on an element a payload would have made (each carries
`data-pwned`, or sets `window.__pwned`), on a `javascript:` link, on a script error, and when the payloads'
text is not on the page (a place that showed nothing would pass the other checks).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from conversations import handoff, offline, routing, services, visits, workspace
from conversations.aftercare import transcript_email
from conversations.models import Conversation, Handoff, Lead, TranscriptRequest
from outbox.models import OutgoingEmail
from tenants.models import CannedResponse, KnowledgeArticle
from tests import factories
from tests.e2e.test_console_chat import on_shift_now
from tests.e2e.test_widget_page import in_thread, open_all_week
from tests.reporting.conftest import add_recipients, make_live
from tests.reporting.histories import make_chat
from tests.reporting.report_history import make_history

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each one leaves a mark if it runs or is parsed as markup: an element with data-pwned, a script setting
# window.__pwned, a dialog.
PAYLOADS = (
    '<script>window.__pwned="script";alert("script")</script>',
    '<img src=x data-pwned onerror=alert("img")>',
    "<svg data-pwned onload=alert('svg')>",
    '"><img src=x data-pwned onerror=alert("dq")>',
    "'><svg data-pwned onload=alert('sq')>",
    'javascript:alert("url")//<i data-pwned>',
    '</textarea><img src=x data-pwned onerror=alert("ta")>',
    '</script><script>window.__pwned="end";alert("end")</script>',
    "{{ 7*7 }} ${alert('tpl')}<b data-pwned>{{constructor.constructor('alert(1)')()}}</b>",
    '<iframe data-pwned srcdoc="<script>parent.alert(1)</script>"></iframe>',
    '<a data-pwned href="javascript:alert(1)">link</a>',
    "Ann\u202ekcab\u202c <b data-pwned>bold</b>",
)
# A short one for fields of 40 characters (tags), and e-mail addresses a validator accepts (quoted local part).
SHORT = "<svg data-pwned onload=alert(1)>"
EMAIL = '"<img/src=x/data-pwned/onerror=alert(1)>"@example.com'
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")

# What the payloads would have left, in this document and every open shadow root.
INJECTED = """() => {
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const node of roots[i].querySelectorAll("*")) if (node.shadowRoot) roots.push(node.shadowRoot);
  const found = [];
  for (const root of roots)
    for (const node of root.querySelectorAll('[data-pwned], a[href^="javascript:" i]'))
      found.push(node.outerHTML.slice(0, 120));
  // a script put in with innerHTML never runs, but is injected all the same
  for (const root of roots)
    for (const node of root.querySelectorAll('script:not([type="application/json"])'))
      if (node.textContent.includes("__pwned")) found.push(node.outerHTML.slice(0, 120));
  if (window.__pwned !== undefined) found.push("window.__pwned = " + window.__pwned);
  return found;
}"""
# The text a person reads: the page's and that of the open shadow roots (the widget's).
SHOWN_TEXT = """() => {
  const parts = [document.body ? document.body.innerText : ""];
  const roots = [document];
  for (let i = 0; i < roots.length; i++)
    for (const node of roots[i].querySelectorAll("*"))
      if (node.shadowRoot) { roots.push(node.shadowRoot); parts.push(node.shadowRoot.textContent); }
  for (const field of document.querySelectorAll("input, textarea")) parts.push(field.value);
  return parts.join("\\n");
}"""


def value(label: str, n: int) -> str:
    """Return a field's hostile value: a label to find it by, then one of the payloads."""
    return f"{label} {PAYLOADS[n % len(PAYLOADS)]}"


def two(label: str, n: int) -> str:
    """Return a long field's hostile value: a label, then two payloads (an element and a breakout)."""
    return f"{value(label, n)} {PAYLOADS[(n + 6) % len(PAYLOADS)]}"


def flat(text: str) -> str:
    return " ".join(BIDI.sub("", text).split())


@dataclass
class Seeded:
    tenant: object
    agent: object
    manager: object
    client_user: object
    live: Conversation
    waiting: Conversation
    visitor_token: str
    page_title: str
    texts: dict[str, str] = field(default_factory=dict)  # field → what was written in it
    admin_pages: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (place, url, fields shown)


def seed(site_origin: str) -> Seeded:
    """Write the hostile history: a live chat with everything beside it, a waiting one, a reported fortnight."""
    texts: dict[str, str] = {}
    tenant = factories.make_tenant(slug="hostile", language="en", allowed_origins=site_origin)
    add_recipients(tenant, "kahvila.example")
    open_all_week(tenant)
    texts |= {
        "tenant name": value("TN", 1),
        "style notes": two("SN", 2),
        "escalation rules": value("ER", 3),
        "greeting": value("GR", 4),
    }
    tenant.name, tenant.style_notes, tenant.escalation_rules, tenant.greeting = (
        texts["tenant name"],
        texts["style notes"],
        texts["escalation rules"],
        texts["greeting"],
    )
    tenant.save()
    make_live(tenant)
    texts["agent name"] = value("AG", 5)
    agent = factories.make_agent(trained_for=[tenant], display_name=texts["agent name"], max_concurrent_chats=3)
    on_shift_now(agent)
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    client_user = factories.make_client_user(tenant=tenant)
    texts["client user first name"], texts["client user last name"] = value("CF", 6), value("CL", 7)
    get_user_model().objects.filter(pk=client_user.user_id).update(
        first_name=texts["client user first name"], last_name=texts["client user last name"]
    )

    # the knowledge base and the canned answers the client gave
    texts["article title"], texts["article text"] = value("KT", 8), two("KB", 9)
    KnowledgeArticle.objects.create(
        tenant=tenant, title=texts["article title"], body=texts["article text"], keywords="hostile"
    )
    texts["canned text"] = two("CR", 10)
    CannedResponse.objects.create(tenant=tenant, shortcut="hostile", text=texts["canned text"])

    # a visitor who wrote every payload, chatting now with the agent, who answered with them all
    page_title = value("PT", 0)
    visitor, token = visits.identify_visitor(tenant=tenant, token=None)
    texts["visitor name"] = value("VN", 11)
    visitor.name, visitor.email = texts["visitor name"], EMAIL
    visitor.save(update_fields=["name", "email"])
    visits.record_page_view(
        tenant=tenant, visitor=visitor, url=site_origin + "/?q=<script>alert(1)</script>", title=page_title
    )
    live = services.start_conversation(tenant=tenant, visitor=visitor, route=False)
    routing.assign_conversation(conversation=live, agent=agent)
    for n, payload in enumerate(PAYLOADS):
        texts[f"visitor message {n}"] = services.post_visitor_message(conversation=live, body=payload)[0].body
        texts[f"agent message {n}"] = services.post_agent_message(
            conversation=live, agent=agent, body=f"A{n} {payload}"
        )[0].body
    texts["note"] = workspace.add_note(conversation=live, agent=agent, body=two("NO", 1)).body
    texts["tag"] = workspace.set_tags(conversation=live, names=[SHORT])[0].name

    # a message left outside hours by someone else, waiting in the queue (and e-mailed to the client)
    texts["offline name"], texts["offline question"] = value("ON", 3), two("OQ", 6)
    left = offline.leave_offline_message(
        tenant=tenant,
        token=None,
        name=texts["offline name"],
        email=EMAIL,
        question=texts["offline question"],
        ip_address=None,
        route=False,
    )
    waiting = Conversation.objects.get(pk=left.conversation.pk)

    # a chat rated this week (the wall of fame) and the reported fortnight, each field hostile
    rated = make_chat(tenant, timezone.now() - dt.timedelta(hours=2), replied=4, assigned=1, closed=300, rating=5)
    texts["rating comment"] = two("RC", 2)
    Conversation.objects.filter(pk=rated.pk).update(
        agent=agent, outcome=Conversation.Outcome.RESOLVED, rating_comment=texts["rating comment"]
    )
    history = make_history(tenant)
    Conversation.objects.filter(pk=history.praised.pk).update(rating_comment=texts["rating comment"])
    texts |= {"lead name": value("LN", 4), "lead wants": two("LW", 5)}
    Lead.objects.filter(conversation=history.lead_chat).update(
        name=texts["lead name"], wants=texts["lead wants"], email=EMAIL
    )
    texts |= {"handoff visitor": value("HV", 7), "handoff summary": two("HS", 8), "handoff promise": two("HP", 9)}
    Handoff.objects.filter(conversation=history.escalated).update(
        visitor_name=texts["handoff visitor"],
        summary=texts["handoff summary"],
        promise=texts["handoff promise"],
        visitor_email=EMAIL,
    )
    seeded = Seeded(
        tenant=tenant,
        agent=agent,
        manager=manager,
        client_user=client_user,
        live=live,
        waiting=waiting,
        visitor_token=token,
        page_title=page_title,
        texts=texts,
    )
    seeded.admin_pages = admin_pages(seeded, history)
    return seeded


def admin_pages(seeded: Seeded, history) -> list[tuple[str, str, list[str]]]:
    """Return the admin's change lists and change pages that show the hostile fields, with the fields each shows."""

    def change(model, pk) -> str:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])

    def changelist(model) -> str:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")

    tenant, live = seeded.tenant, seeded.live
    lead = Lead.objects.get(conversation=history.lead_chat)
    report = Handoff.objects.get(conversation=history.escalated)
    article = KnowledgeArticle.objects.get(tenant=tenant)
    canned = CannedResponse.objects.get(tenant=tenant)
    offline_email = OutgoingEmail.objects.filter(kind=offline.EMAIL_KIND).latest("pk")
    user_model = get_user_model()
    return [
        ("tenants", changelist(type(tenant)), ["tenant name"]),
        ("tenant", change(type(tenant), tenant.pk), ["tenant name", "style notes", "greeting"]),
        ("articles", changelist(KnowledgeArticle), ["article title"]),
        ("article", change(KnowledgeArticle, article.pk), ["article title", "article text"]),
        ("canned responses", changelist(CannedResponse), ["canned text"]),
        ("canned response", change(CannedResponse, canned.pk), ["canned text"]),
        ("client users", changelist(type(seeded.client_user)), ["tenant name"]),
        ("client user", change(type(seeded.client_user), seeded.client_user.pk), ["tenant name"]),
        ("users", changelist(user_model), ["client user first name", "client user last name"]),
        ("user", change(user_model, seeded.client_user.user_id), ["client user first name"]),
        ("agents", changelist(type(seeded.agent)), ["agent name"]),
        ("agent", change(type(seeded.agent), seeded.agent.pk), ["agent name"]),
        ("conversations", changelist(Conversation), ["visitor name"]),
        ("live conversation", change(Conversation, live.pk), ["visitor message 1", "agent message 2", "note"]),
        ("waiting conversation", change(Conversation, seeded.waiting.pk), ["offline question"]),
        ("leads", changelist(Lead), ["lead name"]),
        ("lead", change(Lead, lead.pk), ["lead name", "lead wants"]),
        ("handoff reports", changelist(Handoff), ["tenant name"]),
        ("handoff report", change(Handoff, report.pk), ["handoff summary", "handoff promise"]),
        ("outbox", changelist(OutgoingEmail), ["offline name"]),
        ("offline e-mail", change(OutgoingEmail, offline_email.pk), ["offline question", "offline name"]),
    ]


@dataclass
class Tour:
    """Collects what went wrong in each place, so one run names every hole at once."""

    texts: dict[str, str]
    problems: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def check(self, page, place: str, fields: list[str]) -> None:
        """Record the place's problems: something ran or was injected, or the fields' text is not shown."""
        page.wait_for_timeout(150)  # an image's error handler runs once the image has failed to load
        self.visited.append(place)
        for frame in page.frames:
            try:
                injected = frame.evaluate(INJECTED)
            except Exception as error:  # a frame that went away while asked
                injected = [f"(frame not readable: {error})"]
            self.problems += [f"{place}: injected {found}" for found in injected]
        shown = flat("\n".join(frame.evaluate(SHOWN_TEXT) for frame in page.frames))
        for name in fields:
            if flat(self.texts[name]) not in shown:
                self.problems.append(f"{place}: {name} not shown as text ({self.texts[name]!r})")
        if self.dialogs:
            self.problems.append(f"{place}: dialogs {self.dialogs}")
            self.dialogs.clear()
        if self.script_errors:
            self.problems.append(f"{place}: script errors {self.script_errors}")
            self.script_errors.clear()


def log_in(context, server, user, *, landing: str) -> object:
    page = context.new_page()
    page.goto(f"{server.url}/accounts/login/?next={landing}")
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{server.url}{landing}")
    return page


def new_context(browser):
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(10_000)
    return context


def visit_widget(browser, server, site, seeded: Seeded, tour: Tour) -> None:
    site.pages["/"] = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{json.dumps(seeded.page_title)}</title>'
        f'</head><body><p>Shop</p><script async src="{server.url}/widget.js" data-key="{seeded.tenant.widget_key}">'
        "</script></body></html>"
    )
    context = new_context(browser)
    stored = json.dumps({"token": seeded.visitor_token, "seq": 0})
    context.add_init_script(f"localStorage.setItem({json.dumps('chatops:' + seeded.tenant.widget_key)}, {stored!r});")
    page = context.new_page()
    tour.watch(page)
    page.goto(site.origin + "/")
    page.locator("chatops-widget .l").click()
    # every line is in (counted, not read: a line shown as markup must still reach the checks below)
    page.wait_for_function(
        """(n) => {
          const list = document.querySelector('chatops-widget').shadowRoot;
          return list.querySelectorAll('.r.me').length >= n && list.querySelectorAll('.r:not(.me)').length >= n;
        }""",
        arg=len(PAYLOADS),
    )
    messages = [f"visitor message {n}" for n in range(len(PAYLOADS))] + [
        f"agent message {n}" for n in range(len(PAYLOADS))
    ]
    tour.check(page, "widget", [*messages, "agent name"])
    context.close()

    # a new visitor sees the greeting and the client's name before writing
    context = new_context(browser)
    page = context.new_page()
    tour.watch(page)
    page.goto(site.origin + "/")
    page.locator("chatops-widget .l").click()
    page.locator("chatops-widget .k textarea").wait_for()
    tour.check(page, "widget, new visitor", ["greeting", "tenant name"])
    context.close()


def visit_console(browser, server, seeded: Seeded, tour: Tour) -> None:
    context = new_context(browser)
    page = log_in(context, server, seeded.agent.user, landing="/console/")
    tour.watch(page)
    page.wait_for_selector("body[data-connection=online]")
    page.locator("#queue-list .chat-row").first.wait_for()
    page.locator("#mine-list .chat-row").first.wait_for()
    tour.check(page, "console lists", ["visitor name", "offline name"])

    page.locator("#mine-list .chat-row .chat-item").first.click()
    page.locator("#messages", has_text="A11").wait_for()
    page.locator("#notes-list .note").first.wait_for()
    page.locator("#ws-visitor", has_text="VN").wait_for()
    messages = [f"visitor message {n}" for n in range(len(PAYLOADS))] + [
        f"agent message {n}" for n in range(len(PAYLOADS))
    ]
    tour.check(
        page,
        "console chat",
        [*messages, "note", "tag", "visitor name", "tenant name", "style notes", "escalation rules"],
    )

    page.fill("#kb-query", "hostile")
    page.press("#kb-query", "Enter")
    page.locator("#kb-results .kb-hit").first.wait_for()
    tour.check(page, "console knowledge base", ["article title"])

    page.locator("#composer-input").fill("/hosti")
    page.locator("#canned .canned-option").first.wait_for()
    page.locator("#canned .canned-option").first.click()
    tour.check(page, "console canned responses", ["canned text"])

    # a colleague hands the waiting chat over with a note
    page.select_option("#presence", "online")
    page.wait_for_function("() => document.querySelector('#presence').value === 'online'")
    chat_id = in_thread(lambda: hand_over(seeded, tour))
    row = page.locator(f'#mine-list .chat-row[data-id="{chat_id}"]')
    row.wait_for()
    row.locator(".chat-item").click()
    page.locator("#transfer-note").wait_for()
    tour.check(page, "console transferred chat", ["transfer note", "colleague name", "transferred question"])

    page.goto(f"{server.url}/console/fame/")
    tour.check(page, "wall of fame", ["rating comment", "agent name", "tenant name"])
    context.close()


def hand_over(seeded: Seeded, tour: Tour) -> int:
    """Have a colleague with a hostile name transfer a new chat to the agent with a hostile note; return its id."""
    tour.texts |= {"colleague name": value("CO", 2), "transfer note": two("TR", 3)}
    colleague = factories.make_agent(trained_for=[seeded.tenant], display_name=tour.texts["colleague name"])
    visitor, _token = visits.identify_visitor(tenant=seeded.tenant, token=None)
    chat = services.start_conversation(tenant=seeded.tenant, visitor=visitor, route=False)
    tour.texts["transferred question"] = services.post_visitor_message(conversation=chat, body=two("TQ", 4))[0].body
    routing.assign_conversation(conversation=chat, agent=colleague)
    for _ in range(50):  # the agent's console has just said it is online
        try:
            routing.transfer(
                conversation=chat, from_agent=colleague, to_agent=seeded.agent, note=tour.texts["transfer note"]
            )
            return chat.pk
        except ValidationError:
            time.sleep(0.1)
    pytest.fail("the agent never became free to take the transferred chat", pytrace=False)


def visit_dashboard(browser, server, seeded: Seeded, tour: Tour) -> None:
    context = new_context(browser)
    page = log_in(context, server, seeded.client_user.user, landing="/dashboard/")
    tour.watch(page)
    page.locator(".figures").first.wait_for()
    tour.check(page, "client dashboard", ["tenant name"])
    context.close()


def visit_manager_pages(browser, server, seeded: Seeded, tour: Tour) -> None:
    context = new_context(browser)
    page = log_in(context, server, seeded.manager, landing="/admin/")
    tour.watch(page)
    page.goto(f"{server.url}/operations/board/")
    page.locator(f"tr.board-row[data-tenant={seeded.tenant.slug}]").wait_for()
    tour.check(page, "live board", ["tenant name"])

    for place, url, fields in seeded.admin_pages:
        page.goto(server.url + url)
        tour.check(page, f"admin {place}", fields)

    # a visitor's data, found by their (hostile but valid) e-mail address; the search goes to the audit log
    search = urlencode({"email": EMAIL, "tenant": seeded.tenant.pk})
    page.goto(f"{server.url}{reverse('admin:visitor-data')}?{search}")
    tour.check(page, "admin visitor data", ["visitor name", "tenant name"])
    page.goto(server.url + reverse("admin:accounts_auditentry_changelist"))
    tour.check(page, "admin audit log", ["tenant name"])

    preview = reverse("admin:reporting_reportdelivery_preview")
    report_fields = ["tenant name", "rating comment", "lead name", "lead wants", "handoff visitor", "handoff summary"]
    for kind in ("weekly", "monthly"):
        page.goto(f"{server.url}{preview}?tenant={seeded.tenant.pk}&kind={kind}&day=2026-11-18")
        page.wait_for_selector("#report-text")
        tour.check(page, f"{kind} report preview", report_fields)
    context.close()


def hostile_emails(seeded: Seeded) -> dict[str, str]:
    """Return the HTML of the e-mails built from the hostile chat, by what they are."""
    texts = seeded.texts
    report = Handoff(
        tenant=seeded.tenant,
        conversation=seeded.live,
        agent=seeded.agent,
        summary=texts["handoff summary"],
        visitor_name=texts["handoff visitor"],
        visitor_email=EMAIL,
        promise=texts["handoff promise"],
        promised_by=timezone.now() + dt.timedelta(days=1),
    )
    emails = {
        "handoff e-mail": handoff.build_handoff_email(report, recipients=["support@kahvila.example"]),
        "transcript e-mail": transcript_email(
            request=TranscriptRequest(tenant=seeded.tenant, conversation=seeded.live)
        ),
    }
    return {
        place: next(content for content, mimetype in email.alternatives if mimetype == "text/html")
        for place, email in emails.items()
    }


def visit_emails(browser, emails: dict[str, str], tour: Tour) -> None:
    """Open the e-mails' HTML as a mail client that runs scripts would show it."""
    fields = [f"visitor message {n}" for n in range(len(PAYLOADS))]
    context = new_context(browser)
    page = context.new_page()
    tour.watch(page)
    for place, html in emails.items():
        page.set_content(html)
        extra = ["handoff summary", "handoff visitor", "handoff promise"] if place == "handoff e-mail" else []
        tour.check(page, place, [*fields, *extra])
    context.close()


def test_hostile_input_is_shown_as_text_and_never_runs_anywhere(live_server_daphne, client_site, browser):
    # given a tenant whose every field a visitor, client user or agent writes holds a well-known XSS payload
    seeded = in_thread(lambda: seed(client_site.origin))
    tour = Tour(texts=seeded.texts)

    # when each of them opens every place those fields show
    visit_widget(browser, live_server_daphne, client_site, seeded, tour)
    visit_console(browser, live_server_daphne, seeded, tour)
    visit_dashboard(browser, live_server_daphne, seeded, tour)
    visit_manager_pages(browser, live_server_daphne, seeded, tour)
    visit_emails(browser, in_thread(lambda: hostile_emails(seeded)), tour)

    # then every place shows the payloads as text, and none ran or put an element in the page
    assert tour.problems == [], "\n".join(tour.problems)
    assert len(tour.visited) >= 30, tour.visited
