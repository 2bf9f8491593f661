"""Operations admin for the people who answer: logins, agents, their training and their shifts."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Prefetch, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditEntryAdmin
from audit.models import AuditEntry
from chatops import roles, services
from chatops.admin_site import OpsModelAdmin, OpsPermissionsMixin, OpsTabularInline
from chatops.models import Agent, Qualification, Shift
from outbox.admin import OutgoingEmailAdmin, ReadOnlyRows
from outbox.models import OutgoingEmail
from tenants import onboarding
from tenants.forms import validate_email_free
from tenants.models import Tenant

User = get_user_model()


# --- Logins and roles ----------------------------------------------------------------------------

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


# --- Training ------------------------------------------------------------------------------------


class QualificationFormSet(BaseInlineFormSet):
    """Training rows, each saved through save_qualification so the tenant's checklist follows."""

    def save_new(self, form, commit: bool = True) -> Qualification:
        qualification = super().save_new(form, commit=False)
        return services.save_qualification(qualification=qualification) if commit else qualification

    def save_existing(self, form, obj, commit: bool = True) -> Qualification:
        qualification = super().save_existing(form, obj, commit=False)
        if not commit:
            return qualification
        services.save_qualification(qualification=qualification)
        if "tenant" in form.changed_data:
            # The training moved to another tenant; the one it left may lose its "agents trained" step.
            previous = Tenant.objects.filter(pk=form.initial.get("tenant")).first()
            if previous is not None:
                onboarding.refresh_checklist(previous)
        return qualification

    def delete_existing(self, obj: Qualification, commit: bool = True) -> None:
        tenant = obj.tenant
        super().delete_existing(obj, commit=commit)
        if commit:
            onboarding.refresh_checklist(tenant)


class QualificationInline(OpsTabularInline):
    """An agent's training per tenant; used on both the agent's and the tenant's page."""

    model = Qualification
    formset = QualificationFormSet
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Qualification]:
        return super().get_queryset(request).select_related("agent", "tenant")


# --- Agents --------------------------------------------------------------------------------------


def _language_choices() -> list[tuple[str, str]]:
    return list(settings.LANGUAGES)


class AgentForm(forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=_language_choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Agent
        fields = ("display_name", "languages", "max_concurrent_chats")


class AgentAddForm(AgentForm):
    """A new agent with a login of their own; they get an e-mail to choose their password."""

    email = forms.EmailField(label=_("E-mail"), help_text=_("The agent signs in with it; the invitation goes there."))
    full_name = forms.CharField(
        label=_("Full name"), max_length=300, required=False, help_text=_("Leave empty to use the display name.")
    )

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        validate_email_free(email)
        return email


@admin.register(Agent)
class AgentAdmin(OpsModelAdmin):
    form = AgentForm
    add_form = AgentAddForm
    list_display = ("display_name", "email", "presence", "max_concurrent_chats", "trained_for")
    list_filter = ("presence",)
    list_select_related = ("user",)
    search_fields = ("display_name", "user__email", "user__first_name", "user__last_name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        completed = Qualification.objects.completed().select_related("tenant").order_by("tenant__name")
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("qualifications", queryset=completed, to_attr="completed_qualifications"))
        )

    def get_fields(self, request: HttpRequest, obj: Agent | None = None):
        if obj is None:
            return ("email", "display_name", "full_name", "languages", "max_concurrent_chats")
        return ("login", "display_name", "languages", "max_concurrent_chats", "presence", "presence_changed_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Agent | None = None):
        # Presence is the agent's own switch in the console.
        return () if obj is None else ("login", "presence", "presence_changed_at")

    def get_inlines(self, request: HttpRequest, obj: Agent | None):
        # Training rows need the agent to exist; "Save and continue editing" leads to them.
        return [] if obj is None else [QualificationInline]

    def get_form(self, request: HttpRequest, obj: Agent | None = None, change: bool = False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, agent: Agent) -> str:
        return agent.user.email

    @admin.display(description=_("trained for"))
    def trained_for(self, agent: Agent) -> str:
        return ", ".join(str(qualification.tenant) for qualification in agent.completed_qualifications) or "–"

    @admin.display(description=_("login"))
    def login(self, agent: Agent) -> str:
        url = reverse("admin:auth_user_change", args=[agent.user_id])
        return format_html('<a href="{}">{}</a> ({})', url, agent.user.get_username(), agent.user.email)

    def save_model(self, request: HttpRequest, obj: Agent, form, change: bool) -> None:
        if change:
            services.save_agent(agent=obj)
            return
        data = form.cleaned_data
        agent = services.create_agent(
            email=data["email"],
            display_name=data["display_name"],
            full_name=data["full_name"],
            languages=data["languages"],
            max_concurrent_chats=data["max_concurrent_chats"],
        )
        # The admin goes on with the instance it built (log entry, message, redirect): give it the new row.
        obj.pk, obj.user, obj.presence_changed_at = agent.pk, agent.user, agent.presence_changed_at
        obj._state.adding, obj._state.db = False, agent._state.db


# --- Shifts --------------------------------------------------------------------------------------


@admin.register(Shift)
class ShiftAdmin(OpsModelAdmin):
    list_display = ("agent", "starts", "ends", "note")
    list_filter = ("agent",)
    list_select_related = ("agent",)
    date_hierarchy = "starts_at"
    # The latest first: the plan ahead is what a manager comes for, and past shifts pile up below it.
    ordering = ("-starts_at", "agent")
    search_fields = ("agent__display_name", "note")
    # The overlap check runs in the form: Django's ModelForm sets the agent and times on the instance
    # and then calls Shift.clean(), so a clash shows on the form; save_shift re-checks under a lock.

    @admin.display(description=_("starts"), ordering="starts_at")
    def starts(self, shift: Shift) -> str:
        return date_format(timezone.localtime(shift.starts_at), "D Y-m-d H:i T")

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends(self, shift: Shift) -> str:
        starts, ends = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
        return date_format(ends, "H:i T" if ends.date() == starts.date() else "D Y-m-d H:i T")

    def save_model(self, request: HttpRequest, obj: Shift, form, change: bool) -> None:
        services.save_shift(shift=obj)


# --- E-mail ----------------------------------------------------------------------------------------


@admin.register(OutgoingEmail)
class OpsOutgoingEmailAdmin(ReadOnlyRows, OpsPermissionsMixin, OutgoingEmailAdmin):
    """Every e-mail chatops sends, for operations managers (the outbox app leaves the role check to us)."""


@admin.register(AuditEntry)
class OpsAuditEntryAdmin(ReadOnlyRows, OpsPermissionsMixin, AuditEntryAdmin):
    """The audit log: operations managers read it; nobody adds, changes or deletes a line."""

    # Reading the log is not itself logged: the log would only grow by being read.
    audited = False
