"""The admin pages of logins, groups, login lockouts and the audit log, behind the operations managers' role check."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import revocation, roles
from accounts.admin_site import OpsModelAdmin, OpsPermissionsMixin
from accounts.models import AuditEntry

User = get_user_model()


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class OpsUserAdmin(OpsPermissionsMixin, UserAdmin):
    """Logins; an operations manager who is not a superuser cannot hand out or touch superuser powers."""

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ("is_superuser", "user_permissions")
        return readonly

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    # A login deactivated, deleted or given other roles: its open sockets check their access again.
    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        revocation.logins_changed_on_commit(user_ids=[obj.pk])

    def delete_model(self, request: HttpRequest, obj) -> None:
        revocation.logins_changed_on_commit(user_ids=[obj.pk])
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        revocation.logins_changed_on_commit(user_ids=list(queryset.values_list("pk", flat=True)))
        super().delete_queryset(request, queryset)


@admin.register(Group)
class OpsGroupAdmin(OpsPermissionsMixin, GroupAdmin):
    """Groups; the three role groups are looked up by name, so they keep it and cannot be deleted."""

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.name in roles.ROLES:
            readonly += ("name",)
        return readonly

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.name in roles.ROLES:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        super().delete_queryset(request, queryset.exclude(name__in=roles.ROLES))


@admin.register(AccessAttempt)
class LoginLockoutAdmin(OpsModelAdmin):
    """Failed sign-ins per username and address (django-axes); deleting a row unlocks that login at once."""

    list_display = ("username", "ip_address", "failures_since_start", "attempt_time")
    search_fields = ("username", "ip_address")
    fields = ("username", "ip_address", "user_agent", "path_info", "failures_since_start", "attempt_time")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(OpsPermissionsMixin, admin.ModelAdmin):
    """The audit log, newest first: operations managers read it; nobody adds, changes or deletes a line.

    Reading the log is not itself logged (it derives from no ``OpsModelAdmin``): it would only grow by
    being read.
    """

    list_display = ("at", "actor", "action", "tenant_name", "object_type", "object_id", "details")
    list_filter = ("action", "tenant_name")
    search_fields = ("actor", "tenant_name", "object_type", "=object_id", "details")
    date_hierarchy = "at"
    fields = (*list_display, "tenant_id")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}
