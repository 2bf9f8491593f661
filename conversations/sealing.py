"""Encryption at rest: keys from the environment, text sealed into self-describing tokens.

``CHATOPS_ENCRYPTION_KEYS`` lists the keys newest first, comma-separated, each as ``id:key`` where the
key is a Fernet key (``Fernet.generate_key()``). New text is sealed under the newest key; a token names
its key (``enc:<id>:<Fernet token>``), so a row written under an older key still opens while that key is
listed, and a row whose key is gone fails with an error naming the key instead of showing garbage.

A ``Sealed`` string is plain text that is to be stored encrypted: the model fields in
``conversations.fields`` seal it on the way into the database and give it back as ``Sealed`` when
they open a token, so a row read and saved again stays encrypted.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "enc:"  # noqa: S105 (a marker, not a secret)
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class Sealed(str):
    """Plain text marked to be stored encrypted."""

    __slots__ = ()


class MissingEncryptionKey(Exception):
    """A stored token names a key that is not (or no longer) in CHATOPS_ENCRYPTION_KEYS."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(
            f"The encryption key {key_id!r} is not in CHATOPS_ENCRYPTION_KEYS: "
            "rows encrypted with it cannot be read until it is listed again."
        )


class DamagedToken(Exception):
    """A token's key is known but the token does not open with it (altered, or a different key)."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"An encrypted value does not open with the key {key_id!r}: it was altered or mislabelled.")


@dataclass(frozen=True)
class Keyring:
    """The keys in use: ``newest_id`` seals, every listed key opens."""

    keys: dict[str, Fernet]
    newest_id: str

    def seal(self, text: str) -> str:
        token = self.keys[self.newest_id].encrypt(text.encode()).decode("ascii")
        return f"{TOKEN_PREFIX}{self.newest_id}:{token}"

    def unseal(self, token: str) -> str:
        key_id, body = split_token(token)
        key = self.keys.get(key_id)
        if key is None:
            raise MissingEncryptionKey(key_id)
        try:
            return key.decrypt(body.encode("ascii")).decode()
        except InvalidToken as error:
            raise DamagedToken(key_id) from error


def parse_keys(raw: str) -> Keyring:
    """Read ``id:key,id:key`` (newest first) into a keyring; refuse a malformed list loudly."""
    keys: dict[str, Fernet] = {}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        key_id, _colon, key = entry.partition(":")
        if not _KEY_ID.match(key_id) or not key:
            raise ImproperlyConfigured("CHATOPS_ENCRYPTION_KEYS: write each key as id:key (id of letters, digits, -_.)")
        if key_id in keys:
            raise ImproperlyConfigured(f"CHATOPS_ENCRYPTION_KEYS: the key id {key_id!r} is listed twice.")
        try:
            keys[key_id] = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as error:
            raise ImproperlyConfigured(f"CHATOPS_ENCRYPTION_KEYS: the key {key_id!r} is not a Fernet key.") from error
    if not keys:
        raise ImproperlyConfigured("Encryption at rest needs a key: set CHATOPS_ENCRYPTION_KEYS (id:key, newest first)")
    return Keyring(keys=keys, newest_id=next(iter(keys)))


@functools.lru_cache(maxsize=4)
def _keyring_of(raw: str) -> Keyring:
    return parse_keys(raw)


def keyring() -> Keyring:
    """Return the keyring of the current settings (parsed once per distinct value)."""
    return _keyring_of(getattr(settings, "CHATOPS_ENCRYPTION_KEYS", "") or "")


def is_token(value: object) -> bool:
    """Say whether a stored value is a sealed token (rather than plain text)."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def split_token(token: str) -> tuple[str, str]:
    """Return a token's key id and its Fernet part."""
    key_id, _colon, body = token[len(TOKEN_PREFIX) :].partition(":")
    return key_id, body


def seal(text: str) -> str:
    """Encrypt text under the newest key into a token; empty text stays empty (blank checks keep working)."""
    return keyring().seal(text) if text else text


def unseal(token: str) -> str:
    """Decrypt a token with the key it names (MissingEncryptionKey when that key is not listed)."""
    return keyring().unseal(token)


def reseal(token: str) -> str:
    """Return the token sealed under the newest key (itself when it already is)."""
    ring = keyring()
    if split_token(token)[0] == ring.newest_id:
        return token
    return ring.seal(ring.unseal(token))


def sealed_if(text: str, encrypt: bool) -> str:
    """Mark text to be stored encrypted when ``encrypt``; plain otherwise."""
    return Sealed(text) if encrypt else str(text)
