"""Closing a chat with its outcome: the lead the client follows up, or the handoff the client takes over.

``close_with_outcome`` validates what the agent entered for the outcome, then closes the chat and
stores the Lead or Handoff in one transaction. Every refusal is a ``CloseRefused`` whose error dict
is keyed by the field it belongs to ("outcome", "summary", "lead.email", "handoff.promised_by" …), so
the console can show each message beside its field. An escalation also tells the visitor what happens
next and, after commit, queues the handoff report to the tenant's escalation contacts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from conversations import access, protection, routing, services, signals
from conversations.models import Conversation, Handoff, Lead, Visitor
from conversations.safe_text import BIDI_CONTROLS, ERROR_NUL, NUL
from moments.formatting import local_moment, weekday_name
from tenants.models import Tenant
from workforce.models import Agent

Outcome = Conversation.Outcome
# What an agent may close a chat with: "visitor left" is the clock's alone (conversations.timers), so a
# chat an agent did not answer can never be hidden from the missed chats that way.
AGENT_OUTCOMES = tuple(outcome for outcome in Outcome.values if outcome != Outcome.VISITOR_LEFT)

CODE_OUTCOME_REQUIRED = "outcome_required"
CODE_INVALID = "invalid_close"

MAX_SUMMARY_LENGTH = 4000
MAX_NAME_LENGTH = 120
MAX_EMAIL_LENGTH = 254
MAX_PHONE_LENGTH = 40
MAX_PROMISE_LENGTH = 1000
MIN_PHONE_DIGITS = 5
PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
# A promise "by a day" means by the end of that day, stored as its last second in the tenant's zone.
END_OF_DAY = dt.time(23, 59, 59)

ERROR_OUTCOME_REQUIRED = _("Choose how the chat ended before closing it.")
ERROR_OUTCOME_UNKNOWN = _("“%(value)s” is not an outcome; choose one from the list.")
ERROR_NOT_TEXT = _("This must be text.")
ERROR_TOO_LONG = _("This can be at most %(limit)d characters long.")
ERROR_EMAIL_INVALID = _("Enter a valid e-mail address, like name@example.com.")
ERROR_PHONE_INVALID = _("Enter a phone number of digits, like +358 40 123 4567.")
ERROR_LEAD_WANTS_REQUIRED = _("Write what the visitor wants, so the client can follow up.")
ERROR_LEAD_CONTACT_REQUIRED = _("Give the visitor’s e-mail address or phone number, so the client can reach them.")
ERROR_HANDOFF_SUMMARY_REQUIRED = _("Summarise for the client what the visitor needs.")
ERROR_HANDOFF_PROMISE_REQUIRED = _("Write what you promised the visitor, e.g. “a call back about the refund”.")
ERROR_HANDOFF_CONTACT_REQUIRED = _("The client needs the visitor’s e-mail address or phone number to get back to them.")
ERROR_PROMISED_BY_REQUIRED = _("Say by when the client will get back to the visitor.")
ERROR_PROMISED_BY_INVALID = _("Give a date like 2026-12-18, or a date and time like 2026-12-18T16:00.")
ERROR_PROMISED_BY_PAST = _("That moment has passed; promise a time in the future.")

# The moment comes before the contact, so a date ending in "a.m." never meets the full stop.
VISITOR_NOTE_BY_EMAIL = _(
    "We are passing your request on to %(tenant)s. By %(when)s they will contact you by e-mail at %(email)s."
)
VISITOR_NOTE_BY_PHONE = _(
    "We are passing your request on to %(tenant)s. By %(when)s they will contact you by phone at %(phone)s."
)
VISITOR_NOTE_BY_EMAIL_OR_PHONE = _(
    "We are passing your request on to %(tenant)s. By %(when)s they will contact you by e-mail at %(email)s "
    "or by phone at %(phone)s."
)
HANDOFF_NOTE_ID_PREFIX = "handoff:"


class CloseRefused(ValidationError):
    """A close the service refused: one error per field, and a code for the refusal as a whole."""

    def __init__(self, errors: dict[str, ValidationError], code: str = CODE_INVALID):
        super().__init__(errors)
        self.code = code


@dataclass(frozen=True)
class LeadDetails:
    name: str
    email: str
    phone: str
    wants: str


@dataclass(frozen=True)
class HandoffDetails:
    summary: str
    visitor_name: str
    visitor_email: str
    visitor_phone: str
    promise: str
    promised_by: dt.datetime


class _Errors(dict):
    """Field errors in the order the fields appear on the close form (the first one is the headline)."""

    def add(self, key: str, message, code: str, **params) -> None:
        if key not in self:
            self[key] = ValidationError(message, code=code, params=params or None)


def _text(raw: Mapping | None, name: str, key: str, errors: _Errors, *, limit: int, one_line: bool = False) -> str:
    value = (raw or {}).get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(key, ERROR_NOT_TEXT, "not_text")
        return ""
    if NUL in value:
        errors.add(key, ERROR_NUL, "nul")
        return ""
    value = BIDI_CONTROLS.sub("", value)
    # Names end up in e-mail subjects and headers: one line, no control characters.
    value = " ".join(value.split()) if one_line else value.strip()
    if len(value) > limit:
        errors.add(key, ERROR_TOO_LONG, "too_long", limit=limit)
    return value


def _email(value: str, key: str, errors: _Errors) -> str:
    if value and key not in errors:
        try:
            validate_email(value)
        except ValidationError:
            errors.add(key, ERROR_EMAIL_INVALID, "invalid")
    return value


def _phone(value: str, key: str, errors: _Errors) -> str:
    if value and key not in errors:
        digits = sum(character.isdigit() for character in value)
        if not PHONE_CHARACTERS.match(value) or digits < MIN_PHONE_DIGITS:
            errors.add(key, ERROR_PHONE_INVALID, "invalid")
    return value


def _clean_outcome(outcome: object) -> str:
    if outcome is None or (isinstance(outcome, str) and not outcome.strip()):
        raise CloseRefused(
            {"outcome": ValidationError(ERROR_OUTCOME_REQUIRED, code=CODE_OUTCOME_REQUIRED)}, CODE_OUTCOME_REQUIRED
        )
    if not isinstance(outcome, str) or outcome.strip() not in AGENT_OUTCOMES:
        errors = _Errors()
        errors.add("outcome", ERROR_OUTCOME_UNKNOWN, "invalid_choice", value=str(outcome)[:40])
        raise CloseRefused(errors)
    return outcome.strip()


def _clean_lead(raw: Mapping | None, visitor: Visitor, errors: _Errors) -> LeadDetails:
    # Blank contact fields fall back to what the visitor already told us.
    name = _text(raw, "name", "lead.name", errors, limit=MAX_NAME_LENGTH, one_line=True) or visitor.name
    email = _text(raw, "email", "lead.email", errors, limit=MAX_EMAIL_LENGTH) or visitor.email
    phone = _text(raw, "phone", "lead.phone", errors, limit=MAX_PHONE_LENGTH) or visitor.phone
    email, phone = _email(email, "lead.email", errors), _phone(phone, "lead.phone", errors)
    if not email and not phone:
        errors.add("lead.email", ERROR_LEAD_CONTACT_REQUIRED, "contact_required")
        errors.add("lead.phone", ERROR_LEAD_CONTACT_REQUIRED, "contact_required")
    wants = _text(raw, "wants", "lead.wants", errors, limit=MAX_SUMMARY_LENGTH)
    if not wants:
        errors.add("lead.wants", ERROR_LEAD_WANTS_REQUIRED, "required")
    return LeadDetails(name=name, email=email, phone=phone, wants=wants)


def parse_promised_by(value: str, *, tenant: Tenant) -> dt.datetime | None:
    """Return the moment "YYYY-MM-DD" (the end of that day) or "YYYY-MM-DDTHH:MM" names in the tenant's zone.

    Return None when the text is neither.
    """
    value = value.strip()
    try:
        if DATE_ONLY.match(value):
            day = dt.date.fromisoformat(value)
            return dt.datetime.combine(day, END_OF_DAY, tzinfo=tenant.zone)
        if DATE_AND_TIME.match(value):
            return dt.datetime.fromisoformat(value.replace(" ", "T")).replace(tzinfo=tenant.zone)
    except ValueError:
        return None
    return None


def _clean_handoff(
    raw: Mapping | None, summary: str, visitor: Visitor, tenant: Tenant, now: dt.datetime, errors: _Errors
) -> HandoffDetails:
    handoff_summary = _text(raw, "summary", "handoff.summary", errors, limit=MAX_SUMMARY_LENGTH) or summary
    if not handoff_summary and "handoff.summary" not in errors:
        errors.add("handoff.summary", ERROR_HANDOFF_SUMMARY_REQUIRED, "required")
    name = _text(raw, "visitor_name", "handoff.visitor_name", errors, limit=MAX_NAME_LENGTH, one_line=True)
    email = _text(raw, "visitor_email", "handoff.visitor_email", errors, limit=MAX_EMAIL_LENGTH)
    phone = _text(raw, "visitor_phone", "handoff.visitor_phone", errors, limit=MAX_PHONE_LENGTH)
    name, email, phone = name or visitor.name, email or visitor.email, phone or visitor.phone
    email, phone = _email(email, "handoff.visitor_email", errors), _phone(phone, "handoff.visitor_phone", errors)
    if not email and not phone:
        errors.add("handoff.visitor_email", ERROR_HANDOFF_CONTACT_REQUIRED, "contact_required")
        errors.add("handoff.visitor_phone", ERROR_HANDOFF_CONTACT_REQUIRED, "contact_required")
    promise = _text(raw, "promise", "handoff.promise", errors, limit=MAX_PROMISE_LENGTH)
    if not promise and "handoff.promise" not in errors:
        errors.add("handoff.promise", ERROR_HANDOFF_PROMISE_REQUIRED, "required")
    promised_by = None
    promised_text = _text(raw, "promised_by", "handoff.promised_by", errors, limit=40)
    if "handoff.promised_by" not in errors:
        if not promised_text:
            errors.add("handoff.promised_by", ERROR_PROMISED_BY_REQUIRED, "required")
        else:
            promised_by = parse_promised_by(promised_text, tenant=tenant)
            if promised_by is None:
                errors.add("handoff.promised_by", ERROR_PROMISED_BY_INVALID, "invalid")
            elif promised_by <= now:
                errors.add("handoff.promised_by", ERROR_PROMISED_BY_PAST, "past")
    return HandoffDetails(
        summary=handoff_summary,
        visitor_name=name,
        visitor_email=email,
        visitor_phone=phone,
        promise=promise,
        promised_by=promised_by,
    )


def format_promised_by(moment: dt.datetime, *, tenant: Tenant) -> str:
    """Return the promised moment in the active language and the tenant's zone, with its weekday.

    A promise by the end of a day reads as the day alone.
    """
    local = local_moment(moment, tenant.zone)
    weekday = weekday_name(local)
    if local.time().replace(microsecond=0) == END_OF_DAY:
        date = formats.date_format(local, "DATE_FORMAT")
    else:
        date = formats.date_format(local, "DATETIME_FORMAT")
    # Translators: a promised moment, e.g. "Friday Dec. 18, 2026, 4 p.m.".
    return pgettext("promised by", "%(weekday)s %(date)s") % {"weekday": weekday, "date": date}


def visitor_note(handoff: Handoff, *, tenant: Tenant) -> str:
    """Return what the visitor is told after an escalation, in the tenant's language: who, how and by when."""
    with translation.override(tenant.language):
        params = {
            "tenant": tenant.name,
            "email": handoff.visitor_email,
            "phone": handoff.visitor_phone,
            "when": format_promised_by(handoff.promised_by, tenant=tenant),
        }
        if handoff.visitor_email and handoff.visitor_phone:
            return gettext(VISITOR_NOTE_BY_EMAIL_OR_PHONE) % params
        if handoff.visitor_email:
            return gettext(VISITOR_NOTE_BY_EMAIL) % params
        return gettext(VISITOR_NOTE_BY_PHONE) % params


