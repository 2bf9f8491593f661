"""Shared fixtures: tenants, the three roles, and a real SMTP server on loopback."""

from __future__ import annotations

import pytest

from chatops import roles
from tests import factories


@pytest.fixture
def tenant(db):
    return factories.make_tenant(name="Kahvila Oy", slug="kahvila", language="fi")


@pytest.fixture
def other_tenant(db):
    return factories.make_tenant(name="Siłownia Sp. z o.o.", slug="silownia", language="pl", time_zone="Europe/Warsaw")


@pytest.fixture
def ops_manager(db):
    return factories.make_user(role=roles.OPERATIONS_MANAGER, email="manager@staff.example")


@pytest.fixture
def agent(tenant):
    return factories.make_agent(trained_for=[tenant], display_name="Anna")


@pytest.fixture
def client_user(tenant):
    return factories.make_client_user(tenant=tenant)
