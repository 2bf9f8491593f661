"""Who calls the API: a tenant's token in ``Authorization: Bearer <key>``.

Apart from the views (integrations/api.py): DRF's settings import these while its views module loads.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from integrations import api_tokens
from integrations.models import ApiToken


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
            raise exceptions.AuthenticationFailed("Give the token after Bearer, with one space.")
        token = api_tokens.token_for_key(parts[1].decode(errors="replace"))
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked token.")
        return ApiClient(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class HasTenantToken(permissions.BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        return isinstance(request.auth, ApiToken)