def _fill_visitor(visitor: Visitor, *, tenant: Tenant, name: str, email: str, phone: str) -> None:
    """Keep what the visitor told the agent on the visitor, where nothing was known before."""
    changed = []
    for field, value in (("name", name), ("email", email), ("phone", phone)):
        if value and not getattr(visitor, field):
            setattr(visitor, field, protection.seal_for(tenant, value))
            changed.append(field)
    if changed:
        visitor.save(update_fields=changed)


def _record_lead(conversation: Conversation, details: LeadDetails, now: dt.datetime) -> Lead:
    tenant = conversation.tenant
    _fill_visitor(conversation.visitor, tenant=tenant, name=details.name, email=details.email, phone=details.phone)
    lead = Lead(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        name=protection.seal_for(tenant, details.name),
        email=protection.seal_for(tenant, details.email),
        phone=protection.seal_for(tenant, details.phone),
        wants=protection.protect_for(tenant, details.wants),
        created_at=now,
    )
    lead.full_clean()
    lead.save()
    signals.lead_created.send(sender=Lead, lead=lead)
    return lead


def _record_handoff(
    conversation: Conversation, agent: Agent | None, details: HandoffDetails, now: dt.datetime, *, send: bool
) -> Handoff:
    # handoff.py renders the report with this module's date formats, so it is imported here, not above.
    from conversations import handoff as handoff_reports

    tenant = conversation.tenant
    _fill_visitor(
        conversation.visitor,
        tenant=tenant,
        name=details.visitor_name,
        email=details.visitor_email,
        phone=details.visitor_phone,
    )
    handoff = Handoff(
        tenant_id=tenant.pk,
        conversation=conversation,
        agent=agent,
        summary=protection.protect_for(tenant, details.summary),
        visitor_name=protection.seal_for(tenant, details.visitor_name),
        visitor_email=protection.seal_for(tenant, details.visitor_email),
        visitor_phone=protection.seal_for(tenant, details.visitor_phone),
        promise=protection.protect_for(tenant, details.promise),
        promised_by=details.promised_by,
        created_at=now,
    )
    handoff.full_clean(exclude=["agent"])  # the agent may be unknown (a close from outside the console)
    handoff.save()
    services.post_system_message(
        conversation=conversation,
        body=visitor_note(handoff, tenant=tenant),
        client_msg_id=f"{HANDOFF_NOTE_ID_PREFIX}{handoff.pk}",
        now=now,
    )
    # Composed now, with the transcript and the note just posted, and sent by the outbox after commit.
    # Without an escalation contact nothing is queued: the admin says so.
    handoff_reports.queue_report(handoff, now=now, send=send)
    signals.handoff_created.send(sender=Handoff, handoff=handoff)
    return handoff


