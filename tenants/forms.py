"""Forms of the operations admin for tenants: the tenant itself, its checklist and client logins."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from tenants import onboarding, retention
from tenants.models import ClientUser, OnboardingItem, Tenant

ERROR_GO_LIVE_THROUGH_ACTION = _("Use “Mark live” to put a tenant live: it checks the onboarding steps first.")
ERROR_EMAIL_TAKEN = _("A user with the e-mail %(email)s already exists.")


def clean_login_email(email: str) -> str:
    """Return an e-mail address for a new login, normalised and lower-cased; refuse one already taken."""
    email = get_user_model().objects.normalize_email(email).lower()
    validate_email_free(email)
    return email


def validate_email_free(email: str) -> None:
    """Refuse an e-mail address that already belongs to a login (as e-mail or as username)."""
    users = get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
    if users.exists():
        raise ValidationError(ERROR_EMAIL_TAKEN, params={"email": email}, code="email_taken")


class TenantForm(forms.ModelForm):
    """The tenant as an operations manager edits it: goals as checkboxes, going live only by the action."""

    goals = forms.MultipleChoiceField(
        label=_("Goals of the chat"),
        choices=Tenant.Goal.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Tenant
        fields = [
            "name", "slug", "status", "contract_signed_on", "go_live_target", "time_zone", "language",
            "tone", "style_notes", "goals", "first_response_target_seconds", "first_response_goal_percent",
            "resolution_target_percent",
            "abandoned_after_minutes", "allowed_origins", "widget_colour", "greeting", "retention_days",
            "encrypt_messages", "mask_ibans", "mask_personal_ids",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "retention_days" in self.fields:
            self.fields["retention_days"].help_text = retention.retention_help_text(self.instance)

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        # The instance still holds the stored status here; the form's values are applied after cleaning.
        if status == Tenant.Status.LIVE and self.instance.status != Tenant.Status.LIVE:
            raise ValidationError(ERROR_GO_LIVE_THROUGH_ACTION, code="go_live_through_action")
        return status


class ChecklistItemForm(forms.ModelForm):
    """One onboarding step as a row with a "done" box; the box is locked on steps that complete themselves."""

    ticked = forms.BooleanField(label=_("Done"), required=False)

    class Meta:
        model = OnboardingItem
        fields = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        item = self.instance
        self.fields["ticked"].initial = item.is_done
        known = item.pk is not None and item.key in onboarding.STEPS_BY_KEY
        if not known or item.automatic:
            self.fields["ticked"].disabled = True


class ChecklistFormSet(BaseInlineFormSet):
    """The tenant's checklist; its only input is ticking or reopening manual steps."""

    def save(self, commit: bool = True):
        raise TypeError("Save the checklist with save_ticks(by=…): ticking records who did the step.")

    def save_ticks(self, *, by: AbstractBaseUser) -> list[OnboardingItem]:
        """Tick or reopen every manual step whose box changed; return the steps changed."""
        # The admin's change message reads these three lists, which save() would have filled.
        self.new_objects, self.deleted_objects, self.changed_objects = [], [], []
        for form in self.initial_forms:
            if "ticked" not in form.changed_data:
                continue
            item = form.instance
            if form.cleaned_data["ticked"]:
                onboarding.tick_step(item=item, by=by)
            else:
                onboarding.untick_step(item=item)
            self.changed_objects.append((item, ["ticked"]))
        return [item for item, _fields in self.changed_objects]


class ClientUserAddForm(forms.ModelForm):
    """A new login at the client: the person gets an e-mail to choose their password."""

    email = forms.EmailField(label=_("E-mail"))
    full_name = forms.CharField(label=_("Full name"), max_length=300)

    class Meta:
        model = ClientUser
        fields = ("tenant",)

    def clean_email(self) -> str:
        return clean_login_email(self.cleaned_data["email"])
