"""Operations admin for the report e-mails: what was sent, a preview of any report, sending on purpose."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsModelAdmin
from moments.formatting import show_moment
from outbox import selectors as outbox_selectors
from outbox.admin import EmailStatusFilter, ReadOnlyRows, state_html
from outbox.models import OutgoingEmail
from reporting import emails, reports, selectors, services
from reporting.models import ReportDelivery
from tenants import selectors as tenant_selectors
from tenants.models import Tenant


class ReportChoiceForm(forms.Form):
    """Which report: a tenant, weekly or monthly, and any day of the period."""

    tenant = forms.ModelChoiceField(label=_("Tenant"), queryset=tenant_selectors.tenants_by_name())
    kind = forms.ChoiceField(label=_("Report"), choices=ReportDelivery.Kind.choices)
    day = forms.DateField(
        label=_("Any day of the week or month"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The report covers the whole week (Monday to Sunday) or calendar month of this day."),
    )

    def period(self):
        data = self.cleaned_data
        return reports.report_period(tenant=data["tenant"], kind=data["kind"], day=data["day"])


def _server_time(moment: dt.datetime) -> str:
    return show_moment(moment)


def period_text(first_day: dt.date, last_day: dt.date) -> str:
    return f"{date_format(first_day, 'SHORT_DATE_FORMAT')} – {date_format(last_day, 'SHORT_DATE_FORMAT')}"


def _choice_query(delivery: ReportDelivery) -> str:
    return urlencode({"tenant": delivery.tenant_id, "kind": delivery.kind, "day": delivery.first_day.isoformat()})


def delivery_state(delivery: ReportDelivery | None) -> str:
    """Return the report's state as the admin shows it: its e-mail's, or why it has none yet."""
    if delivery is None:
        return gettext("Not sent yet")
    if delivery.last_error and delivery.outgoing_id is None:
        missing = gettext("Failed: could not compose the report: %(error)s") % {"error": delivery.last_error}
    else:
        missing = gettext("Waiting to be composed")
    return state_html(delivery.outgoing, missing=missing)


def may_send(delivery: ReportDelivery | None) -> bool:
    """Say whether "send" (not "resend on purpose") may send the report: never sent, or its e-mail failed."""
    return delivery is None or delivery.outgoing is None or delivery.outgoing.status == OutgoingEmail.Status.FAILED


class ReportEmailFilter(EmailStatusFilter):
    none_label = _("Not composed yet")


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ReadOnlyRows, OpsModelAdmin):
    """The records are written by the schedule and by sending; they are the proof of what went out."""

    list_display = ("tenant", "kind", "period", "status_label", "attempts", "sent", "sent_by", "preview")
    list_filter = (ReportEmailFilter, "kind", "tenant")
    list_select_related = ("tenant", "outgoing__requested_by")
    date_hierarchy = "first_day"
    search_fields = ("tenant__name", "outgoing__recipients", "last_error")
    fields = (
        "tenant",
        "kind",
        "first_day",
        "last_day",
        "status_label",
        "attempts",
        "recipients",
        "sent",
        "sent_by",
        "created_at",
        "history",
    )
    readonly_fields = fields
    actions = ("send_selected", "resend_selected")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportDelivery]:
        return selectors.with_times_sent(super().get_queryset(request))

    # --- columns ---

    @admin.display(description=_("period"), ordering="first_day")
    def period(self, delivery: ReportDelivery) -> str:
        return period_text(delivery.first_day, delivery.last_day)

    @admin.display(description=_("status"), ordering="outgoing__status")
    def status_label(self, delivery: ReportDelivery) -> str:
        return delivery_state(delivery)

    @admin.display(description=_("attempts"))
    def attempts(self, delivery: ReportDelivery) -> int:
        return delivery.outgoing.attempts if delivery.outgoing else 0

    @admin.display(description=_("sent to"))
    def recipients(self, delivery: ReportDelivery) -> str:
        return ", ".join(delivery.outgoing.recipient_list()) if delivery.outgoing else "–"

    @admin.display(description=_("sent"), ordering="last_sent_at")
    def sent(self, delivery: ReportDelivery) -> str:
        if delivery.last_sent_at is None:
            return "–"
        when = _server_time(delivery.last_sent_at)
        if delivery.times_sent > 1:
            return gettext("%(when)s (%(times)d times)") % {"when": when, "times": delivery.times_sent}
        return when

    @admin.display(description=_("sent by"))
    def sent_by(self, delivery: ReportDelivery) -> str:
        user = delivery.outgoing.requested_by if delivery.outgoing else None
        return str(user) if user else gettext("the schedule")

    @admin.display(description=_("e-mails sent"))
    def history(self, delivery: ReportDelivery) -> str:
        emails = outbox_selectors.emails_about(delivery.email_reference)
        return (
            format_html_join(
                "",
                "<p>{} · {}<br><small>{}</small></p>",
                ((_server_time(email.created_at), state_html(email, missing=""), email.message_id) for email in emails),
            )
            or "–"
        )

    @admin.display(description=_("preview"))
    def preview(self, delivery: ReportDelivery) -> str:
        url = reverse("admin:reporting_reportdelivery_preview") + "?" + _choice_query(delivery)
        return format_html('<a href="{}">{}</a>', url, gettext("Preview"))

    # --- pages of our own ---

    def get_urls(self):
        info = (self.opts.app_label, self.opts.model_name)
        own = [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="{}_{}_preview".format(*info)),
            path(
                "preview/attachment/<int:index>/",
                self.admin_site.admin_view(self.attachment_view),
                name="{}_{}_attachment".format(*info),
            ),
            path("send/", self.admin_site.admin_view(self.send_view), name="{}_{}_send".format(*info)),
        ]
        return own + super().get_urls()

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _choice(self, request: HttpRequest) -> ReportChoiceForm:
        data = request.POST if request.method == "POST" else request.GET
        if "tenant" in data:
            return ReportChoiceForm(data)
        last_week = timezone.localdate() - dt.timedelta(days=7)
        return ReportChoiceForm(initial={"kind": ReportDelivery.Kind.WEEKLY, "day": last_week})

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        """Show any tenant's report for any period as the recipients would get it, without sending it."""
        self._check(request)
        form = self._choice(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "form": form,
            "title": _("Report preview"),
        }
        if form.is_bound and form.is_valid():
            tenant, kind, period = form.cleaned_data["tenant"], form.cleaned_data["kind"], form.period()
            report = reports.build_report(tenant=tenant, kind=kind, period=period)
            delivery = selectors.delivery_for(tenant=tenant, kind=kind, first_day=period.first_day)
            context.update(
                report=report,
                html=emails.render_html(report, image_source=emails.data_uri),
                text=emails.render_text(report),
                recipients=selectors.recipients_for(tenant=tenant, kind=kind),
                delivery=delivery,
                delivery_state=delivery_state(delivery),
                may_send=may_send(delivery),
                query=urlencode({"tenant": tenant.pk, "kind": kind, "day": period.first_day.isoformat()}),
                period_over=period.end <= timezone.now(),
            )
        return TemplateResponse(request, "admin/reporting/reportdelivery/preview.html", context)

    def attachment_view(self, request: HttpRequest, index: int) -> HttpResponse:
        """Download one of a previewed report's CSV files."""
        self._check(request)
        form = self._choice(request)
        if not (form.is_bound and form.is_valid()):
            return HttpResponseRedirect(reverse("admin:reporting_reportdelivery_preview"))
        report = reports.build_report(
            tenant=form.cleaned_data["tenant"], kind=form.cleaned_data["kind"], period=form.period()
        )
        if index >= len(report.attachments):
            return HttpResponseRedirect(
                reverse("admin:reporting_reportdelivery_preview") + "?" + request.GET.urlencode()
            )
        attachment = report.attachments[index]
        response = HttpResponse(attachment.content, content_type=f"{attachment.mimetype}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{attachment.filename}"'
        return response

    def send_view(self, request: HttpRequest) -> HttpResponse:
        """Ask to confirm, then send (or with resend=1, send again) one report now."""
        self._check(request)
        form = self._choice(request)
        if not (form.is_bound and form.is_valid()):
            self.message_user(request, gettext("Choose a tenant, a report and a day first."), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:reporting_reportdelivery_preview"))
        tenant, kind, period = form.cleaned_data["tenant"], form.cleaned_data["kind"], form.period()
        data = request.POST if request.method == "POST" else request.GET
        resend = data.get("resend") == "1"
        if request.method == "POST" and request.POST.get("confirmed") == "yes":
            result = services.send_on_purpose(tenant=tenant, kind=kind, period=period, by=request.user, resend=resend)
            self._tell(request, tenant=tenant, kind=kind, period=period, result=result)
            return HttpResponseRedirect(reverse("admin:reporting_reportdelivery_changelist"))
        delivery = selectors.delivery_for(tenant=tenant, kind=kind, first_day=period.first_day)
        items = [self._confirmation_item(tenant=tenant, kind=kind, period=period, delivery=delivery)]
        return self._confirmation(request, items=items, resend=resend, hidden=form.cleaned_data)

    # --- list actions ---

    @admin.action(description=_("Send selected reports (those not sent yet)"))
    def send_selected(self, request: HttpRequest, queryset: QuerySet[ReportDelivery]):
        return self._send_selected(request, queryset, resend=False)

    @admin.action(description=_("Resend selected reports on purpose"))
    def resend_selected(self, request: HttpRequest, queryset: QuerySet[ReportDelivery]):
        return self._send_selected(request, queryset, resend=True)

    def _send_selected(self, request: HttpRequest, queryset: QuerySet[ReportDelivery], *, resend: bool):
        deliveries = list(queryset.select_related("tenant").order_by("tenant__name", "first_day"))
        if request.POST.get("confirmed") != "yes":
            items = [
                self._confirmation_item(
                    tenant=delivery.tenant,
                    kind=delivery.kind,
                    period=reports.report_period(tenant=delivery.tenant, kind=delivery.kind, day=delivery.first_day),
                    delivery=delivery,
                )
                for delivery in deliveries
            ]
            return self._confirmation(request, items=items, resend=resend, action=request.POST.get("action"))
        for delivery in deliveries:
            period = reports.report_period(tenant=delivery.tenant, kind=delivery.kind, day=delivery.first_day)
            result = services.send_on_purpose(
                tenant=delivery.tenant, kind=delivery.kind, period=period, by=request.user, resend=resend
            )
            self._tell(request, tenant=delivery.tenant, kind=delivery.kind, period=period, result=result)
        return None

    # --- shared by the confirmation and the outcome ---

    def _confirmation_item(self, *, tenant: Tenant, kind: str, period, delivery: ReportDelivery | None) -> dict:
        return {
            "tenant": tenant,
            "kind": ReportDelivery.Kind(kind).label,
            "period": period_text(period.first_day, period.last_day),
            "recipients": selectors.recipients_for(tenant=tenant, kind=kind),
            "state": delivery_state(delivery),
        }

    def _confirmation(
        self, request: HttpRequest, *, items: list[dict], resend: bool, action: str | None = None, hidden=None
    ):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Resend reports on purpose?") if resend else _("Send reports?"),
            "items": items,
            "resend": resend,
            "action": action,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "hidden": {
                "tenant": hidden["tenant"].pk,
                "kind": hidden["kind"],
                "day": hidden["day"].isoformat(),
            }
            if hidden
            else None,
        }
        return TemplateResponse(request, "admin/reporting/reportdelivery/confirm_send.html", context)

    def _tell(self, request: HttpRequest, *, tenant: Tenant, kind: str, period, result: services.SendResult) -> None:
        what = gettext("%(report)s of %(tenant)s for %(period)s") % {
            "report": ReportDelivery.Kind(kind).label,
            "tenant": tenant.name,
            "period": period_text(period.first_day, period.last_day),
        }
        if result.sent:
            recipients = ", ".join(result.email.recipient_list())
            self.message_user(
                request,
                gettext("%(what)s: sent to %(recipients)s.") % {"what": what, "recipients": recipients},
                messages.SUCCESS,
            )
        elif result.email is not None and result.email.status == OutgoingEmail.Status.FAILED:
            self.message_user(
                request,
                gettext("%(what)s: not sent, %(error)s") % {"what": what, "error": result.error},
                messages.ERROR,
            )
        else:
            self.message_user(
                request, gettext("%(what)s: not sent. %(why)s") % {"what": what, "why": result.error}, messages.WARNING
            )