@transaction.atomic
def close_with_outcome(
    *,
    conversation: Conversation,
    agent: Agent | None,
    outcome: str,
    summary: str = "",
    lead: Mapping[str, str] | None = None,
    handoff: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    send_report: bool = True,
) -> Conversation:
    """Close a chat with its outcome, storing the lead or the handoff report it came with.

    ``lead`` (name, email, phone, wants) is read only for the lead outcome and ``handoff`` (summary,
    visitor_name, visitor_email, visitor_phone, promise, promised_by) only for an escalation; blank
    contact fields fall back to what is known of the visitor, and what the agent learned fills the
    visitor's blank ones. Raise ``CloseRefused`` (code "outcome_required" or "invalid_close", an error
    per field) or ValidationError "closed" / "not_yours"; nothing is stored then. An escalation posts
    the visitor a note of what happens next and queues the report's e-mail after commit; with
    ``send_report=False`` the e-mail is stored in the outbox but not sent: the caller sends it
    (``outbox.send_now``) or records how it went (``outbox.deliver_as_of``), as when writing history.
    """
    now = now or timezone.now()
    locked = Conversation.objects.select_for_update().select_related("tenant", "visitor").get(pk=conversation.pk)
    if locked.status == Conversation.Status.CLOSED:
        raise ValidationError(services.ERROR_CONVERSATION_CLOSED, code="closed")
    if agent is not None and locked.agent_id not in (None, agent.pk):
        raise ValidationError(services.ERROR_NOT_YOUR_CHAT, code="not_yours")
    outcome = _clean_outcome(outcome)
    errors = _Errors()
    summary = _text({"summary": summary}, "summary", "summary", errors, limit=MAX_SUMMARY_LENGTH)
    lead_details = handoff_details = None
    if outcome == Outcome.LEAD:
        lead_details = _clean_lead(lead, locked.visitor, errors)
    elif outcome == Outcome.ESCALATED:
        handoff_details = _clean_handoff(handoff, summary, locked.visitor, locked.tenant, now, errors)
    if errors:
        raise CloseRefused(errors)
    if lead_details is not None:
        _record_lead(locked, lead_details, now)
    if handoff_details is not None:
        summary = summary or handoff_details.summary
        _record_handoff(locked, agent, handoff_details, now, send=send_report)
    return services.close_conversation(conversation=locked, outcome=outcome, summary=summary, now=now)


def close_by_agent(
    *,
    agent: Agent,
    conversation_id: object,
    outcome: str,
    summary: str = "",
    lead: Mapping[str, str] | None = None,
    handoff: Mapping[str, str] | None = None,
) -> Conversation:
    """Close the agent's chat (by id) from their console; their free slot takes the oldest waiting chat."""
    conversation = access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)
    closed = close_with_outcome(
        conversation=conversation, agent=agent, outcome=outcome, summary=summary, lead=lead, handoff=handoff
    )
    routing.drain_queue_for(agent=agent)
    return closed


@transaction.atomic
def mark_lead_handled(*, lead: Lead, handled: bool, now: dt.datetime | None = None) -> Lead:
    """Record that the client has followed the lead up (or, with ``handled=False``, that it has not yet).

    Marking a handled lead again keeps the first moment: a CRM that retries changes nothing.
    """
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if handled and locked.handled_at is None:
        locked.handled_at = now or timezone.now()
    elif not handled:
        locked.handled_at = None
    locked.save(update_fields=["handled_at"])
    return locked
