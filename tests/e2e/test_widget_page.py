"""The widget on a client's page: a plain HTML page on another port with only the snippet, in Chromium.

The client's site is Python's http.server on its own port (its own origin, listed as the tenant's
site); chatops is a real daphne process. The page's own CSS tries hard to restyle everything.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connections, transaction
from django.utils import timezone

from conversations import events, services
from conversations.models import Conversation, Message, Visitor
from tenants.models import ServiceHours
from tests import factories
from tests.e2e.conftest import BASE_DIR, ClientSite, DaphneServer
from workforce.models import Agent
from workforce.services import plan_shift

pytestmark = [pytest.mark.browser, pytest.mark.services]

SCREENSHOT = os.environ.get("WIDGET_SCREENSHOT", os.path.join(tempfile.gettempdir(), "widget-open.png"))
# The client's own stylesheet: if it reached into the widget, the widget's text would be huge and red.
HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kahvila Oy – fresh coffee</title>
<style>
  * {{ color: red !important; font-size: 40px; font-family: "Comic Sans MS", serif !important; }}
  div, button, p {{ padding: 30px !important; border: 3px dashed red !important; }}
  body {{ margin: 0; background: #f4efe6; }}
  header {{ background: #3b2a1a; padding: 40px; }}
</style></head>
<body><header><h1>Kahvila Oy</h1></header><main><h2>Fresh coffee and pastries since 1952</h2>
<p>Visit us on Esplanadi.</p></main>
<script async src="{server}/widget.js" data-key="{key}"></script>
</body></html>"""


def put_snippet_on(site: ClientSite, server: DaphneServer, tenant, *paths: str) -> None:
    for path in paths or ("/",):
        site.pages[path] = HOST_PAGE.format(server=server.url, key=tenant.widget_key)


def eventually(check: Callable[[], object], *, timeout: float = 10.0, what: str = "condition") -> object:
    """Return check()'s first truthy result, polling; fail after the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout:.0f} s", pytrace=False)
        time.sleep(0.1)


def in_thread(work: Callable[[], object]) -> object:
    """Run ORM and channel-layer work in a thread of its own, away from Playwright's event loop."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def open_all_week(tenant) -> None:
    for weekday in range(7):
        ServiceHours.objects.create(tenant=tenant, weekday=weekday, opens=dt.time(0), closes=dt.time(0))


def agent_on_duty(tenant, name: str) -> Agent:
    """Return an agent on a shift now, online with a console that pinged just now (routable for 30 s)."""
    agent = factories.make_agent(trained_for=[tenant], display_name=name, max_concurrent_chats=3)
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(presence=Agent.Presence.ONLINE, last_seen_at=now)
    with transaction.atomic():
        plan_shift(agent=agent, starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=7))
    return agent


