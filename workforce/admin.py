"""Operations admin for the people who answer: agents, their training and their shifts.

The tenant's page (``tenants.admin.TenantAdmin``) lists the agents trained for the tenant too: the
tenants app sits below the workforce and cannot name this inline, so this module registers the
tenant's page again with it (``TenantTrainingAdmin``). The same way, the change notices' page gets who of
the tenant's agents has read each notice (``ChangeNoticeReadersAdmin``).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsModelAdmin, OpsTabularInline
from moments.formatting import local_moment, show_moment
from tenants.admin import OVERDUE_STYLE, ChangeNoticeAdmin, ReportRecipientInline, TenantAdmin
from tenants.forms import clean_login_email
from tenants.models import ChangeNotice, Tenant
from workforce import selectors, services
from workforce.models import Agent, Qualification, Shift

User = get_user_model()


# --- Training ------------------------------------------------------------------------------------


class QualificationFormSet(BaseInlineFormSet):
    """Training rows, each saved through save_qualification so the tenant's checklist follows."""

    def save_new(self, form, commit: bool = True) -> Qualification:
        qualification = super().save_new(form, commit=False)
        return services.save_qualification(qualification=qualification) if commit else qualification

    def save_existing(self, form, obj, commit: bool = True) -> Qualification:
        qualification = super().save_existing(form, obj, commit=False)
        return services.save_qualification(qualification=qualification) if commit else qualification

    def delete_existing(self, obj: Qualification, commit: bool = True) -> None:
        if commit:
            services.withdraw_training(qualification=obj)


class QualificationInline(OpsTabularInline):
    """An agent's training per tenant; used on both the agent's and the tenant's page."""

    model = Qualification
    formset = QualificationFormSet
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Qualification]:
        return super().get_queryset(request).select_related("agent", "tenant")


class TenantQualificationInline(QualificationInline):
    verbose_name_plural = _("agents trained for this tenant")


admin.site.unregister(Tenant)


@admin.register(Tenant)
class TenantTrainingAdmin(TenantAdmin):
    """The tenant's page with the agents trained for it, right after its report recipients."""

    def section_inlines(self) -> list[type[InlineModelAdmin]]:
        inlines = super().section_inlines()
        after = inlines.index(ReportRecipientInline) + 1
        return [*inlines[:after], TenantQualificationInline, *inlines[after:]]

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if isinstance(formset, QualificationFormSet):
            formset.save()  # each row through save_qualification / withdraw_training
        else:
            super().save_formset(request, form, formset, change)


# --- Who has read a change notice ---------------------------------------------------------------


class AcknowledgementFilter(admin.SimpleListFilter):
    title = _("acknowledged")
    parameter_name = "read"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("waiting", _("Waiting for agents")), ("all", _("Read by every trained agent"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ChangeNotice]) -> QuerySet[ChangeNotice]:
        if self.value() == "waiting":
            return queryset.filter(pending_count__gt=0)
        if self.value() == "all":
            return queryset.filter(pending_count=0)
        return queryset


admin.site.unregister(ChangeNotice)


@admin.register(ChangeNotice)
class ChangeNoticeReadersAdmin(ChangeNoticeAdmin):
    """The change notices' page with how many of the tenant's trained agents have read each, and who."""

    list_display = (*ChangeNoticeAdmin.list_display, "acknowledged")
    list_filter = (*ChangeNoticeAdmin.list_filter, AcknowledgementFilter)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChangeNotice]:
        return selectors.with_acknowledgement_counts(super().get_queryset(request))

    def get_fields(self, request: HttpRequest, obj: ChangeNotice | None = None):
        fields = tuple(super().get_fields(request, obj))
        return (*fields, "readers") if obj is not None else fields

    def get_readonly_fields(self, request: HttpRequest, obj: ChangeNotice | None = None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "readers") if obj is not None else readonly

    @admin.display(description=_("acknowledged"), ordering="pending_count")
    def acknowledged(self, notice: ChangeNotice) -> str:
        text = ngettext("%(done)d of %(trained)d agent", "%(done)d of %(trained)d agents", notice.trained_count) % {
            "done": notice.acknowledged_count,
            "trained": notice.trained_count,
        }
        if notice.pending_count > 0:
            return format_html(
                '<span style="{}">{}</span> · {}',
                OVERDUE_STYLE,
                text,
                ngettext("%(count)d waiting", "%(count)d waiting", notice.pending_count)
                % {"count": notice.pending_count},
            )
        return text

    @admin.display(description=_("read by"))
    def readers(self, notice: ChangeNotice) -> str:
        readers = selectors.notice_readers(notice=notice)
        acknowledged = format_html_join(
            "",
            "<li>{} – {}</li>",
            ((ack.agent, show_moment(ack.acknowledged_at, notice.tenant.zone)) for ack in readers.acknowledged),
        )
        pending = format_html_join("", "<li>{}</li>", ((agent,) for agent in readers.pending))
        return format_html(
            '<p><strong>{}</strong> {}</p><ul style="margin-left: 0">{}</ul>'
            '<p><strong style="{}">{}</strong> {}</p><ul style="margin-left: 0">{}</ul>',
            gettext("Acknowledged by:"),
            len(readers.acknowledged),
            acknowledged or format_html("<li>{}</li>", gettext("nobody yet")),
            OVERDUE_STYLE if readers.pending else "",
            gettext("Not yet acknowledged by:"),
            len(readers.pending),
            pending or format_html("<li>{}</li>", gettext("every trained agent has read it")),
        )


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
        return clean_login_email(self.cleaned_data["email"])


@admin.register(Agent)
class AgentAdmin(OpsModelAdmin):
    form = AgentForm
    add_form = AgentAddForm
    list_display = ("display_name", "email", "presence", "max_concurrent_chats", "trained_for")
    list_filter = ("presence",)
    list_select_related = ("user",)
    search_fields = ("display_name", "user__email", "user__first_name", "user__last_name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return selectors.with_trained_tenants(super().get_queryset(request))

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
        return show_moment(shift.starts_at, style="weekday")

    @admin.display(description=_("ends"), ordering="ends_at")
    def ends(self, shift: Shift) -> str:
        same_day = local_moment(shift.ends_at).date() == local_moment(shift.starts_at).date()
        return show_moment(shift.ends_at, style="time" if same_day else "weekday")

    def save_model(self, request: HttpRequest, obj: Shift, form, change: bool) -> None:
        services.save_shift(shift=obj)
