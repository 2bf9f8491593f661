"""Operations admin for tenants: onboarding a client company in one sitting."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsModelAdmin, OpsStackedInline, OpsTabularInline
from moments.formatting import show_moment
from tenants import onboarding, proactive, selectors, services
from tenants.forms import ChecklistFormSet, ChecklistItemForm, ClientUserAddForm, TenantForm
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    ProactiveRule,
    ReportRecipient,
    ServiceException,
    ServiceHours,
    Tenant,
)

OVERDUE_STYLE = "color: var(--error-fg); font-weight: bold"


# --- Inlines on the tenant page ----------------------------------------------------------------


class ChecklistInline(OpsTabularInline):
    model = OnboardingItem
    form = ChecklistItemForm
    formset = ChecklistFormSet
    fields = ("step_label", "due", "ticked", "done_info")
    readonly_fields = ("step_label", "due", "done_info")
    extra = 0
    can_delete = False
    verbose_name = _("onboarding step")
    verbose_name_plural = _("onboarding checklist")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OnboardingItem]:
        return super().get_queryset(request).select_related("tenant", "done_by").order_by("position")

    # The steps come from the checklist template; nobody adds or removes them by hand.
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("step"))
    def step_label(self, item: OnboardingItem) -> str:
        if item.key not in onboarding.STEPS_BY_KEY:
            return item.key
        if not item.required:
            return format_html("{} <small>({})</small>", item.label, gettext("not needed to go live"))
        return item.label

    @admin.display(description=_("due"))
    def due(self, item: OnboardingItem) -> str:
        if not item.is_done and item.due_on < onboarding.tenant_today(item.tenant):
            return format_html(
                '<span style="{}">{} – {}</span>', OVERDUE_STYLE, date_format(item.due_on), gettext("overdue")
            )
        return date_format(item.due_on)

    @admin.display(description=_("done by"))
    def done_info(self, item: OnboardingItem) -> str:
        automatic = item.key in onboarding.STEPS_BY_KEY and item.automatic
        if item.is_done:
            when = show_moment(item.done_at, item.tenant.zone)
            if item.done_automatically:
                return gettext("%(when)s, completed itself") % {"when": when}
            who = item.done_by.get_username() if item.done_by else gettext("someone since removed")
            return gettext("%(when)s by %(who)s") % {"when": when, "who": who}
        return gettext("completes itself") if automatic else "–"


class ServiceHoursInline(OpsTabularInline):
    model = ServiceHours
    extra = 0


class ServiceExceptionInline(OpsTabularInline):
    model = ServiceException
    extra = 0


class ReportRecipientInline(OpsTabularInline):
    model = ReportRecipient
    extra = 0


class KnowledgeArticleInline(OpsStackedInline):
    model = KnowledgeArticle
    fields = ("title", "body", "keywords", "is_published")
    extra = 0
    classes = ["collapse"]


class CannedResponseInline(OpsTabularInline):
    model = CannedResponse
    extra = 0

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 60})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


# --- Invitation rules (proactive chat): inline on the tenant page and a page of their own ----------

INVITATION_HELP_TEXTS = {
    "seconds_on_page": _("How long the visitor has been on the page before the invitation shows; 0 shows it at once."),
    "returning_only": _("Only visitors who come back after a pause of 30 minutes or more."),
    "only_in_service_hours": _("Never invite outside the tenant's service hours."),
    "only_when_agent_free": _(
        "Only when an agent trained for this tenant is online, on shift and below their chat limit."
    ),
    "message": _("What the invitation says. It is also the first line of the chat the visitor starts with it."),
    "is_active": _("Untick to pause the rule without deleting it."),
}


class ProactiveRuleForm(forms.ModelForm):
    class Meta:
        model = ProactiveRule
        fields = [
            "name",
            "url_pattern",
            "seconds_on_page",
            "returning_only",
            "only_in_service_hours",
            "only_when_agent_free",
            "message",
            "is_active",
            "position",
        ]
        help_texts = INVITATION_HELP_TEXTS

    def clean_url_pattern(self) -> str:
        pattern = self.cleaned_data["url_pattern"].strip()
        proactive.validate_url_pattern(pattern)
        return pattern


class StartedCountMixin:
    @admin.display(description=_("chats started"), ordering="conversations_started")
    def started(self, rule: ProactiveRule) -> int:
        return getattr(rule, "conversations_started", 0)


class ProactiveRuleInline(StartedCountMixin, OpsTabularInline):
    model = ProactiveRule
    form = ProactiveRuleForm
    fields = (
        "position",
        "name",
        "url_pattern",
        "seconds_on_page",
        "returning_only",
        "only_in_service_hours",
        "only_when_agent_free",
        "message",
        "is_active",
        "started",
    )
    readonly_fields = ("started",)
    extra = 0
    verbose_name_plural = _("invitation rules (proactive chat)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProactiveRule]:
        return proactive.with_conversation_counts(super().get_queryset(request)).order_by("position", "pk")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("message", "url_pattern"):
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 32})
        elif db_field.name in ("position", "seconds_on_page"):
            kwargs["widget"] = forms.NumberInput(attrs={"style": "width: 5em"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


# --- The tenant --------------------------------------------------------------------------------

CONTRACT_FIELDS = ("name", "slug", "status", "contract_signed_on", "go_live_target", "time_zone", "language")
VOICE_FIELDS = ("tone", "style_notes", "goals")
TARGET_FIELDS = (
    "first_response_target_seconds",
    "first_response_goal_percent",
    "resolution_target_percent",
    "abandoned_after_minutes",
)
DATA_FIELDS = ("retention_days", "encrypt_messages", "mask_ibans", "mask_personal_ids")


@admin.register(Tenant)
class TenantAdmin(OpsModelAdmin):
    form = TenantForm
    list_display = ("name", "status", "language", "go_live_target", "checklist")
    list_filter = ("status", "language", "tone")
    search_fields = ("name", "slug", "allowed_origins")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("widget_key", "embed_snippet", "widget_first_seen_at", "went_live_at", "content")
    actions = ("rotate_widget_key", "mark_live")
    save_on_top = True

    def get_fieldsets(self, request: HttpRequest, obj: Tenant | None = None):
        widget = ("allowed_origins", "widget_colour", "greeting")
        if obj is not None:
            widget = ("widget_key", "embed_snippet", *widget, "widget_first_seen_at")
        fieldsets = [
            (_("Contract"), {"fields": CONTRACT_FIELDS}),
            (_("Chat voice"), {"fields": VOICE_FIELDS}),
            (_("Targets"), {"fields": TARGET_FIELDS}),
            (_("Widget"), {"fields": widget}),
            (_("Data"), {"fields": DATA_FIELDS}),
        ]
        if obj is not None:
            fieldsets[0] = (_("Contract"), {"fields": (*CONTRACT_FIELDS, "went_live_at")})
            fieldsets.append((_("Knowledge, answers and logins"), {"fields": ("content",)}))
        return fieldsets

    def section_inlines(self) -> list[type[InlineModelAdmin]]:
        """Return the tables and forms of the tenant's page, in order (the workforce adds its training rows)."""
        return [
            ServiceHoursInline,
            ServiceExceptionInline,
            ReportRecipientInline,
            KnowledgeArticleInline,
            CannedResponseInline,
            ProactiveRuleInline,
        ]

    def get_inlines(self, request: HttpRequest, obj: Tenant | None):
        inlines = self.section_inlines()
        # A new tenant's checklist is built after it is saved.
        return inlines if obj is None else [ChecklistInline, *inlines]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return selectors.with_checklist(super().get_queryset(request))

    @admin.display(description=_("onboarding checklist"))
    def checklist(self, tenant: Tenant) -> str:
        progress = selectors.checklist_progress(tenant=tenant)
        if not progress.total:
            return gettext("being prepared")
        if progress.overdue:
            return format_html('<span style="{}">{}</span>', OVERDUE_STYLE, str(progress))
        return str(progress)

    @admin.display(description=_("code for the client's pages"))
    def embed_snippet(self, tenant: Tenant) -> str:
        return format_html(
            '<textarea id="embed-snippet" class="vLargeTextField" rows="2" cols="80" readonly>{}</textarea>'
            '<p><button type="button" class="button" data-copy-from="embed-snippet" data-copied-text="{}">{}</button>'
            "</p>",
            selectors.widget_embed_snippet(tenant=tenant),
            gettext("Copied"),
            gettext("Copy"),
        )

    @admin.display(description=_("ready for the team"))
    def content(self, tenant: Tenant) -> str:
        counts = selectors.tenant_content(tenant=tenant)
        rows = [
            (KnowledgeArticle, gettext("knowledge-base articles"), counts.articles),
            (CannedResponse, gettext("canned responses"), counts.canned_responses),
            (ChangeNotice, gettext("change notices"), counts.change_notices),
            (ClientUser, gettext("client logins"), counts.client_users),
        ]
        links = [
            (
                reverse(f"admin:tenants_{model._meta.model_name}_changelist") + f"?tenant__id__exact={tenant.pk}",
                count,
                label,
                reverse(f"admin:tenants_{model._meta.model_name}_add") + f"?tenant={tenant.pk}",
                gettext("add"),
            )
            for model, label, count in rows
        ]
        return format_html(
            '<ul style="margin-left: 0">{}<li>{}</li></ul>',
            format_html_join("", '<li><a href="{}">{} {}</a> · <a href="{}">{}</a></li>', links),
            ngettext(
                "%(count)d agent trained (see below)", "%(count)d agents trained (see below)", counts.trained_agents
            )
            % {"count": counts.trained_agents},
        )

    # --- saving ---

    def save_model(self, request: HttpRequest, obj: Tenant, form, change: bool) -> None:
        services.save_tenant(tenant=obj)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if isinstance(formset, ChecklistFormSet):
            formset.save_ticks(by=request.user)
        else:
            # New hours, recipients or articles may complete (or reopen) automatic steps: the service sees to it.
            rows = formset.save(commit=False)
            services.save_tenant_content(saved=rows, deleted=formset.deleted_objects)
            formset.save_m2m()

    # --- rotating the key and going live: list actions and buttons on the tenant page ---

    def _rotate_widget_key(self, request: HttpRequest, tenant: Tenant) -> None:
        services.rotate_widget_key(tenant=tenant)
        self.message_user(
            request,
            gettext(
                "%(tenant)s has a new widget key. Pages with the old snippet no longer load the chat: "
                "send the client the new snippet."
            )
            % {"tenant": tenant.name},
            messages.WARNING,
        )

    def _mark_live(self, request: HttpRequest, tenant: Tenant) -> None:
        try:
            services.mark_tenant_live(tenant=tenant, by=request.user)
        except services.GoLiveRefused as refusal:
            self.message_user(request, " ".join(refusal.messages), messages.ERROR)
        else:
            self.message_user(request, gettext("%(tenant)s is live.") % {"tenant": tenant.name}, messages.SUCCESS)

    @admin.action(description=_("Rotate widget key"))
    def rotate_widget_key(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            self._rotate_widget_key(request, tenant)

    @admin.action(description=_("Mark live"))
    def mark_live(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            self._mark_live(request, tenant)

    def get_urls(self):
        info = (self.opts.app_label, self.opts.model_name)
        tools = [
            path(
                "<path:object_id>/rotate-widget-key/",
                self.admin_site.admin_view(self.rotate_widget_key_view),
                name="{}_{}_rotate_widget_key".format(*info),
            ),
            path(
                "<path:object_id>/mark-live/",
                self.admin_site.admin_view(self.mark_live_view),
                name="{}_{}_mark_live".format(*info),
            ),
            path(
                "<path:object_id>/widget-preview/",
                self.admin_site.admin_view(self.widget_preview_view),
                name="{}_{}_widget_preview".format(*info),
            ),
        ]
        return tools + super().get_urls()

    def _object_tool(self, request: HttpRequest, object_id: str, do) -> HttpResponse:
        tenant = self.get_object(request, unquote(object_id))
        if tenant is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, tenant):
            raise PermissionDenied
        # A GET (a bookmarked or pasted address) changes nothing; the buttons post.
        if request.method == "POST":
            do(request, tenant)
        return HttpResponseRedirect(reverse("admin:tenants_tenant_change", args=[tenant.pk]))

    def rotate_widget_key_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._object_tool(request, object_id, self._rotate_widget_key)

    def mark_live_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return self._object_tool(request, object_id, self._mark_live)

    def widget_preview_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show a bare page with the tenant's snippet, to try the widget (and hold the test chat) here."""
        tenant = self.get_object(request, unquote(object_id))
        if tenant is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        script = request.build_absolute_uri("/widget.js")
        return TemplateResponse(
            request, "admin/tenants/tenant/widget_preview.html", {"tenant": tenant, "script": script}
        )


# --- What the team answers from, and the client's logins ------------------------------------------


class TenantContentAdmin(OpsModelAdmin):
    """A page of rows that belong to one tenant; saving them may complete onboarding steps."""

    list_filter = ("tenant",)
    list_select_related = ("tenant",)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        # A row stays with the client it was written for.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "tenant") if obj is not None else readonly

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        services.save_tenant_content(saved=[obj])

    def delete_model(self, request: HttpRequest, obj) -> None:
        services.save_tenant_content(deleted=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.save_tenant_content(deleted=list(queryset.select_related("tenant")))


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(TenantContentAdmin):
    list_display = ("title", "tenant", "is_published", "updated_at")
    list_filter = ("tenant", "is_published")
    search_fields = ("title", "body", "keywords")


@admin.register(CannedResponse)
class CannedResponseAdmin(TenantContentAdmin):
    list_display = ("__str__", "tenant", "text")
    search_fields = ("shortcut", "text")


@admin.register(ChangeNotice)
class ChangeNoticeAdmin(TenantContentAdmin):
    """A tenant's change notices; who of its agents has read each is added by ``workforce.admin``."""

    list_display = ("title", "tenant", "created_at", "created_by")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "created_by")
    search_fields = ("title", "body")
    date_hierarchy = "created_at"

    def get_fields(self, request: HttpRequest, obj: ChangeNotice | None = None):
        if obj is None:
            return ("tenant", "title", "body")
        return ("tenant", "title", "body", "created_by", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ChangeNotice | None = None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "created_by", "created_at") if obj is not None else readonly

    def save_model(self, request: HttpRequest, obj: ChangeNotice, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ProactiveRule)
class ProactiveRuleAdmin(StartedCountMixin, OpsModelAdmin):
    form = ProactiveRuleForm
    list_display = (
        "name",
        "tenant",
        "url_pattern",
        "seconds_on_page",
        "conditions",
        "is_active",
        "position",
        "started",
    )
    list_display_links = ("name",)
    list_filter = ("tenant", "is_active", "returning_only", "only_in_service_hours", "only_when_agent_free")
    list_select_related = ("tenant",)
    search_fields = ("name", "url_pattern", "message")
    ordering = ("tenant__name", "position", "pk")
    fieldsets = (
        (None, {"fields": ("tenant", "name", "is_active", "position")}),
        (
            _("When the invitation shows"),
            {
                "fields": (
                    "url_pattern",
                    "seconds_on_page",
                    "returning_only",
                    "only_in_service_hours",
                    "only_when_agent_free",
                )
            },
        ),
        (_("Invitation"), {"fields": ("message",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: ProactiveRule | None = None):
        # A rule stays with the client it was written for.
        return ("tenant",) if obj is not None else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet[ProactiveRule]:
        return proactive.with_conversation_counts(super().get_queryset(request))

    @admin.display(description=_("conditions"))
    def conditions(self, rule: ProactiveRule) -> str:
        labels = [
            gettext("returning visitors only") if rule.returning_only else "",
            gettext("during service hours") if rule.only_in_service_hours else "",
            gettext("when an agent is free") if rule.only_when_agent_free else "",
        ]
        return " · ".join(label for label in labels if label) or gettext("always")


@admin.register(ClientUser)
class ClientUserAdmin(OpsModelAdmin):
    add_form = ClientUserAddForm
    list_display = ("__str__", "email", "tenant", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("user", "tenant")
    search_fields = ("user__email", "user__first_name", "user__last_name")
    readonly_fields = ("login", "email", "tenant", "created_at")

    def get_fields(self, request: HttpRequest, obj: ClientUser | None = None):
        if obj is None:
            return ("email", "full_name", "tenant")
        return ("login", "email", "tenant", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: ClientUser | None = None):
        return () if obj is None else self.readonly_fields

    def get_form(self, request: HttpRequest, obj: ClientUser | None = None, change: bool = False, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    @admin.display(description=_("e-mail"), ordering="user__email")
    def email(self, client_user: ClientUser) -> str:
        return client_user.user.email

    @admin.display(description=_("login"))
    def login(self, client_user: ClientUser) -> str:
        url = reverse("admin:auth_user_change", args=[client_user.user_id])
        return format_html('<a href="{}">{}</a>', url, client_user.user.get_username())

    def save_form(self, request: HttpRequest, form, change: bool) -> ClientUser:
        if change:
            return super().save_form(request, form, change)
        # The service creates the login and the row; the person gets an e-mail (after commit)
        # with a link to choose their password.
        return services.invite_client_user(
            tenant=form.cleaned_data["tenant"],
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
        )

    def save_model(self, request: HttpRequest, obj: ClientUser, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: ClientUser) -> None:
        services.remove_client_users(client_users=[obj])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ClientUser]) -> None:
        services.remove_client_users(client_users=list(queryset))

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)
