"""API tokens: issued once in plain text, stored as a digest, found by it, revoked on purpose."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from integrations.models import API_TOKEN_PREFIX, ApiToken
from tenants.models import Tenant

# A token's last use is written at most this often: not one write per request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(
    *, tenant: Tenant, name: str, scopes: list[str] | None = None, now: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for the tenant (read-only unless ``scopes`` say more); return it and its key,
    which is shown this once and never stored."""
    token = ApiToken(tenant=tenant, name=name, created_at=now or timezone.now())
    if scopes is not None:
        token.scopes = scopes
    return token, save_new_token(token)


@transaction.atomic
def save_new_token(token: ApiToken) -> str:
    """Give an unsaved token (tenant, name and scopes set) a fresh key, store its digest; return the key."""
    key = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.key_digest, token.key_start = digest(key), key[:14]
    token.full_clean()
    token.save()
    return key


def token_for_key(key: str, *, now: dt.datetime | None = None) -> ApiToken | None:
    """Return the live token of the key (noting its use), or None for an unknown or revoked one."""
    token = ApiToken.objects.select_related("tenant").filter(key_digest=digest(key), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def revoke(*, tokens, now: dt.datetime | None = None) -> int:
    """Revoke the tokens that are still live; return how many."""
    ids = [token.pk for token in tokens]
    return ApiToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(revoked_at=now or timezone.now())
