"""Writes of the webhooks: recording an event in the business transaction, and sending it after.

Sending, one attempt (``deliver``), outside any transaction:

1. take the lease: in a short transaction, a QUEUED row that is due, or a SENDING row whose lease
   ran out (its worker died), becomes SENDING, leased by this attempt for the timeout and a margin;
2. POST the body, signed now, to the endpoint;
3. record the answer under the lease: a 2xx is DELIVERED; anything else (another status, a timeout,
   a refused connection) is QUEUED again after an exponential back-off, or FAILED once the day
   (``WEBHOOK_RETRY_FOR_SECONDS``) is over.

Delivery is at least once: a worker that dies after the POST leaves a row that is sent again with
the same event id, which receivers use to drop repeats. The row is one per endpoint and event, so
an event is recorded as delivered once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib import error as urlerror
from urllib import request as urlrequest

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from conversations import protection
from integrations import addresses, payloads, signing
from integrations.models import PING, WebhookDelivery, WebhookEndpoint, new_secret
from outbox import leasing

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 1000
LEASE_MARGIN = dt.timedelta(seconds=20)
DUE_BATCH = 100
USER_AGENT = "chatops-webhooks/1"


# --- Recording, in the business transaction --------------------------------------------------------


def record_event(
    *,
    tenant_id: int,
    event_type: str,
    data: Callable[[], dict],
    conversation_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[WebhookDelivery]:
    """Write a delivery of the event for each active endpoint of the tenant that wants it; return them.

    Runs in the caller's transaction (a rollback leaves no delivery); workers are asked to send
    after commit. ``data`` is called only when some endpoint wants the event. The body is stored
    sealed when the tenant encrypts; ``conversation_id`` names the chat whose visitor it is about
    (an erasure of that visitor blanks it).
    """
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(tenant_id=tenant_id, active=True).select_related("tenant")
        if endpoint.wants(event_type)
    ]
    if not endpoints:
        return []
    now = now or timezone.now()
    event_id = uuid.uuid4()
    tenant = endpoints[0].tenant
    body = event_body(event_id=event_id, event_type=event_type, tenant_slug=tenant.slug, data=data(), now=now)
    body = protection.seal_for(tenant, body)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            _new_delivery(
                endpoint, event_id=event_id, event_type=event_type, body=body, now=now, conversation_id=conversation_id
            )
            for endpoint in endpoints
        ]
    )
    _send_after_commit([delivery.pk for delivery in deliveries])
    return deliveries


def event_body(*, event_id: uuid.UUID, event_type: str, tenant_slug: str, data: dict, now: dt.datetime) -> str:
    """Return the JSON body of an event, written once: every attempt sends these exact bytes."""
    envelope = {
        "id": str(event_id),
        "type": event_type,
        "created_at": payloads.moment(now),
        "tenant": tenant_slug,
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def _new_delivery(
    endpoint: WebhookEndpoint,
    *,
    event_id: uuid.UUID,
    event_type: str,
    body: str,
    now: dt.datetime,
    conversation_id: int | None = None,
) -> WebhookDelivery:
    return WebhookDelivery(
        tenant_id=endpoint.tenant_id,
        endpoint=endpoint,
        conversation_id=conversation_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        created_at=now,
        next_attempt_at=now,
        give_up_at=now + retry_period(),
    )


def retry_period() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_RETRY_FOR_SECONDS)


def _send_after_commit(delivery_ids: list[int]) -> None:
    from integrations import tasks

    def ask_a_worker() -> None:
        for delivery_id in delivery_ids:
            tasks.deliver_webhook.delay(delivery_id)

    # robust: the row is stored either way; if the broker is away, deliver_due sends it later.
    transaction.on_commit(ask_a_worker, robust=True)


# --- One attempt ------------------------------------------------------------------------------------


@dataclass
class Lease:
    """An attempt that holds a delivery's lease: only it may record how the attempt went."""

    delivery: WebhookDelivery
    token: str

    def rows(self):
        return leasing.leased_rows(self.delivery, self.token)


