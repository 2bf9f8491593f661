"""Tenant scoping, written once.

Every model that belongs to a client company derives from ``TenantOwnedModel``. Its manager
hands out querysets that know how to narrow themselves to one tenant (``for_tenant``) or to the
tenants an agent is trained for (``visible_to``). Views, consumers, tasks and admin reach
tenant data through these and through the ``access_*`` functions, never by filtering by hand.

Who is trained for a tenant is the workforce's to record (``workforce.Qualification``), a layer
above this one, which tenants never import. Its tenant foreign key gives every tenant the reverse
relation named in ``TRAINING``; scoping reads training only through the lookups below, so a rename
there shows up here and in tests/tenants/test_scoping.py rather than as an import upward.
"""

from __future__ import annotations

from typing import TypeVar

from django.apps import apps
from django.db import models
from django.db.models import OuterRef, Q
from django.utils.translation import gettext_lazy as _

M = TypeVar("M", bound=models.Model)

# The reverse relation from a tenant to the agents' training rows (workforce.Qualification.tenant).
TRAINING = "qualification"
# The training row's agent, and its day of completion (only completed training counts).
TRAINED_AGENT = f"{TRAINING}__agent"
TRAINING_COMPLETED = f"{TRAINING}__training_completed_on__isnull"


def completed_training(prefix: str = "") -> Q:
    """Return the condition "has completed training" on a tenant, or on the tenant a ``prefix`` leads to."""
    return Q(**{f"{prefix}{TRAINING_COMPLETED}": False})


def trained(agent: models.Model, prefix: str = "") -> Q:
    """Return the condition "the agent has completed training for this tenant" (or the tenant at ``prefix``).

    Both halves are in one ``Q`` so that they hold for the same training row.
    """
    return Q(**{f"{prefix}{TRAINED_AGENT}": agent}) & completed_training(prefix)


class TenantQuerySet(models.QuerySet):
    """A queryset of tenant-owned rows that narrows itself by tenant or by agent."""

    def for_tenant(self, tenant: models.Model) -> TenantQuerySet:
        """Return the rows of one tenant."""
        return self.filter(tenant=tenant)

    def visible_to(self, agent: models.Model) -> TenantQuerySet:
        """Return the rows of every tenant the agent has completed training for."""
        return self.filter(tenant__in=trained_tenant_ids(agent))


class TenantOwnedModel(models.Model):
    """A row that belongs to exactly one tenant."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, verbose_name=_("tenant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True


def trained_tenant_ids(agent: models.Model) -> models.QuerySet:
    """Return the ids of the tenants the agent is qualified for (training completed), as a queryset."""
    # By the registry: tenants.models imports this module, so it cannot be imported here.
    return apps.get_model("tenants", "Tenant").objects.filter(trained(agent)).values_list("pk", flat=True)


def trained_agent_ids(tenant: models.Model | int | OuterRef) -> models.QuerySet:
    """Return the ids of the agents who have completed training for the tenant (a row, an id or an OuterRef)."""
    tenants = apps.get_model("tenants", "Tenant").objects.filter(completed_training(), pk=tenant)
    return tenants.values_list(TRAINED_AGENT, flat=True)


def trained_agent_count(tenant: models.Model) -> int:
    """Return how many agents have completed training for the tenant."""
    return apps.get_model("tenants", "Tenant").objects.filter(completed_training(), pk=tenant.pk).count()
