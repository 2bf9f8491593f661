"""Writes beside a chat in the console: private notes and tags (an agent acknowledges a tenant's change
notice through ``workforce.services.acknowledge_notice``).

Notes and tags are for the team only: nothing here publishes to a conversation's channel group, which the
visitor's widget listens to.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import protection
from conversations.models import Conversation, Note, Tag
from conversations.safe_text import checked_text
from tenants.models import Tenant
from workforce.models import Agent

MAX_NOTE_LENGTH = 4000
MAX_TAGS_PER_CONVERSATION = 20
MAX_TAG_LENGTH = Tag._meta.get_field("name").max_length

ERROR_EMPTY_NOTE = _("Write the note first.")
ERROR_NOTE_TOO_LONG = _("A note can be at most %(limit)d characters long.")
ERROR_TAGS_NOT_A_LIST = _("Send the tags as a list of names.")
ERROR_TOO_MANY_TAGS = _("A chat can have at most %(limit)d tags.")
ERROR_TAG_TOO_LONG = _("A tag can be at most %(limit)d characters long: “%(tag)s”.")

_SPACES = re.compile(r"\s+")


def _field_error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def add_note(*, conversation: Conversation, agent: Agent, body: str, now: dt.datetime | None = None) -> Note:
    """Add an agent's private note to a chat; it is never shown to the visitor."""
    body = checked_text((body or "").strip(), field="body") if isinstance(body, str) else ""
    if not body:
        raise _field_error("body", ERROR_EMPTY_NOTE, "empty")
    if len(body) > MAX_NOTE_LENGTH:
        raise _field_error("body", ERROR_NOTE_TOO_LONG % {"limit": MAX_NOTE_LENGTH}, "too_long")
    return Note.objects.create(
        tenant_id=conversation.tenant_id,
        conversation=conversation,
        agent=agent,
        body=protection.protect_for(conversation.tenant, body),
        created_at=now or timezone.now(),
    )


def clean_tag_names(names: object) -> list[str]:
    """Return the names with spaces tidied, empty ones dropped and each name once (ignoring case)."""
    if not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names):
        raise _field_error("tags", ERROR_TAGS_NOT_A_LIST, "invalid")
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = _SPACES.sub(" ", checked_text(raw, field="tags")).strip().lstrip("#").strip()
        if not name or name.casefold() in seen:
            continue
        if len(name) > MAX_TAG_LENGTH:
            message = ERROR_TAG_TOO_LONG % {"limit": MAX_TAG_LENGTH, "tag": name[:MAX_TAG_LENGTH] + "…"}
            raise _field_error("tags", message, "too_long")
        seen.add(name.casefold())
        cleaned.append(name)
    if len(cleaned) > MAX_TAGS_PER_CONVERSATION:
        raise _field_error("tags", ERROR_TOO_MANY_TAGS % {"limit": MAX_TAGS_PER_CONVERSATION}, "too_many")
    return cleaned


def _tenant_tag(tenant_id: int, name: str) -> Tag:
    """Return the tenant's tag of that name (any case), creating it if it is new."""
    tags = Tag.objects.filter(tenant_id=tenant_id)
    existing = tags.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Tag.objects.create(tenant_id=tenant_id, name=name)
    except IntegrityError:
        # A colleague created it a moment ago.
        return tags.get(name=name)


@transaction.atomic
def define_tags(*, tenant: Tenant, names: object) -> list[Tag]:
    """Give the tenant these tags (those it has already, in any case, are kept), for agents to pick from."""
    return [_tenant_tag(tenant.pk, name) for name in clean_tag_names(names)]


@transaction.atomic
def set_tags(*, conversation: Conversation, names: object) -> list[Tag]:
    """Replace a chat's tags with these names; a name the tenant has not used yet becomes a new tag of the tenant."""
    tags = [_tenant_tag(conversation.tenant_id, name) for name in clean_tag_names(names)]
    conversation.tags.set(tags)
    return sorted(tags, key=lambda tag: tag.name.casefold())