@dataclass
class Answer:
    """What the endpoint answered: a status code, or an error without one (timeout, refused)."""

    code: int | None
    error: str = ""

    @property
    def accepted(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


def lease_time() -> dt.timedelta:
    return dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS) + LEASE_MARGIN


def _take_lease(delivery_id: int, now: dt.datetime) -> Lease | None:
    """Lease the delivery to this attempt if it is due or its last worker died by ``now``; None if not ours."""

    def started(delivery: WebhookDelivery, start: dt.datetime) -> None:
        delivery.last_attempt_at = start

    delivery = leasing.take_lease(
        WebhookDelivery.objects.select_related("endpoint"),
        pk=delivery_id,
        now=now,
        lease_time=lease_time(),
        update_fields=["status", "lease_token", "leased_until", "last_attempt_at", "attempts"],
        started=started,
    )
    return None if delivery is None else Lease(delivery=delivery, token=delivery.lease_token)


class _NoRedirects(urlrequest.HTTPRedirectHandler):
    """Treat a redirect as the answer: a signed body goes only to the address the client gave."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener() -> urlrequest.OpenerDirector:
    return urlrequest.build_opener(
        urlrequest.ProxyHandler({}), _NoRedirects(), addresses.PinnedHTTPHandler(), addresses.PinnedHTTPSHandler()
    )


def post(*, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST the body to the URL within the timeout; return the status code or what went wrong.

    The address is checked again now (``integrations.addresses``): a refused one is an error without
    a status code, retried like a refused connection (its DNS may be put right).
    """
    outgoing = urlrequest.Request(  # noqa: S310 (addresses.check_scheme allows only http and https)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        addresses.check_scheme(url)
        with _opener().open(outgoing, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as answer:
            return Answer(code=answer.status)
    except urlerror.HTTPError as refusal:
        return Answer(code=refusal.code, error=f"HTTP {refusal.code} {refusal.reason}")
    except (OSError, ValueError) as failure:
        # URLError, a timeout, a refused connection, a malformed address
        reason = getattr(failure, "reason", failure)
        kind = type(reason if isinstance(reason, Exception) else failure).__name__
        return Answer(code=None, error=f"{kind}: {reason}"[:MAX_ERROR_LENGTH])


def _attempt(lease: Lease) -> Answer:
    delivery = lease.delivery
    body = delivery.body.encode()
    sent_at = timezone.now()
    headers = signing.signed_headers(
        event_id=str(delivery.event_id),
        secrets=delivery.endpoint.signing_secrets(now=sent_at),
        timestamp=int(sent_at.timestamp()),
        body=body,
    )
    return post(url=delivery.endpoint.url, body=body, headers=headers)


def retry_delay(attempts: int) -> dt.timedelta:
    """Return the pause after the given number of failed attempts: doubling from the base, capped, with jitter."""
    ceiling = min(settings.WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_SECONDS)
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 (spreading retries, not secrets)


def _record(lease: Lease, answer: Answer) -> None:
    """Record the answer under the lease: delivered, queued again after a pause, or failed for good."""
    now = timezone.now()
    delivery = lease.delivery
    changes: dict = {"lease_token": "", "leased_until": None, "response_code": answer.code}
    if answer.accepted:
        changes.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now, last_error="")
    elif now >= delivery.give_up_at:
        changes.update(status=WebhookDelivery.Status.FAILED, last_error=answer.error)
    else:
        next_attempt = min(now + retry_delay(delivery.attempts), delivery.give_up_at)
        changes.update(status=WebhookDelivery.Status.QUEUED, next_attempt_at=next_attempt, last_error=answer.error)
    if not lease.rows().update(**changes):
        logger.warning("Webhook delivery %s: lease lost during the attempt; left to its new sender.", delivery.pk)
    elif not answer.accepted:
        logger.warning("Webhook delivery %s, attempt %s: %s", delivery.pk, delivery.attempts, answer.error)


def deliver(delivery_id: int, *, now: dt.datetime | None = None) -> WebhookDelivery | None:
    """Make one attempt at a delivery if it is due (or abandoned); return it as it is now.

    Call outside a transaction: the lease and the outcome each commit on their own. None for a
    delivery that does not exist; one not due, or leased by someone else, is returned untouched.
    """
    lease = _take_lease(delivery_id, now or timezone.now())
    if lease is not None:
        _record(lease, _attempt(lease))
    return WebhookDelivery.objects.filter(pk=delivery_id).first()


def deliver_due(*, now: dt.datetime | None = None, limit: int = DUE_BATCH) -> int:
    """Attempt every delivery that is due or whose worker died (the oldest first, at most ``limit``).

    Retries to an endpoint made inactive wait until it is active again (a test ping goes anyway).
    """
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(leasing.due_or_abandoned(now))
        .filter(Q(endpoint__active=True) | Q(event_type=PING))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for delivery_id in ids:
        deliver(delivery_id, now=now)
    return len(ids)


# --- On purpose (the admin) -------------------------------------------------------------------------


def send_again(*, deliveries: Iterable[WebhookDelivery], by: AbstractBaseUser | None = None) -> int:
    """Queue deliveries for an attempt right away, same event id and body, with a new day of retries.

    A delivery being sent right now is left alone. Return how many were queued.
    """
    now = timezone.now()
    ids = [delivery.pk for delivery in deliveries]
    with transaction.atomic():
        again = WebhookDelivery.objects.filter(pk__in=ids).exclude(status=WebhookDelivery.Status.SENDING)
        queued = list(again.values_list("pk", flat=True))
        again.update(
            status=WebhookDelivery.Status.QUEUED,
            next_attempt_at=now,
            give_up_at=now + retry_period(),
            requested_by=by,
        )
        _send_after_commit(queued)
    return len(queued)


@transaction.atomic
def send_test_ping(*, endpoint: WebhookEndpoint, by: AbstractBaseUser | None = None) -> WebhookDelivery:
    """Queue a signed "ping" event to the endpoint (active or not), sent after commit; return its delivery."""
    now = timezone.now()
    event_id = uuid.uuid4()
    data = {"endpoint": endpoint.name}
    body = event_body(event_id=event_id, event_type=PING, tenant_slug=endpoint.tenant.slug, data=data, now=now)
    body = protection.seal_for(endpoint.tenant, body)
    delivery = _new_delivery(endpoint, event_id=event_id, event_type=PING, body=body, now=now)
    delivery.requested_by = by
    delivery.save()
    _send_after_commit([delivery.pk])
    return delivery


# --- A visitor's erasure -----------------------------------------------------------------------------


@transaction.atomic
def forget_conversations(*, conversation_ids: list[int]) -> int:
    """Blank the visitors' data in every delivery about these chats, sent or not; return how many.

    A delivery still waiting goes out blanked (same event id, ``"erased": true`` in its data): the
    client's system learns that the event happened, as the KPIs still count it, but not who it was.
    The body stays sealed for a tenant that encrypts.
    """
    forgotten = 0
    deliveries = WebhookDelivery.objects.select_for_update().select_related("tenant")
    for delivery in deliveries.filter(conversation_id__in=conversation_ids).order_by("pk"):
        blanked = protection.seal_for(delivery.tenant, payloads.erased_body(delivery.body))
        WebhookDelivery.objects.filter(pk=delivery.pk).update(body=blanked)
        forgotten += 1
    return forgotten


def delete_deliveries(*, conversation_ids: list[int]) -> int:
    """Delete every delivery about these chats, sent or not (retention deletes the chats); return how many.

    A delivery holds the same personal data as its chat (name, contact, words), so it is kept no longer.
    """
    deleted, _ = WebhookDelivery.objects.filter(conversation_id__in=conversation_ids).delete()
    return deleted


@transaction.atomic
def rotate_secret(*, endpoint: WebhookEndpoint, now: dt.datetime | None = None) -> WebhookEndpoint:
    """Give the endpoint a new secret; the old one keeps signing too for ``WEBHOOK_SECRET_OVERLAP_SECONDS``."""
    now = now or timezone.now()
    locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    locked.previous_secret, locked.secret = locked.secret, new_secret()
    locked.previous_secret_until = now + dt.timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP_SECONDS)
    locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return locked
