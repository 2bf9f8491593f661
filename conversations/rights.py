"""A visitor's rights: find what is held about a person, hand it over (export), or erase it.

An erasure keeps every row that a KPI counts (conversations with their times, outcomes and ratings,
messages with their senders and times, page views with their times, leads and handoffs as records),
and blanks what is the person's: the texts, the contact details, the addresses of the pages they read.
A lead or handoff keeps a marker in place of its contact, so it still counts as a lead with contact.
The e-mails about their conversations (transcripts, handoff reports) are deleted from the outbox;
apps above this one blank what they hold of them on ``signals.visitors_erased`` (webhook deliveries).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models, transaction
from django.utils import timezone

from conversations import signals
from conversations.models import (
    Conversation,
    Handoff,
    Lead,
    Message,
    Note,
    PageView,
    TranscriptRequest,
    Transfer,
    Visitor,
    email_reference,
)
from conversations.outcomes import PHONE_CHARACTERS
from outbox import services as outbox
from tenants.models import Tenant

# What stands in for an erased contact, so that the lead or handoff still counts (and its constraint holds).
ERASED = "[erased]"
ERASED_URL = "about:blank"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Search:
    """What an operations manager looks a person up by; empty parts are not searched."""

    email: str = ""
    phone: str = ""
    visitor_id: str = ""

    def describe(self) -> str:
        parts = [f"{name}={value}" for name, value in (("email", self.email), ("phone", self.phone)) if value]
        if self.visitor_id:
            parts.append(f"id={self.visitor_id}")
        return ", ".join(parts)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _same_phone(stored: str, wanted: str) -> bool:
    """Compare phone numbers by their last nine digits (a country code written or not)."""
    stored_digits, wanted_digits = _digits(stored), _digits(wanted)
    return len(wanted_digits) >= 6 and stored_digits[-9:] == wanted_digits[-9:]


def _matches(search: Search, *, email: str, phone: str) -> bool:
    if search.email and email and email.strip().lower() == search.email.strip().lower():
        return True
    return bool(search.phone and phone and _same_phone(phone, search.phone))


def _visitor_by_id(visitor_id: str) -> models.Q | None:
    visitor_id = visitor_id.strip()
    if visitor_id.isdigit():
        return models.Q(pk=int(visitor_id))
    try:
        return models.Q(public_id=uuid.UUID(visitor_id))
    except ValueError:
        return None


def _contact_rows(model, tenant: Tenant | None, fields: tuple[str, str]) -> Iterable:
    """Rows with a contact detail, opened (encrypted ones are compared once read: a token matches nothing)."""
    queryset = model.objects.all() if tenant is None else model.objects.for_tenant(tenant)
    email_field, phone_field = fields
    return queryset.exclude(**{email_field: ""}, **{phone_field: ""}).iterator(chunk_size=500)


def find_visitors(*, search: Search, tenant: Tenant | None = None) -> list[Visitor]:
    """Return the visitors a search names: by id, or by an e-mail or phone on them, their leads or handoffs."""
    ids: set[int] = set()
    if search.visitor_id:
        by_id = _visitor_by_id(search.visitor_id)
        if by_id is not None:
            queryset = Visitor.objects.all() if tenant is None else Visitor.objects.for_tenant(tenant)
            ids.update(queryset.filter(by_id).values_list("pk", flat=True))
    if search.email or search.phone:
        for visitor in _contact_rows(Visitor, tenant, ("email", "phone")):
            if _matches(search, email=visitor.email, phone=visitor.phone):
                ids.add(visitor.pk)
        for model, fields in ((Lead, ("email", "phone")), (Handoff, ("visitor_email", "visitor_phone"))):
            for row in _contact_rows(model, tenant, fields):
                if _matches(search, email=getattr(row, fields[0]), phone=getattr(row, fields[1])):
                    ids.add(Conversation.objects.filter(pk=row.conversation_id).values_list("visitor_id").get()[0])
    return list(Visitor.objects.filter(pk__in=ids).select_related("tenant").order_by("tenant__name", "pk"))


# --- Export ---------------------------------------------------------------------------------------

EXPORTED: dict[str, tuple[str, ...]] = {
    "visitors": ("id", "public_id", "tenant", "name", "email", "phone", "first_seen_at", "last_seen_at"),
    "page_views": ("id", "visitor", "url", "title", "viewed_at", "returning"),
    "conversations": (
        "id", "visitor", "origin", "status", "started_at", "closed_at", "outcome", "summary", "ip_address",
    ),
    "messages": ("id", "conversation", "seq", "sender", "body", "created_at"),
    "ratings": ("conversation", "rating", "rating_comment", "rated_at"),
    "leads": ("id", "conversation", "name", "email", "phone", "wants", "created_at"),
    "handoffs": (
        "id", "conversation", "summary", "visitor_name", "visitor_email", "visitor_phone", "promise",
        "promised_by", "created_at",
    ),
    "notes": ("id", "conversation", "body", "created_at"),
    "transcript_requests": ("id", "conversation", "email", "requested_at"),
}  # fmt: skip


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | models.Model):
        return str(value.pk if isinstance(value, models.Model) else value)
    return value if value is None or isinstance(value, bool | int) else str(value)


# Columns read under another name: the keys of related rows, the tenant by its name.
_READ_AS = {"visitor": "visitor_id", "conversation": "conversation_id", "tenant": "tenant__name"}


def _rows(queryset: models.QuerySet, columns: tuple[str, ...], **read_as: str) -> list[dict]:
    names = [read_as.get(column) or _READ_AS.get(column, column) for column in columns]
    return [
        {column: _plain(value) for column, value in zip(columns, row, strict=True)}
        for row in queryset.values_list(*names)
    ]


def visitor_data(visitors: list[Visitor]) -> dict[str, list[dict]]:
    """Return everything held about the visitors, by kind, as plain values (texts opened)."""
    visitor_ids = [visitor.pk for visitor in visitors]
    conversations = Conversation.objects.filter(visitor_id__in=visitor_ids).order_by("started_at", "pk")
    chat_ids = list(conversations.values_list("pk", flat=True))
    in_chats = {"conversation_id__in": chat_ids}
    return {
        "visitors": _rows(Visitor.objects.filter(pk__in=visitor_ids).order_by("pk"), EXPORTED["visitors"]),
        "page_views": _rows(
            PageView.objects.filter(visitor_id__in=visitor_ids).order_by("viewed_at", "pk"), EXPORTED["page_views"]
        ),
        "conversations": _rows(conversations, EXPORTED["conversations"]),
        "messages": _rows(Message.objects.filter(**in_chats).order_by("conversation", "seq"), EXPORTED["messages"]),
        "ratings": _rows(
            Conversation.objects.filter(pk__in=chat_ids, rating__isnull=False).order_by("pk"),
            EXPORTED["ratings"],
            conversation="pk",
        ),
        "leads": _rows(Lead.objects.filter(**in_chats).order_by("pk"), EXPORTED["leads"]),
        "handoffs": _rows(Handoff.objects.filter(**in_chats).order_by("pk"), EXPORTED["handoffs"]),
        "notes": _rows(Note.objects.filter(**in_chats).order_by("pk"), EXPORTED["notes"]),
        "transcript_requests": _rows(
            TranscriptRequest.objects.filter(**in_chats).order_by("pk"), EXPORTED["transcript_requests"]
        ),
    }


def spreadsheet_safe(value: object) -> str:
    """Return a cell's text so a spreadsheet shows it instead of running it (a phone number stays as it is)."""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PHONE_CHARACTERS.match(text):
        return "'" + text
    return text


