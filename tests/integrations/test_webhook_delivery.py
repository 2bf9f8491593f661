"""Webhooks end to end: business events become signed deliveries that a real receiver on loopback verifies."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from conversations import aftercare, offline
from conversations.access import issue_visitor_token
from conversations.outcomes import close_with_outcome
from integrations import services, signing
from integrations.models import EventType, WebhookDelivery, WebhookEndpoint
from tests.conftest import free_port
from tests.integrations.conftest import LEAD, documented_python_verifier

Status = WebhookDelivery.Status


def close_as_lead(conversation, agent, capture) -> WebhookDelivery:
    with capture(execute=True):
        close_with_outcome(conversation=conversation, agent=agent, outcome="lead", lead=LEAD)
    return WebhookDelivery.objects.get(event_type=EventType.LEAD_CREATED)


def post_to(receiver, *, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(receiver.url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 (loopback)
            return answer.status
    except urllib.error.HTTPError as refusal:
        return refusal.code


# ---- a genuine delivery ------------------------------------------------------------------------


def test_a_lead_reaches_the_receiver_signed_and_is_recorded_delivered(
    running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    # when
    delivery = close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (Status.DELIVERED, 204, 1)
    [request] = [r for r in receiver.accepted() if r.event["type"] == EventType.LEAD_CREATED]
    assert request.event["id"] == str(delivery.event_id) == request.headers[signing.ID_HEADER]
    assert request.event["tenant"] == "kahvila"
    assert request.event["data"]["lead"]["email"] == "maija@example.fi"
    assert request.event["data"]["conversation_id"] == running_chat.pk


def test_the_close_itself_is_an_event_with_its_outcome(
    running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    # when
    close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # then
    [closed] = [r.event for r in receiver.accepted() if r.event["type"] == EventType.CONVERSATION_CLOSED]
    assert closed["data"]["conversation"]["outcome"] == "lead"
    assert closed["data"]["conversation"]["id"] == running_chat.pk


def test_rating_and_offline_message_are_events_too(
    running_chat, agent, tenant, endpoint, receiver, django_capture_on_commit_callbacks
):
    # given
    close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        aftercare.rate_conversation(conversation=running_chat, rating=5, comment="Nopeaa!")
        offline.leave_offline_message(
            tenant=tenant,
            token=issue_visitor_token(running_chat.visitor),
            name="Maija",
            email="maija@example.fi",
            question="Oletteko auki lauantaina?",
            ip_address=None,
            route=False,
        )

    # then
    events = {r.event["type"]: r.event["data"] for r in receiver.accepted()}
    assert events[EventType.RATING_GIVEN]["rating"] == 5
    assert events[EventType.OFFLINE_MESSAGE_LEFT]["question"] == "Oletteko auki lauantaina?"


def test_only_active_endpoints_of_the_tenant_that_want_the_event_get_it(
    running_chat, agent, tenant, other_tenant, endpoint, django_capture_on_commit_callbacks
):
    # given
    WebhookEndpoint.objects.create(tenant=other_tenant, name="B", url=endpoint.url, events=list(EventType.values))
    WebhookEndpoint.objects.create(
        tenant=tenant, name="off", url=endpoint.url, events=[EventType.LEAD_CREATED], active=False
    )
    WebhookEndpoint.objects.create(tenant=tenant, name="ratings", url=endpoint.url, events=[EventType.RATING_GIVEN])

    # when
    close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # then
    recorded = set(WebhookDelivery.objects.values_list("endpoint__name", "event_type"))
    assert recorded == {("CRM", EventType.LEAD_CREATED), ("CRM", EventType.CONVERSATION_CLOSED)}


def test_a_rolled_back_business_transaction_leaves_no_delivery(
    running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    # when
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        close_with_outcome(conversation=running_chat, agent=agent, outcome="lead", lead=LEAD)
        assert WebhookDelivery.objects.count() == 2  # written in the business transaction
        raise RuntimeError("the business transaction fails after the close")

    # then
    assert WebhookDelivery.objects.count() == 0
    assert callbacks == []
    assert receiver.received == []


# ---- the receiver's checks (the documented snippet) ----------------------------------------------


@pytest.fixture
def genuine(endpoint, receiver):
    """A body and the headers chatops would send with it now."""
    body = services.event_body(
        event_id=uuid.uuid4(), event_type="ping", tenant_slug="kahvila", data={}, now=timezone.now()
    ).encode()
    timestamp = int(time.time())
    headers = signing.signed_headers(event_id="x", secrets=[endpoint.secret], timestamp=timestamp, body=body)
    return body, headers, timestamp


def test_the_receiver_accepts_the_genuine_request(receiver, genuine):
    body, headers, _timestamp = genuine

    assert post_to(receiver, body=body, headers=headers) == 204


def test_the_receiver_refuses_a_signature_made_with_another_secret(receiver, genuine):
    # given
    body, _headers, timestamp = genuine
    forged = signing.signed_headers(event_id="x", secrets=["whsec_not-the-one"], timestamp=timestamp, body=body)

    # then
    assert post_to(receiver, body=body, headers=forged) == 400
    assert receiver.received[-1].refusal == "no valid signature"


def test_the_receiver_refuses_an_old_timestamp(receiver, endpoint, genuine):
    # given: correctly signed, ten minutes ago (a replay)
    body, _headers, timestamp = genuine
    old = signing.signed_headers(event_id="x", secrets=[endpoint.secret], timestamp=timestamp - 600, body=body)

    # then
    assert post_to(receiver, body=body, headers=old) == 400
    assert receiver.received[-1].refusal == "timestamp outside the replay window"


def test_the_receiver_refuses_an_altered_body(receiver, genuine):
    # given
    body, headers, _timestamp = genuine
    altered = body.replace(b'"kahvila"', b'"silownia"')

    # then
    assert altered != body
    assert post_to(receiver, body=altered, headers=headers) == 400
    assert receiver.received[-1].refusal == "no valid signature"


def test_the_documented_verifier_refuses_a_missing_timestamp(endpoint):
    verifier = documented_python_verifier()

    with pytest.raises(verifier["WebhookRefused"]):
        verifier["verify_webhook"](body=b"{}", headers={}, secret=endpoint.secret)


# ---- retries -----------------------------------------------------------------------------------


def test_a_500_is_retried_after_a_growing_pause_until_it_is_delivered(
    running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks, settings
):
    # given
    endpoint.events = [EventType.LEAD_CREATED]
    endpoint.save()
    receiver.answers = [500, 500, 503]

    # when: the first attempt (after commit) and three retries, each when it is due
    delivery = close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)
    pauses = []
    for _retry in range(3):
        delivery.refresh_from_db()
        assert delivery.status == Status.QUEUED
        assert delivery.response_code in (500, 503)
        pauses.append(delivery.next_attempt_at - delivery.last_attempt_at)
        assert services.deliver(delivery.pk, now=delivery.next_attempt_at - dt.timedelta(seconds=1)).attempts == len(
            pauses
        ), "not due yet: untouched"
        services.deliver(delivery.pk, now=delivery.next_attempt_at)

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (Status.DELIVERED, 204, 4)
    codes = [r.status for r in receiver.received if r.event and r.event["id"] == str(delivery.event_id)]
    assert codes == [500, 500, 503, 204]
    base = settings.WEBHOOK_RETRY_SECONDS
    for number, pause in enumerate(pauses, start=1):
        ceiling = dt.timedelta(seconds=base * 2 ** (number - 1))
        assert ceiling / 2 - dt.timedelta(seconds=1) <= pause <= ceiling + dt.timedelta(seconds=1)


def test_a_timeout_is_retried(running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks, settings):
    # given: the receiver takes longer than chatops waits, the first time
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    endpoint.events = [EventType.LEAD_CREATED]
    endpoint.save()
    receiver.delays = [1.5]

    # when
    slow = close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # then
    slow.refresh_from_db()
    assert (slow.status, slow.response_code) == (Status.QUEUED, None)
    assert "timed out" in slow.last_error
    services.deliver(slow.pk, now=slow.next_attempt_at)
    slow.refresh_from_db()
    assert (slow.status, slow.response_code, slow.attempts) == (Status.DELIVERED, 204, 2)


def test_a_refused_connection_is_retried(tenant, django_capture_on_commit_callbacks, settings):
    # given: nothing listens there (a loopback address, allowed here)
    settings.WEBHOOK_ALLOW_HTTP, settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = True, ["127.0.0.1"]
    endpoint = WebhookEndpoint.objects.create(
        tenant=tenant, name="down", url=f"http://127.0.0.1:{free_port()}/", events=[EventType.RATING_GIVEN]
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)

    # then
    delivery.refresh_from_db()
    assert (delivery.endpoint, delivery.status, delivery.response_code) == (endpoint, Status.QUEUED, None)
    assert "refused" in delivery.last_error.lower()


def in_own_connection(work, *args):
    def run() -> None:
        try:
            work(*args)
        finally:
            connection.close()

    return run


# ---- exactly once -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_delivery_send_it_once(endpoint, receiver, tenant):
    # given: a delivery written and committed, its first request to a worker lost
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    receiver.delays = [0.5]

    # when: four workers and the periodic sweep all try it at once
    workers = [threading.Thread(target=in_own_connection(services.deliver, delivery.pk)) for _ in range(4)]
    workers.append(threading.Thread(target=in_own_connection(services.deliver_due)))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    services.deliver_due()

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)
    assert [r.event["id"] for r in receiver.received] == [str(delivery.event_id)]
    assert WebhookDelivery.objects.filter(event_id=delivery.event_id, status=Status.DELIVERED).count() == 1


def test_a_delivery_whose_worker_died_is_taken_again_after_its_lease(endpoint, receiver, tenant):
    # given: a worker took the lease and died
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    lease = services._take_lease(delivery.pk, timezone.now())
    assert lease is not None

    # when: the sweep runs while the lease holds, and after it ran out
    assert services.deliver_due() == 0
    services.deliver_due(now=lease.delivery.leased_until + dt.timedelta(seconds=1))

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 2)
    assert len(receiver.accepted()) == 1


def test_the_event_id_stays_the_same_when_it_is_sent_again(endpoint, receiver, tenant):
    # given
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(delivery.pk)

    # when
    assert services.send_again(deliveries=[delivery]) == 1
    services.deliver(delivery.pk)

    # then
    ids = [r.event["id"] for r in receiver.accepted()]
    assert ids == [str(delivery.event_id)] * 2
    assert WebhookDelivery.objects.filter(event_id=delivery.event_id).count() == 1


# ---- secret rotation --------------------------------------------------------------------------------


def test_during_a_rotation_both_secrets_sign_and_old_and_new_receivers_accept(endpoint, receiver, tenant):
    # given: the receiver still knows only the old secret
    old_secret = endpoint.secret
    rotated = services.rotate_secret(endpoint=endpoint)

    # when
    [first] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(first.pk)
    receiver.secret = rotated.secret
    [second] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(second.pk)

    # then
    assert rotated.secret != old_secret
    assert len(receiver.accepted()) == 2
    assert len(receiver.received[0].headers[signing.SIGNATURE_HEADER].split()) == 2


def test_after_the_overlap_only_the_new_secret_signs(endpoint, receiver, tenant, settings):
    # given: an overlap already over
    settings.WEBHOOK_SECRET_OVERLAP_SECONDS = 0
    services.rotate_secret(endpoint=endpoint)

    # when
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(delivery.pk)

    # then: the receiver that knows only the old secret refuses
    assert [r.status for r in receiver.received] == [400]
    assert len(receiver.received[0].headers[signing.SIGNATURE_HEADER].split()) == 1


def test_the_body_sent_is_the_body_stored(endpoint, receiver, tenant):
    [delivery] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=lambda: {"comment": "Hyvä ✓"}
    )
    services.deliver(delivery.pk)

    assert receiver.received[0].body == delivery.body.encode()
    assert json.loads(delivery.body)["data"] == {"comment": "Hyvä ✓"}


def test_the_embedded_defaults_clock_sends_the_webhooks_that_are_due(endpoint, receiver, tenant):
    # given: a delivery whose request to a worker was lost (no beat runs on the embedded default)
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)

    # when
    call_command("live_timers", "--once")

    # then
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    assert [r.event["id"] for r in receiver.accepted()] == [str(delivery.event_id)]


def test_retries_to_an_endpoint_made_inactive_wait_until_it_is_active_again(endpoint, receiver, tenant):
    # given: a delivery refused once, then the endpoint switched off
    receiver.answers = [500]
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    delivery = services.deliver(delivery.pk)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)

    # when
    swept_while_off = services.deliver_due(now=delivery.next_attempt_at)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=True)
    swept_when_on = services.deliver_due(now=delivery.next_attempt_at)

    # then
    assert (swept_while_off, swept_when_on) == (0, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 2)


def test_an_event_of_a_tenant_without_endpoints_costs_one_query(tenant, django_assert_num_queries):
    built = []

    with django_assert_num_queries(1):
        deliveries = services.record_event(
            tenant_id=tenant.pk, event_type=EventType.LEAD_CREATED, data=lambda: built.append(1) or {}
        )

    assert (deliveries, built) == ([], [])
