"""The operations admin: a site only operations managers may enter, and base classes for its pages.

Access is by role, not by Django's per-model permissions: an operations manager may view, add,
change and delete every model registered here, so nobody has to keep permission rows in step
with the role groups. The role check lives once, in ``OpsPermissionsMixin``; every admin and
inline of ours derives from ``OpsModelAdmin``, ``OpsTabularInline`` or ``OpsStackedInline``.

It sits in the bottom layer (``accounts``) because every app's admin pages derive from these
classes; the project installs the site (``OpsAdminConfig`` in ``INSTALLED_APPS``) and mounts it at
/admin/. This module is imported while Django loads its apps, so it must not import models at
module level (``accounts.roles`` imports none).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.core import checks
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_operations_manager

_CACHE_ATTRIBUTE = "_chatops_operations_manager"


def is_operations_manager_request(request: HttpRequest) -> bool:
    """Say whether the request comes from an active staff user who is an operations manager.

    The answer is remembered on the request: the admin asks it dozens of times per page.
    """
    user = request.user
    cached = getattr(request, _CACHE_ATTRIBUTE, None)
    if cached is not None and cached[0] == user.pk:
        return cached[1]
    allowed = bool(user.is_active and user.is_staff and is_operations_manager(user))
    setattr(request, _CACHE_ATTRIBUTE, (user.pk, allowed))
    return allowed


class OpsPermissionsMixin:
    """Grant operations managers every action on the model; grant nobody else anything.

    Subclasses narrow this further (a read-only page returns False for add and change) by
    overriding a method and calling ``super()`` for the role check.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operations_manager_request(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_operations_manager_request(request)

    # ModelAdmin calls this with the request only, inlines with the parent object too.
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_operations_manager_request(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_operations_manager_request(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_operations_manager_request(request)


def agent_choice_label(agent) -> str:
    """Return how an agent is named in the admin's pickers: full name and username, not the first name alone.

    Visitors see an agent's display name ("Anna"); several agents may share it, so a manager choosing one
    needs the person's full name and login.
    """
    full_name = agent.user.get_full_name() or agent.display_name
    return f"{full_name} ({agent.user.get_username()})"


class AgentChoicesMixin:
    """Name agents by full name and username in every agent picker of the page (and its inlines)."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.related_model._meta.model_name == "agent":
            field.queryset = field.queryset.select_related("user")
            field.label_from_instance = agent_choice_label
        return field


def _is_tenant_data(model) -> bool:
    return model._meta.label_lower == "tenants.tenant" or any(
        field.name == "tenant" for field in model._meta.concrete_fields
    )


class AuditedMixin:
    """Log who opened, listed, changed or deleted a tenant's rows on this page (``accounts.audit``).

    ``audited = False`` on a page whose rows are no tenant's data.
    """

    audited = True

    def _audit(self, request: HttpRequest, action: str, obj=None, details: str = "") -> None:
        # Imported here: this module is loaded while Django loads its apps, before any model may be.
        from accounts import audit

        if not self.audited or not _is_tenant_data(self.model):
            return
        if obj is None:
            audit.record(user=request.user, action=action, object_type=self.model._meta.label_lower, details=details)
            return
        audit.record(user=request.user, action=action, target=obj, details=details)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and request.method == "GET":
            self._audit(request, "viewed", obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            self._audit(request, "viewed", details=request.GET.urlencode()[:500] or "list")
        return super().changelist_view(request, extra_context)

    def log_addition(self, request, obj, message):
        self._audit(request, "changed", obj, details="added")
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._audit(request, "changed", obj, details=message[:500] if isinstance(message, str) else "")
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._audit(request, "deleted", obj)
        return super().log_deletions(request, queryset)


class OpsModelAdmin(AuditedMixin, AgentChoicesMixin, OpsPermissionsMixin, admin.ModelAdmin):
    """A model page of the operations admin; its reads and changes of tenant data are in the audit log."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and isinstance(self.admin_site, OpsAdminSite):
            self.admin_site.show_notices(request, on=self.model._meta.label_lower)
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        # Forms validate what they can, but a service may still refuse at save time (a shift
        # planned by someone else a moment ago, an e-mail taken meanwhile). The transaction has
        # rolled back by the time the error gets here; show it instead of a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class OpsTabularInline(AgentChoicesMixin, OpsPermissionsMixin, admin.TabularInline):
    """A table of related rows on an operations admin page."""


class OpsStackedInline(AgentChoicesMixin, OpsPermissionsMixin, admin.StackedInline):
    """A stack of related forms on an operations admin page."""


class OpsAdminSite(admin.AdminSite):
    """The operations managers' admin at /admin/."""

    site_header = _("chatops operations")
    site_title = _("chatops operations")
    index_title = _("Operations")

    def has_permission(self, request: HttpRequest) -> bool:
        """Let in active staff users who are superusers or in the operations manager group."""
        return is_operations_manager_request(request)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[tuple[str, Callable[..., HttpResponse], str]] = []
        self._notices: list[tuple[str, Callable[[HttpRequest], str | None]]] = []

    def add_notice(self, notice: Callable[[HttpRequest], str | None], *, on: str = "index") -> None:
        """Show ``notice(request)``, when it has something to say, as a warning on a page of a layer above.

        ``on`` is "index" (the admin's front page) or a model's ``app_label.model`` (its change list).
        """
        self._notices.append((on, notice))

    def show_notices(self, request: HttpRequest, *, on: str) -> None:
        """Add the notices of the page ``on`` to the request's messages (shown on the page being rendered)."""
        for where, notice in self._notices:
            if where == on and (text := notice(request)):
                messages.warning(request, text)

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        self.show_notices(request, on="index")
        return super().index(request, extra_context)

    def add_page(self, route: str, view: Callable[..., HttpResponse], *, name: str) -> None:
        """Add a page of a layer above under the admin, for operations managers only (``admin:<name>``).

        ``view(request, admin_site=...)`` renders it with the site's context.
        """
        self._pages.append((route, view, name))

    def get_urls(self) -> list:
        """Return the pages added with ``add_page`` (through ``admin_view``), then the models' pages."""
        return [*(self._page_url(route, view, name) for route, view, name in self._pages), *super().get_urls()]

    def _page_url(self, route: str, view: Callable[..., HttpResponse], name: str):
        def page(request: HttpRequest) -> HttpResponse:
            return view(request, admin_site=self)

        return path(route, self.admin_view(page), name=name)

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Register models; without an admin class, use the role-based OpsModelAdmin."""
        super().register(model_or_iterable, admin_class or OpsModelAdmin, **options)

    def check(self, app_configs) -> list[checks.CheckMessage]:
        """Warn about admin pages that would check Django permissions instead of the role."""
        found = super().check(app_configs)
        for model, model_admin in self._registry.items():
            if app_configs is not None and model._meta.app_config not in app_configs:
                continue
            classes = [type(model_admin), *model_admin.inlines]
            for admin_class in classes:
                if not issubclass(admin_class, OpsPermissionsMixin):
                    found.append(
                        checks.Warning(
                            f"{admin_class.__module__}.{admin_class.__qualname__} does not derive from "
                            "accounts.admin_site.OpsPermissionsMixin.",
                            hint="Operations managers have no per-model permissions; derive from OpsModelAdmin, "
                            "OpsTabularInline or OpsStackedInline so they can use this page.",
                            obj=admin_class,
                            id="chatops.W001",
                        )
                    )
        return found


class OpsAdminConfig(AdminConfig):
    """Django's admin app, serving OpsAdminSite as the default site."""

    default_site = "accounts.admin_site.OpsAdminSite"
