"""Writes about the people who answer: accounts, training, shifts, presence."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, override

from chatops import roles
from chatops.models import Agent, Qualification, Shift
from conversations import routing
from outbox import services as outbox
from tenants import onboarding
from tenants.models import Tenant

ERROR_EMAIL_TAKEN = gettext_lazy("A user with the e-mail %(email)s already exists.")
ERROR_USERNAME_TAKEN = gettext_lazy("A user named %(username)s already exists.")
INVITATION_KIND = gettext_noop("invitation")


def password_setup_link(user: AbstractBaseUser) -> str:
    """Return a one-time link where the user chooses their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def create_login(
    *,
    email: str,
    full_name: str,
    role: str,
    username: str = "",
    password_hash: str = "",
    language: str = "en",
) -> AbstractBaseUser:
    """Create a login with the role; the username is the e-mail address unless one is given.

    Without ``password_hash`` the person is e-mailed a link to choose their password, after commit
    (a rolled-back creation sends nothing). With one (already hashed by
    ``django.contrib.auth.hashers.make_password``, e.g. a published demo login) nothing is sent.
    """
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    username = username or email
    if user_model.objects.filter(email__iexact=email).exists() or user_model.objects.filter(username=email).exists():
        raise ValidationError({"email": ERROR_EMAIL_TAKEN % {"email": email}})
    if user_model.objects.filter(username=username).exists():
        raise ValidationError({"username": ERROR_USERNAME_TAKEN % {"username": username}})
    first_name, _sep, last_name = full_name.strip().partition(" ")
    user = user_model(username=username, email=email, first_name=first_name[:150], last_name=last_name[:150])
    if password_hash:
        user.password = password_hash
    else:
        user.set_unusable_password()
    user.save()
    roles.grant_role(user, role)
    if not password_hash:
        send_invitation(user=user, language=language)
    return user


def send_invitation(*, user: AbstractBaseUser, language: str = "en") -> None:
    """Queue the e-mail with the link to choose a password, in the user's language, in the outbox.

    Its text is kept out of the admin: the link lets whoever holds it set the password.
    """
    with override(language):
        context = {"user": user, "link": password_setup_link(user), "site_url": settings.SITE_URL}
        message = EmailMessage(
            subject=_("Your chatops account"),
            body=render_to_string("chatops/email/invitation.txt", context),
            to=[user.email],
        )
    outbox.queue_email(message=message, kind=INVITATION_KIND, reference=f"user:{user.pk}", text_hidden=True)


@transaction.atomic
def create_agent(
    *,
    email: str,
    display_name: str,
    full_name: str = "",
    languages: list[str] | None = None,
    max_concurrent_chats: int = 3,
    username: str = "",
    password_hash: str = "",
) -> Agent:
    """Create an agent with a login of their own (see ``create_login``: invited unless a password is given)."""
    user = create_login(
        email=email,
        full_name=full_name or display_name,
        role=roles.AGENT,
        username=username,
        password_hash=password_hash,
    )
    agent = Agent(
        user=user, display_name=display_name, languages=languages or [], max_concurrent_chats=max_concurrent_chats
    )
    agent.full_clean()
    agent.save()
    return agent


def route_waiting_chats_to(agent: Agent) -> None:
    """After commit, offer the agent the oldest waiting chats they may now take (the clock would, seconds later).

    For the changes that can make an agent eligible or free a slot without their console doing
    anything: training completed, a shift that covers now, a higher limit of chats at once.
    """
    transaction.on_commit(lambda: routing.drain_queue_for(agent=agent), robust=True)


@transaction.atomic
def save_qualification(*, qualification: Qualification, now: dt.datetime | None = None) -> Qualification:
    """Save an agent's training for a tenant and update the tenant's "agents trained" step as of ``now``.

    Training completed by today lets the agent take the tenant's waiting chats at once (after commit).
    """
    qualification.full_clean()
    moved_from = (
        Qualification.objects.filter(pk=qualification.pk).exclude(tenant_id=qualification.tenant_id).first()
        if qualification.pk
        else None
    )
    qualification.save()
    onboarding.refresh_checklist(qualification.tenant, now)
    if moved_from is not None:
        # The training moved to another tenant; the one it left may lose its "agents trained" step.
        onboarding.refresh_checklist(moved_from.tenant, now)
    completed = qualification.training_completed_on
    if completed is not None and completed <= timezone.localdate():
        route_waiting_chats_to(qualification.agent)
    return qualification


