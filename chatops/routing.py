"""WebSocket routes: the widget's (checked per tenant by key and origin) and the staff's (session login, own origin)."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import OriginValidator
from django.urls import path

from conversations.access import is_own_origin
from conversations.consumers import AgentConsumer, VisitorConsumer
from conversations.operations_socket import OperationsConsumer
from reporting.consumers import DashboardConsumer, OperationsBoardConsumer


class OwnOriginValidator(OriginValidator):
    """Let a socket in only from a page of chatops' own origins: OWN_ORIGINS, scheme, host and port exactly.

    The same rule as the widget's own pages (conversations.access.is_own_origin). ALLOWED_HOSTS says
    nothing here: another port or scheme on an allowed host is another site, and so is everything when
    ALLOWED_HOSTS holds a wildcard. A socket without an Origin header is refused too.
    """

    def __init__(self, application):
        super().__init__(application, allowed_origins=[])

    def valid_origin(self, parsed_origin) -> bool:
        return parsed_origin is not None and is_own_origin(parsed_origin.geturl())


def staff_socket(consumer):
    """Return the ASGI app of a staff route: own origin first, then the session's user."""
    return OwnOriginValidator(AuthMiddlewareStack(consumer.as_asgi()))


websocket_urlpatterns = [
    path("ws/widget/<str:key>/", VisitorConsumer.as_asgi()),
    path("ws/console/", staff_socket(AgentConsumer)),
    path("ws/operations/", staff_socket(OperationsConsumer)),
    path("ws/dashboard/", staff_socket(DashboardConsumer)),
    path("ws/operations/board/", staff_socket(OperationsBoardConsumer)),
]
