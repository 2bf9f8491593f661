"""Plain factory functions; related objects always stay in the same tenant."""

from __future__ import annotations

import datetime as dt
import itertools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from accounts import roles
from tenants.models import ClientUser, Tenant
from workforce.models import Agent, Qualification

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_tenant(**fields) -> Tenant:
    n = next(_counter)
    defaults = {
        "name": f"Client {n}",
        "slug": f"client-{n}",
        "time_zone": "Europe/Helsinki",
        "language": "en",
        "contract_signed_on": dt.date(2026, 11, 2),
        "allowed_origins": f"https://client{n}.example",
    }
    defaults.update(fields)
    tenant = Tenant(**defaults)
    tenant.full_clean()
    tenant.save()
    return tenant


def make_user(*, role: str | None = None, **fields) -> AbstractBaseUser:
    n = next(_counter)
    fields.setdefault("username", f"user{n}")
    fields.setdefault("email", f"user{n}@staff.example")
    user = get_user_model().objects.create_user(password=PASSWORD, **fields)
    if role:
        roles.grant_role(user, role)
    return user


def make_agent(*, trained_for: list[Tenant] = (), **fields) -> Agent:
    user = make_user(role=roles.AGENT)
    fields.setdefault("display_name", f"Agent {user.pk}")
    agent = Agent.objects.create(user=user, **fields)
    for tenant in trained_for:
        Qualification.objects.create(
            agent=agent,
            tenant=tenant,
            training_started_on=dt.date(2026, 11, 2),
            training_completed_on=dt.date(2026, 11, 4),
        )
    return agent


def make_client_user(*, tenant: Tenant) -> ClientUser:
    user = make_user(role=roles.CLIENT_USER)
    return ClientUser.objects.create(user=user, tenant=tenant)
