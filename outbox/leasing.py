"""Row leases for the outboxes (e-mails here, webhook deliveries in integrations): one sender per attempt.

A row to send has ``status`` (``queued`` → ``sending`` → an outcome), ``next_attempt_at``, ``attempts``,
``lease_token`` and ``leased_until``. An attempt takes the lease in a short transaction of its own: a
queued row that is due, or a sending row whose lease ran out (its sender died), becomes ``sending``,
leased by a fresh token until now + the lease time. Only the holder of the token records the outcome
(``leased_rows``), so a sender that lost its lease changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

QUEUED, SENDING = "queued", "sending"

Row = TypeVar("Row", bound=models.Model)


def due_or_abandoned(now: dt.datetime) -> Q:
    """Return the rows to attempt at ``now``: queued and due, or sending with a lease that ran out."""
    return Q(status=QUEUED, next_attempt_at__lte=now) | Q(status=SENDING, leased_until__lt=now)


def take_lease(
    queryset: models.QuerySet[Row],
    *,
    pk: int,
    now: dt.datetime,
    lease_time: dt.timedelta,
    update_fields: list[str],
    started: Callable[[Row, dt.datetime], None],
    abandoned: Callable[[Row], bool] = lambda row: True,
) -> Row | None:
    """Lease the row to this attempt if it is due, or its sender died, by ``now``; return it, or None if not ours.

    ``now`` decides what is due; the lease runs on the clock. A row locked by another attempt is
    skipped, not waited for. ``abandoned`` sees a row whose sender died, and may refuse to lease it
    again (returning False, after saving what it decided). ``started`` notes the attempt's start on
    the row; then the row is saved with ``update_fields``.
    """
    with transaction.atomic():
        row = queryset.select_for_update(skip_locked=True).filter(pk=pk).first()
        if row is None:
            return None
        due = row.status == QUEUED and row.next_attempt_at <= now
        dead_sender = row.status == SENDING and row.leased_until < now
        if not (due or dead_sender):
            return None
        if dead_sender and not abandoned(row):
            return None
        start = timezone.now()
        row.status, row.lease_token, row.leased_until = SENDING, uuid.uuid4().hex, start + lease_time
        row.attempts += 1
        started(row, start)
        row.save(update_fields=update_fields)
    return row


def leased_rows(row: models.Model, token: str) -> models.QuerySet:
    """Return the row while this token holds its lease (empty once another attempt took it)."""
    return type(row)._default_manager.filter(pk=row.pk, lease_token=token)
