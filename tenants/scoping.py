"""Tenant scoping, written once.

Every model that belongs to a client company derives from ``TenantOwnedModel``. Its manager
hands out querysets that know how to narrow themselves to one tenant (``for_tenant``) or to the
tenants an agent is trained for (``visible_to``). Views, consumers, tasks and admin reach
tenant data through these and through the ``access_*`` functions, never by filtering by hand.

Who is trained for a tenant is the workforce's to record (``workforce.Qualification``), a layer
above this one, which tenants never import. Its tenant foreign key gives every tenant the reverse
relation named in ``TRAINING``; scoping reads training only through the lookups below, so a rename
there shows up here and in tests/tenants/test_scoping.py rather than as an import upward.

Scoping cannot be skipped. A tenant-owned model's default manager (``objects``) hands out querysets
that refuse to run (``UnscopedQueryError``, naming the model) until something has narrowed them to a
tenant or to rows in hand:

* ``for_tenant(tenant)``, ``visible_to(agent)``, or a filter on the tenant itself (``tenant=``,
  ``tenant_id=``, ``tenant__in=``), or on another relation's tenant given as a row (``conversation__tenant=tenant``);
* a filter on a relation given as a tenant-owned row, rows, or a scoped queryset
  (``Message.objects.filter(conversation=conversation)``), and every related manager reached through
  a row (``conversation.messages.all()``, ``tenant.servicehours_set``): the parent narrows them;
* ``unscoped()``, said on purpose where a query across tenants is the point, with the reason in a
  comment on the line (or the line above): tests/tenants/test_scoping_enforced.py fails without it;
* ``scoping_lifted()``, a block where everything is allowed: the operations admin, which works across
  tenants by design, runs in one (``chatops.middleware``), and so do Django's uniqueness checks.

Django's own machinery keeps working: the base manager (saving, deleting, refreshing, following a
foreign key) is Django's plain one, and historical models in migrations get plain managers too.
Code whose module names start with a prefix given to ``trust_queries_from`` (the test suite, which
reads whatever rows it asserts on) gets querysets that count as scoped.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

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


class UnscopedQueryError(Exception):
    """A tenant-owned model was queried without being narrowed to a tenant (or said ``unscoped()``)."""

    def __init__(self, model: type[models.Model]):
        super().__init__(
            f"{model.__name__} rows were queried without a tenant scope: narrow the query with "
            f"for_tenant(tenant) or visible_to(agent), filter by tenant, go through a row "
            f"(conversation.messages), or say .unscoped() with the reason in a comment."
        )
        self.model = model


# Set inside scoping_lifted(): every query runs, scoped or not.
_lifted: contextvars.ContextVar[bool] = contextvars.ContextVar("tenant_scoping_lifted", default=False)
# Module-name prefixes whose own queries count as scoped (trust_queries_from).
_trusted_prefixes: list[str] = []
# Frames passed over when looking for the code that asked for a queryset.
_MANAGER_MODULES = frozenset({"django.db.models.manager", __name__})
# Lookups on the tenant itself: each narrows the rows to one tenant or to a chosen few.
TENANT_LOOKUPS = frozenset(
    f"tenant{path}{suffix}" for path in ("", "_id", "__pk", "__id") for suffix in ("", "__in", "__exact")
)


@contextlib.contextmanager
def scoping_lifted() -> Iterator[None]:
    """Let every query of tenant-owned rows run inside the block, scoped or not.

    For code that works across tenants as a whole (the operations admin) or on Django's behalf
    (uniqueness checks): each use says why where it is entered.
    """
    token = _lifted.set(True)
    try:
        yield
    finally:
        _lifted.reset(token)


def trust_queries_from(prefix: str) -> None:
    """Count the querysets that modules named ``prefix`` or ``prefix.*`` ask a manager for as scoped."""
    if prefix not in _trusted_prefixes:
        _trusted_prefixes.append(prefix)


def _asked_by_trusted_code() -> bool:
    if not _trusted_prefixes:
        return False
    frame = sys._getframe(2)
    while frame is not None and frame.f_globals.get("__name__") in _MANAGER_MODULES:
        frame = frame.f_back
    module = frame.f_globals.get("__name__", "") if frame is not None else ""
    return any(module == prefix or module.startswith(prefix + ".") for prefix in _trusted_prefixes)


def _narrows_to_rows_in_hand(value: Any) -> bool:
    """Say whether a filter value is tenant-owned rows (or a tenant) in hand, or a scoped queryset of them."""
    if isinstance(value, TenantQuerySet):
        return value._tenant_scoped
    if isinstance(value, models.QuerySet):
        return False
    if isinstance(value, models.Model):
        return value.pk is not None and isinstance(value, TenantOwnedModel | _tenant_model())
    if isinstance(value, list | tuple | set | frozenset):
        return bool(value) and all(_narrows_to_rows_in_hand(item) for item in value)
    return False


def _tenant_model() -> type[models.Model]:
    return apps.get_model("tenants", "Tenant")


def _scopes(lookup: str, value: Any) -> bool:
    """Say whether the filter ``lookup=value`` narrows tenant-owned rows to a tenant or to rows in hand."""
    if value is None or isinstance(value, OuterRef):
        return False
    if lookup.endswith("__in") and isinstance(value, list | tuple | set | frozenset) and not value:
        return True  # Nothing at all: the start of an OR built in a loop, Q(pk__in=[]).
    return lookup in TENANT_LOOKUPS or _narrows_to_rows_in_hand(value)


def _q_scopes(q: Q) -> bool:
    """Say whether a Q narrows the rows: one of its AND-ed conditions does, or each of its OR-ed ones."""
    if q.negated or not q.children:
        return False
    narrowing = (_q_scopes(child) if isinstance(child, Q) else _scopes(*child) for child in q.children)
    return all(narrowing) if q.connector == Q.OR else any(narrowing)


class TenantQuerySet(models.QuerySet):
    """A queryset of tenant-owned rows that narrows itself by tenant or by agent, and runs only once it has."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenant_scoped = False

    def for_tenant(self, tenant: models.Model | int) -> TenantQuerySet:
        """Return the rows of one tenant (a row, or the id a tenant-owned row in hand carries)."""
        return self.filter(tenant=tenant)._scoped()

    def visible_to(self, agent: models.Model) -> TenantQuerySet:
        """Return the rows of every tenant the agent has completed training for."""
        return self.filter(tenant__in=trained_tenant_ids(agent))._scoped()

    def unscoped(self) -> TenantQuerySet:
        """Return these rows whatever their tenant: say why in a comment where you call it."""
        return self._chain()._scoped()

    def _scoped(self) -> TenantQuerySet:
        self._tenant_scoped = True
        return self

    def _check_scoped(self) -> None:
        if not self._tenant_scoped and not _lifted.get():
            raise UnscopedQueryError(self.model)

    # Keep the mark on every copy, and set it on a filter that narrows.

    def _clone(self) -> TenantQuerySet:
        clone = super()._clone()
        clone._tenant_scoped = self._tenant_scoped
        return clone

    def _filter_or_exclude(self, negate: bool, args: tuple, kwargs: dict) -> TenantQuerySet:
        clone = super()._filter_or_exclude(negate, args, kwargs)
        if not negate and not clone._tenant_scoped:
            narrows = any(_scopes(lookup, value) for lookup, value in kwargs.items())
            clone._tenant_scoped = narrows or any(isinstance(arg, Q) and _q_scopes(arg) for arg in args)
        return clone

    def __repr__(self) -> str:
        if not self._tenant_scoped and not _lifted.get() and self._result_cache is None:
            return f"<{type(self).__name__} of {self.model.__name__}, not scoped yet>"
        return super().__repr__()

    # Every way of running the query checks the mark first.

    def _fetch_all(self) -> None:
        if self._result_cache is None:
            self._check_scoped()
        super()._fetch_all()

    def _iterator(self, use_chunked_fetch: bool, chunk_size: int | None) -> Iterator:
        self._check_scoped()
        return super()._iterator(use_chunked_fetch, chunk_size)

    def aiterator(self, chunk_size: int = 2000):
        self._check_scoped()
        return super().aiterator(chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            self._check_scoped()
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            self._check_scoped()
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict:
        self._check_scoped()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        self._check_scoped()
        return super().update(**kwargs)

    def _update(self, values: Any) -> Any:
        self._check_scoped()
        return super()._update(values)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._check_scoped()
        return super().delete()

    def _raw_delete(self, using: str) -> int:
        self._check_scoped()
        return super()._raw_delete(using)

    def explain(self, *, format: str | None = None, **options: Any) -> str:
        self._check_scoped()
        return super().explain(format=format, **options)

    def bulk_update(self, objs: Iterable[models.Model], fields: Iterable[str], batch_size: int | None = None) -> int:
        """Update the given rows: they are in hand, so the update is narrowed to them."""
        return super(TenantQuerySet, self._chain()._scoped()).bulk_update(objs, fields, batch_size=batch_size)

    @classmethod
    def as_manager(cls) -> TenantManager:
        manager = TenantManager.from_queryset(cls)()
        manager._built_with_as_manager = True
        return manager

    as_manager.queryset_only = True


class TenantManager(models.Manager):
    """The default manager of tenant-owned rows: its querysets refuse to run until scoped.

    A related manager (``conversation.messages``, ``tenant.servicehours_set``) is a subclass Django
    makes of this one; its parent row narrows it, so its querysets start scoped.
    """

    def get_queryset(self) -> TenantQuerySet:
        queryset = super().get_queryset()
        if getattr(self, "instance", None) is not None or _asked_by_trusted_code():
            queryset._tenant_scoped = True
        return queryset


class TenantOwnedModel(models.Model):
    """A row that belongs to exactly one tenant."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, verbose_name=_("tenant"))

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True

    def validate_unique(self, exclude: Iterable[str] | None = None) -> None:
        # A unique value (a visitor's public id) is unique across every tenant's rows.
        with scoping_lifted():
            super().validate_unique(exclude=exclude)

    def validate_constraints(self, exclude: Iterable[str] | None = None) -> None:
        # The same for constraints: the database holds them across all rows.
        with scoping_lifted():
            super().validate_constraints(exclude=exclude)


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