def _csv(rows: list[dict], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else spreadsheet_safe(value) for key, value in row.items()})
    return out.getvalue()


def export_archive(*, visitors: list[Visitor], now: dt.datetime | None = None) -> bytes:
    """Return a zip of everything held about the visitors: one JSON file with all of it, and a CSV per kind."""
    data = visitor_data(visitors)
    made = (now or timezone.now()).isoformat()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("visitor-data.json", json.dumps({"exported_at": made, **data}, ensure_ascii=False, indent=2))
        for kind, rows in data.items():
            archive.writestr(f"{kind}.csv", _csv(rows, EXPORTED[kind]))
    return buffer.getvalue()


# --- Erasure --------------------------------------------------------------------------------------


@dataclass
class Erasure:
    """How many rows of each kind an erasure blanked."""

    visitors: int = 0
    conversations: int = 0
    messages: int = 0
    page_views: int = 0
    emails: int = 0


@transaction.atomic
def erase_visitors(*, visitors: list[Visitor]) -> Erasure:
    """Blank everything that is the visitors' own, keep every row the KPIs count; one transaction.

    Their widget token stops naming them (a new public id), so a later visit starts a new visitor.
    """
    visitor_ids = [visitor.pk for visitor in visitors]
    chat_ids = list(Conversation.objects.filter(visitor_id__in=visitor_ids).values_list("pk", flat=True))
    in_chats = {"conversation_id__in": chat_ids}
    result = Erasure(conversations=len(chat_ids))
    result.messages = Message.objects.filter(**in_chats).update(body="")
    Note.objects.filter(**in_chats).update(body="")
    Transfer.objects.filter(**in_chats).update(note="")
    Lead.objects.filter(**in_chats).update(name="", email="", phone=ERASED, wants="")
    Handoff.objects.filter(**in_chats).update(
        summary="", visitor_name="", visitor_email="", visitor_phone=ERASED, promise=""
    )
    TranscriptRequest.objects.filter(**in_chats).update(email="")
    Conversation.objects.filter(pk__in=chat_ids).update(summary="", rating_comment="", ip_address=None)
    result.page_views = PageView.objects.filter(visitor_id__in=visitor_ids).update(url=ERASED_URL, title="")
    for visitor in Visitor.objects.filter(pk__in=visitor_ids).only("pk"):
        Visitor.objects.filter(pk=visitor.pk).update(name="", email="", phone="", public_id=uuid.uuid4())
        result.visitors += 1
    result.emails = outbox.forget(references=[email_reference(chat_id) for chat_id in chat_ids])
    signals.visitors_erased.send(sender=Visitor, visitor_ids=visitor_ids, conversation_ids=chat_ids)
    return result
