"""Outbox rows for e-mails sent before the outbox existed, for the migrations that moved their records.

Used by historical migrations (conversations 0008, reporting 0002) with their historical models:
keep its behaviour as it is.
"""

from __future__ import annotations

import datetime as dt
import uuid

WAITING_AT_UPGRADE = (
    "It was waiting to be sent when chatops moved its e-mail to the outbox and was not sent since: send it again."
)


def legacy_email(
    model,
    *,
    kind: str,
    reference: str,
    subject: str,
    recipients: list[str],
    status: str,
    attempts: int,
    created_at: dt.datetime,
    sent_at: dt.datetime | None = None,
    error: str = "",
    requested_by_id: int | None = None,
):
    """Create the outbox row (``model``: the migration's OutgoingEmail) of an e-mail recorded the old way.

    The message itself was never stored: the row keeps what was recorded (to whom, when, how it went).
    """
    return model.objects.create(
        kind=kind,
        reference=reference,
        message_id=f"<legacy.{uuid.uuid4().hex}@chatops.invalid>",
        from_email="",
        recipients="\n".join(recipients),
        subject=subject,
        message=b"",
        status=status,
        attempts=attempts,
        max_attempts=max(attempts, 1),
        next_attempt_at=created_at,
        created_at=created_at,
        sent_at=sent_at,
        last_error=error,
        requested_by_id=requested_by_id,
    )
