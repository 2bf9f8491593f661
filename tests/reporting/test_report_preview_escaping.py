"""What visitors and agents wrote is shown as text in the admin's report preview, never run (issue 12, point 1)."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Conversation, Handoff, Lead
from reporting import emails, reports
from tests.reporting.report_history import local, make_history

pytestmark = pytest.mark.django_db

PREVIEW_URL = reverse("admin:reporting_reportdelivery_preview")
PAYLOAD = "<img src=x onerror=alert(1)>"


def poison(tenant, history) -> None:
    """Put the payload in every field of the report a visitor, an agent or a manager wrote."""
    Conversation.objects.filter(pk=history.praised.pk).update(rating_comment=PAYLOAD + " comment")
    Lead.objects.filter(conversation=history.lead_chat).update(name=PAYLOAD + " name", wants=PAYLOAD + " wants")
    Handoff.objects.filter(conversation=history.escalated).update(
        visitor_name=PAYLOAD + " visitor", summary=PAYLOAD + " summary"
    )
    tenant.name = PAYLOAD + " tenant"
    tenant.save(update_fields=["name"])


@pytest.fixture
def manager_client(client, ops_manager, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: local(2026, 11, 23, 10).astimezone(dt.UTC))
    client.force_login(ops_manager)
    return client


@pytest.mark.parametrize(("kind", "day"), [("weekly", "2026-11-18"), ("monthly", "2026-11-18")])
def test_the_preview_shows_hostile_text_as_text(manager_client, shop, kind, day):
    # given
    poison(shop, make_history(shop))

    # when
    response = manager_client.get(PREVIEW_URL, {"tenant": shop.pk, "kind": kind, "day": day})

    # then the payload is nowhere in the page as markup, and the plain-text part shows it escaped
    page = response.content.decode()
    assert response.status_code == 200
    assert "<img src=x" not in page
    text_part = page.split('id="report-text">', 1)[1].split("</div>", 1)[0]
    for where in ("comment", "name", "wants", "visitor", "summary", "tenant"):
        assert html.escape(f"{PAYLOAD} {where}", quote=False) in text_part.replace("&#x27;", "'")


def test_the_plain_text_part_is_never_marked_safe_for_html(shop):
    make_history(shop)
    period = reports.report_period(tenant=shop, kind="weekly", day=dt.date(2026, 11, 18))

    text = emails.render_text(reports.build_report(tenant=shop, kind="weekly", period=period))

    assert not hasattr(text, "__html__")
