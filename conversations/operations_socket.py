"""The admin's socket for operations managers: alerts about chats waiting past their target."""

from __future__ import annotations

from accounts import revocation
from accounts.roles import is_operations_manager
from conversations import access, protocol
from conversations.consumers import CLOSE_FORBIDDEN, _JsonConsumer
from conversations.threads import database_sync_to_async
from conversations.timers import OPERATIONS_GROUP


def _is_operations_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff and is_operations_manager(user))


class OperationsConsumer(_JsonConsumer):
    """The admin's connection for operations managers: alerts about chats waiting past their target."""

    parse = staticmethod(protocol.parse_agent_frame)

    async def connect(self) -> None:
        self.allowed = await database_sync_to_async(_is_operations_manager)(self.scope.get("user"))
        if not self.allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.accept()
        await self.join(OPERATIONS_GROUP)
        await self.join(revocation.user_sockets_group(self.scope["user"].pk))

    async def access_changed(self, event: dict) -> None:
        """The manager's login changed: close the socket unless they are still an operations manager."""
        still = database_sync_to_async(lambda user: _is_operations_manager(access.login_read_again(user)))
        if not await still(self.scope["user"]):
            await self.shut()

    def ready(self) -> bool:
        return False  # managers only listen here

    async def wait_alert(self, event: dict) -> None:
        await self.send_frame({"type": "wait_alert", **event["payload"]})
