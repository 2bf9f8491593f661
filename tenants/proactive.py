"""Proactive chat's invitation rules: which page addresses a rule's pattern matches, and adding a rule.

A rule's pattern is a page address in which ``*`` stands for any text (none included), matched
against the whole address without its ``#fragment`` and regardless of case:

- ``https://www.example.com/pricing*`` — a full address: scheme, host, path and query;
- ``/pricing*`` — starting with ``/``: the path, with or without the query (any host);
- ``www.example.com/shop/*`` — no scheme: the address without its ``http(s)://``;
- ``*/checkout/*`` or ``*`` — starting with ``*``: the full address.

Here are the rules and their patterns; showing an invitation and starting its chat is the
conversations' (``conversations/invitations.py``), a layer above.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from tenants.models import ProactiveRule, Tenant

ERROR_PATTERN_SPACES = _("A page address pattern has no spaces; use * for any text.")


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.IGNORECASE | re.DOTALL)


def _addresses_to_match(pattern: str, url: str) -> list[str]:
    """Return the forms of the page address a pattern of this kind is compared with."""
    url = url.split("#", 1)[0]
    if pattern.startswith("/"):
        parts = urlsplit(url)
        path = parts.path or "/"
        return [path, f"{path}?{parts.query}"] if parts.query else [path]
    if pattern.startswith("*") or "://" in pattern:
        return [url]
    return [url.split("://", 1)[-1]]


def url_matches(pattern: str, url: str) -> bool:
    """Say whether a page address matches a rule's pattern (``*`` = any text; see the module docstring)."""
    pattern = pattern.strip()
    if not pattern or not url:
        return False
    regex = _compiled(pattern)
    return any(regex.fullmatch(address) for address in _addresses_to_match(pattern, url))


def validate_url_pattern(pattern: str) -> None:
    """Refuse a pattern that could never match an address."""
    if any(character.isspace() for character in pattern.strip()):
        raise ValidationError(ERROR_PATTERN_SPACES, code="pattern_spaces")


def with_conversation_counts(rules: QuerySet[ProactiveRule]) -> QuerySet[ProactiveRule]:
    """Annotate each rule with how many conversations it started (``conversations_started``)."""
    return rules.annotate(conversations_started=Count("conversations"))


def add_invitation_rule(
    *,
    tenant: Tenant,
    name: str,
    url_pattern: str,
    message: str,
    seconds_on_page: int = 30,
    returning_only: bool = False,
    only_in_service_hours: bool = True,
    only_when_agent_free: bool = True,
    is_active: bool = True,
    position: int = 0,
) -> ProactiveRule:
    """Add an invitation rule to the tenant; a pattern that could never match an address is refused."""
    url_pattern = url_pattern.strip()
    validate_url_pattern(url_pattern)
    rule = ProactiveRule(
        tenant=tenant,
        name=name,
        url_pattern=url_pattern,
        message=message,
        seconds_on_page=seconds_on_page,
        returning_only=returning_only,
        only_in_service_hours=only_in_service_hours,
        only_when_agent_free=only_when_agent_free,
        is_active=is_active,
        position=position,
    )
    rule.full_clean()
    rule.save()
    return rule
