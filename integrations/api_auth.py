"""Who calls the API and what it may do: a tenant's token in ``Authorization: Bearer <key>``, its
scopes, and its rate.

Apart from the views (integrations/api.py): DRF's settings import these while its views module loads.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions, throttling
from rest_framework.request import Request

from integrations import api_tokens
from integrations.models import ApiToken, Scope


class ApiClient:
    """The caller of the API: the client company's system behind a token."""

    is_authenticated = True

    def __init__(self, token: ApiToken) -> None:
        self.token = token


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` with a live token; ``request.auth`` is the token."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace") != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Give the token after Bearer, with one space."))
        token = api_tokens.token_for_key(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked token."))
        return ApiClient(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def required_scope(request: Request, view) -> str:
    """Return the scope a request needs: the view's for its method (``write_scopes``), else read."""
    return getattr(view, "write_scopes", {}).get(request.method, Scope.READ.value)


class HasTenantToken(permissions.BasePermission):
    """A live token (else 401) whose scopes cover what the request does (else 403 naming the scope)."""

    def has_permission(self, request: Request, view) -> bool:
        if not isinstance(request.auth, ApiToken):
            return False
        scope = required_scope(request, view)
        if request.auth.allows(scope):
            return True
        self.message = _("This token lacks the scope “%(scope)s”; an operations manager can make one that has it.") % {
            "scope": scope
        }
        return False


class TokenRateThrottle(throttling.SimpleRateThrottle):
    """At most ``API_RATE_LIMIT`` requests per token, counted in the shared cache by the token's id.

    The count is in the default cache (Redis when ``REDIS_URL`` is set), so every daphne process counts
    the same requests; a refusal is a 429 with ``Retry-After``.
    """

    scope = "api_token"

    def get_rate(self) -> str:
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request: Request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
