"""The audit log: who read or changed which tenant data in the admin, and when. Rows are never edited.

It sits with the logins at the bottom layer because every admin page logs into it (``admin_site``);
a tenant is recorded by its id and its name at the time, not by a key to the tenants app above.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One read or change of tenant data by a person (or by a command, whose name stands for the person)."""

    class Action(models.TextChoices):
        VIEWED = "viewed", _("Viewed")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")
        DOWNLOADED = "downloaded", _("Downloaded a list")
        SEARCHED = "searched", _("Searched for a visitor")
        EXPORTED = "exported", _("Exported a visitor's data")
        ERASED = "erased", _("Erased a visitor's data")
        ROTATED_KEYS = "rotated_keys", _("Re-encrypted under the newest key")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Kept as written at the time: the user or tenant may be renamed or deleted later, the log may not change.
    actor = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    tenant_id = models.PositiveBigIntegerField(_("tenant id"), null=True, blank=True)
    tenant_name = models.CharField(_("tenant"), max_length=200, blank=True)
    object_type = models.CharField(_("what"), max_length=100, blank=True)
    object_id = models.CharField(_("which"), max_length=64, blank=True)
    details = models.TextField(_("details"), blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        indexes = [models.Index(fields=["tenant_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor} {self.action} {self.object_type} {self.object_id}"
