"""The three roles, kept as Django groups (created by a migration), and who holds them.

This module is imported while Django loads its apps (by the admin site's AppConfig and by this
app's), so it imports no models at module level: it reaches them through the user and the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth import get_user_model

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

OPERATIONS_MANAGER = "operations manager"
AGENT = "agent"
CLIENT_USER = "client user"
ROLES = (OPERATIONS_MANAGER, AGENT, CLIENT_USER)


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    """Say whether an active user holds the role."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.groups.filter(name=role).exists()


def is_operations_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Say whether the user may use the operations admin."""
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or has_role(user, OPERATIONS_MANAGER)))


def grant_role(user: AbstractBaseUser, role: str) -> None:
    """Give the user a role; operations managers also get staff status so the admin login accepts them."""
    group, _created = user.groups.model.objects.get_or_create(name=role)
    user.groups.add(group)
    if role == OPERATIONS_MANAGER and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def operations_manager_emails() -> list[str]:
    """Return the e-mail addresses of the active operations managers."""
    users = get_user_model().objects.filter(is_active=True, groups__name=OPERATIONS_MANAGER).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def ensure_role_groups(**kwargs) -> None:
    """Recreate the role groups after every migrate and flush (a flush empties the table the migration filled)."""
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)
