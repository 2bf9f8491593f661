"""The audit log in the admin: read-only, registered by the project (chatops/admin.py) with its role check."""

from __future__ import annotations

from django.contrib import admin


class AuditEntryAdmin(admin.ModelAdmin):
    """Every read and change of tenant data logged, newest first; nothing here can be changed or deleted."""

    list_display = ("at", "actor", "action", "tenant", "object_type", "object_id", "details")
    list_filter = ("action", "tenant")
    search_fields = ("actor", "object_type", "=object_id", "details")
    date_hierarchy = "at"
    fields = list_display
    readonly_fields = list_display
    list_select_related = ("tenant",)

    def get_actions(self, request):
        return {}
