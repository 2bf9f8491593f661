from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from workforce.signals import agent_may_take_chats


class ConversationsConfig(AppConfig):
    name = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        # Routing imports models, which exist only once the apps are loaded, hence here and not above.
        from conversations import routing

        # The workforce's hook (workforce/signals.py): a change that may let an agent take waiting chats.
        agent_may_take_chats.connect(routing.on_agent_may_take_chats, dispatch_uid="conversations.routing")
