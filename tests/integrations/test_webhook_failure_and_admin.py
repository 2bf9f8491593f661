"""A delivery refused for a day is failed and shown in the admin, where it is sent again; the test ping."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from integrations import addresses, services
from integrations.models import PING, EventType, WebhookDelivery

Status = WebhookDelivery.Status
NOW = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)
pytestmark = pytest.mark.frozen_time(NOW)


def attempts_until_settled(delivery: WebhookDelivery, traveller) -> list[dt.datetime]:
    """Run every retry when it is due (moving the clock there); return the moments of the attempts."""
    moments = []
    delivery.refresh_from_db()
    while delivery.status == Status.QUEUED:
        traveller.move_to(delivery.next_attempt_at)
        moments.append(delivery.next_attempt_at)
        delivery = services.deliver(delivery.pk)
    return moments


def test_a_delivery_refused_for_a_day_is_failed_with_its_last_answer(endpoint, receiver, tenant, _frozen_time):
    # given: the receiver answers 500 to everything
    receiver.answers = [500] * 100
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)

    # when
    moments = attempts_until_settled(delivery, _frozen_time)

    # then
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == (Status.FAILED, 500)
    assert delivery.attempts == len(moments) == len(receiver.received)
    assert moments[0] == NOW and moments[-1] == NOW + dt.timedelta(days=1)
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert max(gaps) <= dt.timedelta(hours=1)
    # Doubling from 30 s, then hourly, for a day; each pause is jittered between half its ceiling and all
    # of it: 8 attempts in the first 32-64 min, then one every 30-60 min, and a last one at the day's end.
    assert 31 <= delivery.attempts <= 55


def test_failed_deliveries_are_filtered_in_the_admin_and_sent_again(
    client, ops_manager, endpoint, receiver, tenant, django_capture_on_commit_callbacks
):
    # given: one failed, one delivered
    [failed] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    WebhookDelivery.objects.filter(pk=failed.pk).update(status=Status.FAILED, response_code=500, attempts=30)
    [delivered] = services.record_event(tenant_id=tenant.pk, event_type=EventType.LEAD_CREATED, data=dict)
    services.deliver(delivered.pk)
    client.force_login(ops_manager)
    changelist = reverse("admin:integrations_webhookdelivery_changelist")

    # when
    page = client.get(changelist, {"status__exact": "failed"})

    # then
    assert list(page.context["cl"].result_list) == [failed]

    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post(changelist, {"action": "send_again", "_selected_action": [failed.pk]})

    # then
    failed.refresh_from_db()
    assert (failed.status, failed.response_code, failed.attempts) == (Status.DELIVERED, 204, 31)
    assert failed.give_up_at == NOW + dt.timedelta(days=1)
    assert [r.event["id"] for r in receiver.accepted()] == [str(delivered.event_id), str(failed.event_id)]


def test_an_operations_manager_sends_a_test_ping(
    client, ops_manager, endpoint, receiver, django_capture_on_commit_callbacks
):
    # given
    client.force_login(ops_manager)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:integrations_webhookendpoint_changelist"),
            {"action": "send_test_ping", "_selected_action": [endpoint.pk]},
        )

    # then
    [ping] = WebhookDelivery.objects.filter(event_type=PING)
    assert (ping.status, ping.response_code, ping.requested_by) == (Status.DELIVERED, 204, ops_manager)
    assert receiver.accepted()[0].event["data"] == {"endpoint": "CRM"}


def test_the_delivery_log_shows_status_code_times_and_attempts_in_a_labelled_zone(
    client, ops_manager, endpoint, receiver, tenant
):
    # given
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(delivery.pk)
    client.force_login(ops_manager)

    # when
    page = client.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))

    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert "Delivered" in text and "204" in text
    assert "UTC" in text  # the zone named beside each time (the server's)


def test_an_agent_or_client_cannot_open_the_webhook_pages(client, agent, client_user, endpoint):
    for user in (agent.user, client_user.user):
        client.force_login(user)
        for name in ("admin:integrations_webhookendpoint_changelist", "admin:integrations_webhookdelivery_changelist"):
            assert client.get(reverse(name)).status_code in (302, 403)


def test_an_endpoint_is_made_in_the_admin_with_the_events_it_wants(client, ops_manager, tenant, monkeypatch):
    # given (the host resolves to a public address: no real DNS in tests)
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    client.force_login(ops_manager)

    # when
    client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {
            "tenant": tenant.pk,
            "name": "HubSpot",
            "url": "https://hooks.example.com/chatops",
            "events": [EventType.LEAD_CREATED, EventType.HANDOFF_CREATED],
            "active": "on",
        },
    )

    # then
    endpoint = tenant.webhookendpoint_set.get()
    assert endpoint.events == [EventType.LEAD_CREATED, EventType.HANDOFF_CREATED]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
