"""Text from people, made safe to store and to show, in one place.

NUL (U+0000): PostgreSQL refuses it in text, so a message, note, tag or form field carrying one is refused
with a clear error before the database. Bidirectional embeddings, overrides and isolates (U+202A–U+202E,
U+2066–U+2069) make text read in another order than it is written ("exe.live" shown for "evil.exe"), so
they are taken out before storage: the console, the widget, the admin and the e-mails show what was
stored, never the trick.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

NUL = "\x00"
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
ERROR_NUL = _("The text contains a NUL character (\\0), which cannot be stored; remove it and send again.")


def nul_error(field: str | None = None) -> ValidationError:
    """Return the refusal of a NUL, keyed by ``field`` when a form shows it beside one."""
    error = ValidationError(ERROR_NUL, code="nul")
    return ValidationError({field: error}) if field else error


def checked_text(value: str, *, field: str | None = None) -> str:
    """Return typed text without bidirectional controls; refuse one with a NUL (ValidationError "nul")."""
    if NUL in value:
        raise nul_error(field)
    return BIDI_CONTROLS.sub("", value)


def recorded_text(value: str) -> str:
    """Return text recorded rather than typed (a page's address or title) without NULs and bidirectional controls."""
    return BIDI_CONTROLS.sub("", value.replace(NUL, ""))
