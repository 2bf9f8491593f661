"""Fixtures of the live-chat tests."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conversations.sockets import ORIGIN


@pytest.fixture
def shop(db):
    """Return a tenant whose widget runs on pages of ORIGIN."""
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)
