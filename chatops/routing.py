"""WebSocket routes; the live-chat consumers join here."""

websocket_urlpatterns: list = []
