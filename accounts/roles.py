"""The three roles, kept as Django groups (created by a migration), and who holds them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

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
    group, _created = Group.objects.get_or_create(name=role)
    user.groups.add(group)
    if role == OPERATIONS_MANAGER and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def operations_manager_emails() -> list[str]:
    """Return the e-mail addresses of the active operations managers."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, groups__name=OPERATIONS_MANAGER).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
