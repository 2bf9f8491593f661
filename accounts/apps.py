from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from accounts.roles import ensure_role_groups


class AccountsConfig(AppConfig):
    """Logins, roles and the role-checked admin site: the bottom layer, which uses no app of ours."""

    name = "accounts"
    verbose_name = _("Operations")

    def ready(self) -> None:
        # This app has no models, so Django sends it no post_migrate; auth's tables hold the groups.
        auth = apps.get_app_config("auth")
        post_migrate.connect(ensure_role_groups, sender=auth, dispatch_uid="accounts.ensure_role_groups")