def restart_daphne_on(port: int, *, env: dict[str, str]) -> subprocess.Popen:
    """Start daphne again on a port a stopped one used (the port may still have connections in TIME_WAIT)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(128)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), "chatops.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[listener.fileno()],
        )
    finally:
        listener.close()


def widget_style(page, selector: str) -> dict:
    return page.evaluate(
        """(selector) => {
            const element = document.querySelector('chatops-widget').shadowRoot.querySelector(selector);
            const style = getComputedStyle(element);
            return {color: style.color, fontSize: style.fontSize, fontFamily: style.fontFamily,
                    padding: style.paddingTop};
        }""",
        selector,
    )


def own_rows(page):
    return page.locator("chatops-widget .r.me")


def test_visitor_chats_from_a_client_site_and_the_conversation_survives_a_reload(live_server_daphne, client_site, page):
    # given a tenant open now, with an agent on duty, whose site is the client's page
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin, widget_colour="#0f766e")
    open_all_week(tenant)
    anna = agent_on_duty(tenant, "Anna")
    put_snippet_on(client_site, live_server_daphne, tenant)

    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    # when the visitor opens the client's page
    page.goto(client_site.origin + "/")

    # then the launcher appears inside the widget's shadow root, untouched by the page's CSS
    launcher = page.locator("chatops-widget .l")
    launcher.wait_for(state="visible")
    assert page.evaluate("() => !!document.querySelector('chatops-widget').shadowRoot.querySelector('.l')")
    assert page.evaluate("() => getComputedStyle(document.querySelector('h2')).color") == "rgb(255, 0, 0)"

    # when they open it, type a question and press Enter
    launcher.click()
    page.locator("chatops-widget .m .r:first-child p").wait_for(state="visible")
    composer = page.locator("chatops-widget .k textarea")
    composer.fill("Do you have gluten-free cinnamon buns today?")
    composer.press("Enter")

    # then the question is stored and shown as sent, and the agent it was routed to is named
    stored = eventually(
        lambda: Message.objects.filter(tenant=tenant, sender=Message.Sender.VISITOR).first(), what="stored message"
    )
    assert stored.body == "Do you have gluten-free cinnamon buns today?"
    assert len(stored.client_msg_id) >= 16
    question = own_rows(page).filter(has_text="gluten-free cinnamon buns")
    question.locator("small", has_text="Sent").wait_for()
    page.locator("chatops-widget .h", has_text="You're chatting with Anna").wait_for()
    assert composer.input_value() == ""

    # and the host page's CSS does not change the widget's text
    greeting = widget_style(page, ".m .r:first-child p")
    assert greeting["color"] == "rgb(31, 41, 55)"
    assert greeting["fontSize"] == "14px"
    assert "Comic Sans" not in greeting["fontFamily"]
    assert widget_style(page, ".me p")["fontSize"] == "14px"

    # when the agent answers and starts typing again (from another process, through Redis)
    conversation = stored.conversation

    def agent_answers() -> None:
        services.post_agent_message(
            conversation=conversation, agent=anna, body="Yes! Freshly baked at noon – shall I put two aside for you?"
        )
        async_to_sync(get_channel_layer().group_send)(
            events.conversation_group(conversation.pk),
            {
                "type": "chat.typing",
                "payload": {"conversation": conversation.pk, "sender": "agent", "active": True, "agent_name": "Anna"},
            },
        )

    in_thread(agent_answers)

    # then the answer shows, the question counts as seen, and the typing line names the agent
    page.locator("chatops-widget .r:not(.me) p", has_text="Freshly baked at noon").wait_for()
    question.locator("small", has_text="Seen").wait_for()
    page.locator("chatops-widget .t", has_text="Anna is typing…").wait_for()
    page.screenshot(path=SCREENSHOT)

    # when the visitor reloads the page
    page.reload()

    # then the same conversation is shown again, for the same visitor
    page.locator("chatops-widget .me p", has_text="gluten-free cinnamon buns").wait_for()
    page.locator("chatops-widget .r:not(.me) p", has_text="Freshly baked at noon").wait_for()
    eventually(lambda: page.evaluate("() => window.chatopsWidget.state.ready"), what="reconnected")
    assert own_rows(page).count() == 1
    assert Visitor.objects.filter(tenant=tenant).count() == 1
    assert Message.objects.filter(conversation=conversation, sender=Message.Sender.VISITOR).count() == 1

    # when the visitor has closed the chat and the agent writes again
    launcher.click()
    page.locator("chatops-widget .p").wait_for(state="hidden")
    in_thread(lambda: services.post_agent_message(conversation=conversation, agent=anna, body="They're set aside."))

    # then the launcher counts the unread answer, and opening the chat shows it
    page.locator("chatops-widget .l .b", has_text="1").wait_for()
    launcher.click()
    page.locator("chatops-widget .r:not(.me) p", has_text="set aside").wait_for()
    assert page.locator("chatops-widget .l .b").count() == 0

    # when the agent closes the chat
    in_thread(lambda: services.close_conversation(conversation=conversation))

    # then the visitor is told, and nothing went wrong in the page
    page.locator("chatops-widget .s", has_text="The chat has ended").wait_for()
    assert page_errors == []


def test_message_typed_while_the_server_is_down_is_delivered_once_after_it_comes_back(
    live_server_daphne, client_site, page
):
    # given a chat under way
    tenant = factories.make_tenant(allowed_origins=client_site.origin)
    open_all_week(tenant)
    put_snippet_on(client_site, live_server_daphne, tenant)
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()
    composer = page.locator("chatops-widget .k textarea")
    composer.fill("First question")
    composer.press("Enter")
    own_rows(page).filter(has_text="First question").locator("small", has_text="Sent").wait_for()

    # when the server goes away
    port = live_server_daphne.port
    live_server_daphne.stop()

    # then the widget says it is reconnecting, and what is typed waits as "sending"
    page.locator("chatops-widget .z", has_text="Reconnecting…").wait_for()
    composer.fill("Typed while you were away")
    composer.press("Enter")
    waiting = own_rows(page).filter(has_text="Typed while you were away")
    waiting.locator("small", has_text="Sending…").wait_for()

    # when the server is back on the same address
    restarted = restart_daphne_on(port, env=live_server_daphne.env)
    try:
        # then the message is delivered, shown as sent, the banner goes, and it is stored once
        waiting.locator("small", has_text="Sent").wait_for(timeout=25_000)
        page.locator("chatops-widget .z").wait_for(state="hidden")
        assert Message.objects.filter(tenant=tenant, body="Typed while you were away").count() == 1

        # when the page changes before an acknowledgement arrived (the outbox still holds the message)
        page.evaluate(
            """() => {
                const key = Object.keys(localStorage).find(k => k.startsWith('chatops:'));
                const saved = JSON.parse(localStorage.getItem(key));
                const last = saved.log.filter(m => m.sender === 'visitor').pop();
                saved.outbox = [{id: last.client_msg_id, body: last.body, at: last.created_at}];
                saved.log = saved.log.filter(m => m.seq < last.seq);
                saved.seq = last.seq - 1;
                localStorage.setItem(key, JSON.stringify(saved));
            }"""
        )
        page.reload()

        # then the resend is stored once and shown once
        own_rows(page).filter(has_text="Typed while you were away").locator("small", has_text="Sent").wait_for()
        eventually(lambda: page.evaluate("() => window.chatopsWidget.state.outbox === 0"), what="outbox emptied")
        assert own_rows(page).filter(has_text="Typed while you were away").count() == 1
        assert Message.objects.filter(tenant=tenant, body="Typed while you were away").count() == 1
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


def test_outside_service_hours_the_widget_takes_a_message_instead(live_server_daphne, client_site, page):
    # given a tenant with no service hours at all
    tenant = factories.make_tenant(name="Kahvila Oy", allowed_origins=client_site.origin)
    put_snippet_on(client_site, live_server_daphne, tenant)

    # when the visitor opens the widget
    page.goto(client_site.origin + "/")
    page.locator("chatops-widget .l").click()

    # then the message form is there instead of the chat
    form = page.locator("chatops-widget form.o")
    form.wait_for(state="visible")
    assert page.locator("chatops-widget .h", has_text="Away").count() == 1
    assert not page.locator("chatops-widget .k textarea").is_visible()

    # when they send it with a mistyped e-mail address
    form.locator("[name=name]").fill("Maija")
    form.locator("[name=email]").fill("maija at example")
    form.locator("[name=question]").fill("Can I book the back room for 12 people on Friday?")
    form.get_by_role("button", name="Send message").click()

    # then the field says what is wrong and nothing is stored
    form.locator(".e", has_text="valid e-mail address").wait_for()
    page.screenshot(path=SCREENSHOT.replace(".png", "-form.png"))
    assert not Conversation.objects.filter(tenant=tenant).exists()

    # when they correct it
    form.locator("[name=email]").fill("maija@example.fi")
    form.get_by_role("button", name="Send message").click()

    # then they are thanked and the question waits for the next shift as an offline conversation
    page.locator("chatops-widget .y", has_text="maija@example.fi").wait_for()
    conversation = eventually(
        lambda: Conversation.objects.filter(tenant=tenant, origin=Conversation.Origin.OFFLINE_MESSAGE).first(),
        what="offline conversation",
    )
    assert conversation.status == Conversation.Status.WAITING
    assert conversation.visitor.email == "maija@example.fi"
    assert conversation.messages.get(sender=Message.Sender.VISITOR).body.startswith("Can I book the back room")
