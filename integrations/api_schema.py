"""What drf-spectacular cannot see by itself: the token scheme, the period parameters, the figures' shape."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse


class TokenScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <key>`` with a tenant's API token (made in the admin, with its scopes)."""

    target_class = "integrations.api_auth.TokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A tenant's API token. Scopes: read (every GET), leads:write, knowledge:write.",
        }


PERIOD_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First local day (with to)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last local day, included (with from)."),
    OpenApiParameter("week", OpenApiTypes.STR, description="An ISO week, e.g. 2026-W51 (Monday to Sunday)."),
    OpenApiParameter("month", OpenApiTypes.STR, description="A calendar month, e.g. 2026-12."),
]

KPI_RESPONSE = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="Every figure of reporting/kpis.py for the period of the tenant's local days, with the period "
    "itself (kind, time_zone, first_day, last_day, start, end).",
)
