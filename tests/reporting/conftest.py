"""Fixtures for the report e-mails: live tenants with recipients, and SMTP servers that misbehave."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from tenants.models import ReportRecipient, Tenant
from tests.conftest import free_port, mail_server_on_loopback

LIVE_SINCE = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)


def in_finnish(msgid: str, **params) -> str:
    """Return an English source text as a Finnish tenant's report shows it (translated once the catalogue has it)."""
    with translation.override("fi"):
        text = translation.gettext(msgid)
    return text % params if params else text


def in_finnish_plural(singular: str, plural: str, number: int, **params) -> str:
    """Return an English source text with a plural form as a Finnish tenant's report shows it for ``number``."""
    with translation.override("fi"):
        text = translation.ngettext(singular, plural, number)
    return text % params if params else text


def make_live(tenant: Tenant) -> Tenant:
    tenant.status = Tenant.Status.LIVE
    tenant.went_live_at = LIVE_SINCE
    tenant.save(update_fields=["status", "went_live_at"])
    return tenant


def add_recipients(tenant: Tenant, domain: str) -> None:
    """Give the tenant one weekly-and-monthly, one weekly-only, one monthly-only and one escalation contact."""
    for name, weekly, monthly, escalations in (
        ("boss", True, True, False),
        ("weekly", True, False, False),
        ("monthly", False, True, False),
        ("support", False, False, True),
    ):
        ReportRecipient.objects.create(
            tenant=tenant, email=f"{name}@{domain}", weekly=weekly, monthly=monthly, escalations=escalations
        )


WEEKLY_RECIPIENTS = ["boss@kahvila.example", "weekly@kahvila.example"]
MONTHLY_RECIPIENTS = ["boss@kahvila.example", "monthly@kahvila.example"]


@pytest.fixture
def shop(tenant):
    """The Finnish café (Helsinki), live, with recipients of every kind."""
    add_recipients(tenant, "kahvila.example")
    return make_live(tenant)


@pytest.fixture
def gym(other_tenant):
    """The Polish gym (Warsaw), live, with recipients of every kind."""
    add_recipients(other_tenant, "silownia.example")
    return make_live(other_tenant)


class _RefusingHandler:
    """Refuse the first ``refusals`` messages with a temporary error, then accept and keep the rest."""

    def __init__(self, refusals: int):
        self.refusals = refusals
        self.messages: list = []
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        if self.refused < self.refusals:
            self.refused += 1
            return "451 Requested action aborted: try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"


@pytest.fixture
def flaky_smtp_server(settings):
    """A real SMTP server on loopback that refuses the first message it gets; yields its handler."""
    handler = _RefusingHandler(refusals=1)
    with mail_server_on_loopback(handler, settings):
        yield handler


@pytest.fixture
def smtp_down(settings):
    """Point Django's SMTP backend at a loopback port nothing listens on."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
