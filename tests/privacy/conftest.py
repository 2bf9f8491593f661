"""Keys and an encrypting tenant for the data-protection tests."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests import factories
from tests.conversations.sockets import ORIGIN


def new_key(key_id: str) -> str:
    """Return a fresh entry of CHATOPS_ENCRYPTION_KEYS."""
    return f"{key_id}:{Fernet.generate_key().decode()}"


@pytest.fixture
def keys(settings) -> dict[str, str]:
    """Configure two keys, k2 (newest, sealing) and k1; return the entries by id."""
    entries = {"k2": new_key("k2"), "k1": new_key("k1")}
    settings.CHATOPS_ENCRYPTION_KEYS = ",".join(entries.values())
    return entries


@pytest.fixture
def vault(db, keys):
    """Return a tenant that encrypts its chats at rest, with its widget on ORIGIN."""
    return factories.make_tenant(
        name="Vault", slug="vault", allowed_origins=ORIGIN, encrypt_messages=True, stored_encrypted=True
    )
