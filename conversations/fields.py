"""Model fields whose values may be stored encrypted (``conversations.sealing``).

A value is sealed on the way in when it is a ``Sealed`` string (the services mark it so for tenants
that encrypt), and opened transparently on the way out when the column holds a token; plain values
pass both ways untouched, so one column holds the rows of encrypting and plain tenants alike. The
column is ``text`` whatever the declared length: a token is longer than the text it seals.
"""

from __future__ import annotations

from django.db import models

from conversations.sealing import Sealed, is_token, seal, unseal


class SealableMixin:
    """Seal ``Sealed`` values when they are stored; open tokens when they are read."""

    def db_type(self, connection) -> str:
        return models.TextField().db_type(connection)

    def from_db_value(self, value, expression, connection):
        if is_token(value):
            return Sealed(unseal(value))
        return value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, Sealed) and value:
            return seal(value)
        return value


class SealableTextField(SealableMixin, models.TextField):
    """Free text (a message, a note, a comment) that may be stored encrypted."""


class SealableCharField(SealableMixin, models.CharField):
    """A short value (a name, a phone number) that may be stored encrypted; its length is the plain text's."""


class SealableEmailField(SealableMixin, models.EmailField):
    """An e-mail address that may be stored encrypted."""
