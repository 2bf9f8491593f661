"""WebSocket routes: the widget's (checked per tenant by key and origin) and the console's (session login)."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from conversations.consumers import AgentConsumer, OperationsConsumer, VisitorConsumer
from reporting.consumers import DashboardConsumer, OperationsBoardConsumer

websocket_urlpatterns = [
    path("ws/widget/<str:key>/", VisitorConsumer.as_asgi()),
    path("ws/console/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
    path("ws/operations/", AllowedHostsOriginValidator(AuthMiddlewareStack(OperationsConsumer.as_asgi()))),
    path("ws/dashboard/", AllowedHostsOriginValidator(AuthMiddlewareStack(DashboardConsumer.as_asgi()))),
    path(
        "ws/operations/board/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(OperationsBoardConsumer.as_asgi())),
    ),
]
