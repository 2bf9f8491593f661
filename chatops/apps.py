from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def ensure_role_groups(**kwargs) -> None:
    """Recreate the role groups after every migrate and flush (a flush empties the table the migration filled)."""
    from django.contrib.auth.models import Group

    from chatops.roles import ROLES

    for name in ROLES:
        Group.objects.get_or_create(name=name)


class ChatopsConfig(AppConfig):
    name = "chatops"
    verbose_name = _("Operations")

    def ready(self) -> None:
        post_migrate.connect(ensure_role_groups, sender=self, dispatch_uid="chatops.ensure_role_groups")
