"""Logins: a user with a role, invited by e-mail to choose their password (or given a published one)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, override

from accounts import roles

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
) -> AbstractBaseUser:
    """Create a login with the role; the username is the e-mail address unless one is given.

    Without ``password_hash`` the login has no usable password: the caller queues the invitation
    (``outbox.services.queue_invitation``, in its transaction, so a rolled-back creation sends
    nothing). With one (already hashed by ``django.contrib.auth.hashers.make_password``, e.g. a
    published demo login) there is nothing to send.
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
    return user


def invitation_email(*, user: AbstractBaseUser, language: str = "en") -> EmailMessage:
    """Return the e-mail with the link to choose a password, in the user's language."""
    with override(language):
        context = {"user": user, "link": password_setup_link(user), "site_url": settings.SITE_URL}
        return EmailMessage(
            subject=_("Your chatops account"),
            body=render_to_string("accounts/email/invitation.txt", context),
            to=[user.email],
        )
