"""ASGI entry point, served by daphne: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatops.settings")

# Django must be set up before anything imports models (the routing below does).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chatops.routing import websocket_urlpatterns  # noqa: E402


def _skip_autobahns_connection_dump() -> None:
    """Stop autobahn pretty-printing every WebSocket's settings for a debug line nobody reads.

    It formats them (pprint) whether or not debug logging is on: about 1 ms of CPU per connection, half
    of what accepting a widget costs, which two thousand widgets reconnecting after a restart feel.
    """
    from autobahn.websocket import protocol

    protocol.pformat = lambda *args, **kwargs: ""


_skip_autobahns_connection_dump()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
