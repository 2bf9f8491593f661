"""Tenant scoping, written once.

Every model that belongs to a client company derives from ``TenantOwnedModel``. Its manager
hands out querysets that know how to narrow themselves to one tenant (``for_tenant``) or to the
tenants an agent is trained for (``visible_to``). Views, consumers, tasks and admin reach
tenant data through these and through the ``access_*`` functions, never by filtering by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from chatops.models import Agent
    from tenants.models import Tenant

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet):
    """A queryset of tenant-owned rows that narrows itself by tenant or by agent."""

    def for_tenant(self, tenant: Tenant) -> TenantQuerySet:
        """Return the rows of one tenant."""
        return self.filter(tenant=tenant)

    def visible_to(self, agent: Agent) -> TenantQuerySet:
        """Return the rows of every tenant the agent has completed training for."""
        return self.filter(tenant__in=trained_tenant_ids(agent))


class TenantOwnedModel(models.Model):
    """A row that belongs to exactly one tenant."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, verbose_name=_("tenant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def trained_tenant_ids(agent: Agent) -> models.QuerySet:
    """Return the ids of the tenants the agent is qualified for (training completed)."""
    from chatops.models import Qualification

    return Qualification.objects.completed().filter(agent=agent).values("tenant_id")
