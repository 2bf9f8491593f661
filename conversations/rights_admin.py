"""The visitor's-rights page of the operations admin (/admin/privacy/visitor/): find a person, export or erase.

Operations managers only (the admin site's ``admin_view`` checks the role). Every search, export and
erasure is written to the audit log: who, when, what they looked for and whom it touched.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit
from accounts.models import AuditEntry
from conversations import rights
from conversations.models import Visitor
from tenants import selectors as tenant_selectors


class VisitorSearchForm(forms.Form):
    """Whom to look for: at least one of e-mail, phone or visitor id; optionally one tenant only."""

    email = forms.EmailField(label=gettext_lazy("e-mail"), required=False)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=40, required=False)
    visitor_id = forms.CharField(label=gettext_lazy("visitor id"), max_length=64, required=False)
    tenant = forms.ModelChoiceField(
        label=gettext_lazy("tenant"), queryset=tenant_selectors.tenants_by_name(), required=False
    )

    def clean(self) -> dict:
        data = super().clean()
        if not any(data.get(name) for name in ("email", "phone", "visitor_id")):
            raise forms.ValidationError(_("Give an e-mail address, a phone number or a visitor id."))
        return data

    def search(self) -> rights.Search:
        data = self.cleaned_data
        return rights.Search(email=data["email"], phone=data["phone"], visitor_id=data["visitor_id"])


def _log(request: HttpRequest, action: str, *, visitors: list[Visitor], details: str) -> None:
    tenants = {visitor.tenant for visitor in visitors}
    audit.record(
        user=request.user,
        action=action,
        tenant=next(iter(tenants)) if len(tenants) == 1 else None,
        object_type="conversations.visitor",
        object_id=",".join(str(visitor.pk) for visitor in visitors)[:64],
        details=details,
    )


def _export(request: HttpRequest, found: list[Visitor], search: rights.Search) -> HttpResponse:
    now = timezone.now()
    archive = rights.export_archive(visitors=found, now=now)
    _log(request, AuditEntry.Action.EXPORTED, visitors=found, details=search.describe())
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="visitor-data-{now:%Y%m%d-%H%M%S}.zip"'
    return response


def _erase(request: HttpRequest, found: list[Visitor], search: rights.Search) -> HttpResponse:
    if request.POST.get("confirm") != "erase":
        messages.error(request, _("Tick the box to confirm the erasure."))
        return HttpResponseRedirect(request.get_full_path())
    erased = rights.erase_visitors(visitors=found)
    _log(
        request,
        AuditEntry.Action.ERASED,
        visitors=found,
        details=f"{search.describe()}; {erased.conversations} conversations, {erased.messages} messages",
    )
    messages.success(
        request,
        _("Erased: %(visitors)d visitors, %(conversations)d conversations, %(messages)d messages.")
        % {"visitors": erased.visitors, "conversations": erased.conversations, "messages": erased.messages},
    )
    return HttpResponseRedirect(request.path)


def visitor_data_view(request: HttpRequest, *, admin_site) -> HttpResponse:
    """Find a visitor by e-mail, phone or id; export what is held about them, or erase it."""
    source = request.POST if request.method == "POST" else request.GET
    form = VisitorSearchForm(source or None)
    found: list[Visitor] = []
    if form.is_bound and form.is_valid():
        search = form.search()
        found = rights.find_visitors(search=search, tenant=form.cleaned_data["tenant"])
        if request.method == "POST" and found:
            if "export" in request.POST:
                return _export(request, found, search)
            if "erase" in request.POST:
                return _erase(request, found, search)
        _log(request, AuditEntry.Action.SEARCHED, visitors=found, details=search.describe())
    context = {
        **admin_site.each_context(request),
        "title": _("A visitor's data"),
        "form": form,
        "found": found,
        "searched": form.is_bound and form.is_valid(),
    }
    return TemplateResponse(request, "admin/conversations/visitor_data.html", context)