@transaction.atomic
def delete_qualification(*, qualification: Qualification, now: dt.datetime | None = None) -> None:
    """Delete an agent's training for a tenant; the tenant's "agents trained" step may reopen."""
    tenant = qualification.tenant
    qualification.delete()
    onboarding.refresh_checklist(tenant, now)


@transaction.atomic
def save_agent(*, agent: Agent) -> Agent:
    """Save an agent's profile; a higher limit of chats at once gives them waiting chats at once (after commit)."""
    agent.full_clean()
    previous = Agent.objects.select_for_update().filter(pk=agent.pk).values_list("max_concurrent_chats", flat=True)
    raised = agent.max_concurrent_chats > next(iter(previous), agent.max_concurrent_chats)
    agent.save()
    if raised:
        route_waiting_chats_to(agent)
    return agent


def start_training(
    *, agent: Agent, tenant: Tenant, on: dt.date | None = None, now: dt.datetime | None = None
) -> Qualification:
    """Record that the agent has started training for the tenant (on ``on``, default today)."""
    on = on or timezone.localdate(now)
    qualification = Qualification.objects.filter(agent=agent, tenant=tenant).first() or Qualification(
        agent=agent, tenant=tenant
    )
    qualification.training_started_on = on
    return save_qualification(qualification=qualification, now=now)


def complete_training(
    *, agent: Agent, tenant: Tenant, on: dt.date | None = None, now: dt.datetime | None = None
) -> Qualification:
    """Record that the agent has completed training for the tenant (on ``on``, default today)."""
    on = on or timezone.localdate(now)
    qualification = Qualification.objects.filter(agent=agent, tenant=tenant).first() or Qualification(
        agent=agent, tenant=tenant, training_started_on=on
    )
    qualification.training_completed_on = on
    return save_qualification(qualification=qualification, now=now)


@transaction.atomic
def plan_shift(*, agent: Agent, starts_at: dt.datetime, ends_at: dt.datetime, note: str = "") -> Shift:
    """Plan a shift, refusing one that overlaps the agent's others.

    The agent's row is locked first, so two managers planning at once cannot both slip an
    overlapping shift past the check.
    """
    Agent.objects.select_for_update().get(pk=agent.pk)
    shift = Shift(agent=agent, starts_at=starts_at, ends_at=ends_at, note=note)
    shift.full_clean()
    shift.save()
    _route_if_on_shift_now(shift)
    return shift


@transaction.atomic
def save_shift(*, shift: Shift) -> Shift:
    """Save an edited shift under the same lock and checks as plan_shift."""
    Agent.objects.select_for_update().get(pk=shift.agent_id)
    shift.full_clean()
    shift.save()
    _route_if_on_shift_now(shift)
    return shift


def _route_if_on_shift_now(shift: Shift) -> None:
    # A shift that starts later is the clock's to notice; one covering now puts the agent on duty at once.
    if shift.starts_at <= timezone.now() < shift.ends_at:
        route_waiting_chats_to(shift.agent)


def set_presence(*, agent: Agent, presence: str, now: dt.datetime | None = None) -> Agent:
    """Set the agent online, away or offline."""
    if presence not in Agent.Presence.values:
        raise ValidationError(_("Unknown presence “%(value)s”.") % {"value": presence}, code="bad_presence")
    now = now or timezone.now()
    if agent.presence != presence:
        agent.presence, agent.presence_changed_at, agent.last_seen_at = presence, now, now
        agent.save(update_fields=["presence", "presence_changed_at", "last_seen_at"])
    return agent


def touch_agent(*, agent: Agent, now: dt.datetime | None = None) -> None:
    """Record that a console of the agent's is alive right now (it connected or pinged)."""
    now = now or timezone.now()
    Agent.objects.filter(pk=agent.pk).update(last_seen_at=now)
    agent.last_seen_at = now
