"""Webhooks go only to public http(s) addresses: refused when saved, and again when sent (DNS may change)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from integrations import addresses, services
from integrations.models import EventType, WebhookDelivery, WebhookEndpoint

PUBLIC = "93.184.215.14"


@pytest.fixture
def dns(monkeypatch) -> dict[str, list[str]]:
    """A name service the test writes: host name → addresses (an IP literal resolves to itself)."""
    names: dict[str, list[str]] = {}

    def resolve(host: str, port: int) -> list[str]:
        if host in names:
            return names[host]
        try:
            return [str(addresses.ipaddress.ip_address(host))]
        except ValueError:
            raise addresses.RefusedAddress(addresses.ERROR_UNRESOLVED % {"host": host}) from None

    monkeypatch.setattr(addresses, "resolve", resolve)
    return names


@pytest.fixture
def strict(settings):
    """Production's rules: https only, no internal host allowed."""
    settings.WEBHOOK_ALLOW_HTTP = False
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = []


def refusal(url: str) -> str:
    with pytest.raises(addresses.RefusedAddress) as refused:
        addresses.check_url(url)
    return str(refused.value)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("localhost", "127.0.0.1"),
        ("intranet.example.com", "10.1.2.3"),
        ("router.example.com", "192.168.1.1"),
        ("metadata.example.com", "169.254.169.254"),
        ("multicast.example.com", "224.0.0.251"),
        ("reserved.example.com", "240.0.0.1"),
        ("nothing.example.com", "0.0.0.0"),  # noqa: S104 (an address refused, not bound)
        ("six.example.com", "::1"),
        ("mapped.example.com", "::ffff:127.0.0.1"),
        ("local6.example.com", "fe80::1"),
        ("unique6.example.com", "fd00::1"),
        ("carrier.example.com", "100.64.0.1"),
    ],
)
def test_a_host_that_resolves_into_a_private_network_is_refused(dns, strict, host, address):
    dns[host] = [address]

    assert refusal(f"https://{host}/hooks") == addresses.ERROR_INTERNAL % {"host": host, "address": address}


def test_a_host_with_one_private_address_among_public_ones_is_refused(dns, strict):
    dns["split.example.com"] = [PUBLIC, "10.0.0.5"]

    assert "10.0.0.5" in refusal("https://split.example.com/")


def test_an_ip_literal_inside_the_network_is_refused(dns, strict):
    assert "127.0.0.1" in refusal("https://127.0.0.1:8443/hooks")
    assert "::1" in refusal("https://[::1]/hooks")


def test_a_public_https_address_is_accepted(dns, strict):
    dns["hooks.example.com"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    addresses.check_url("https://hooks.example.com/chatops")


def test_other_schemes_and_plain_http_in_production_are_refused(dns, strict):
    dns["hooks.example.com"] = [PUBLIC]

    assert refusal("ftp://hooks.example.com/x") == addresses.ERROR_SCHEME
    assert refusal("file:///etc/passwd") == addresses.ERROR_SCHEME
    assert refusal("http://hooks.example.com/x") == addresses.ERROR_HTTPS


def test_plain_http_is_accepted_where_the_setting_allows_it(dns, strict, settings):
    dns["hooks.example.com"] = [PUBLIC]
    settings.WEBHOOK_ALLOW_HTTP = True

    addresses.check_url("http://hooks.example.com/x")


def test_an_unresolvable_host_is_refused(dns, strict):
    assert refusal("https://nowhere.invalid/") == addresses.ERROR_UNRESOLVED % {"host": "nowhere.invalid"}


def test_a_listed_internal_host_is_accepted_for_development(dns, strict, settings):
    dns["crm.internal"], dns["other.internal"] = ["10.0.0.7"], ["10.0.0.8"]
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["CRM.internal"]

    addresses.check_url("https://crm.internal/hooks")
    assert "10.0.0.8" in refusal("https://other.internal/hooks")


# ---- the admin -----------------------------------------------------------------------------------


def post_endpoint(client, tenant, url: str):
    return client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"tenant": tenant.pk, "name": "CRM", "url": url, "events": [EventType.LEAD_CREATED], "active": "on"},
    )


def test_the_admin_refuses_to_save_an_internal_address_with_a_clear_error(client, ops_manager, tenant, dns, strict):
    # given
    dns["intranet.example.com"] = ["10.1.2.3"]
    client.force_login(ops_manager)

    # when
    page = post_endpoint(client, tenant, "https://intranet.example.com/hooks")

    # then
    assert page.status_code == 200
    assert not WebhookEndpoint.objects.exists()
    errors = page.context["adminform"].form.errors["url"]
    assert errors == [addresses.ERROR_INTERNAL % {"host": "intranet.example.com", "address": "10.1.2.3"}]


def test_the_admins_error_is_in_the_managers_language(client, ops_manager, tenant, dns, strict):
    # given
    client.force_login(ops_manager)
    with translation.override("en"):
        english = str(addresses.ERROR_HTTPS)
    with translation.override("fi"):
        finnish = str(addresses.ERROR_HTTPS)

    # when
    pages = {
        language: client.post(
            reverse("admin:integrations_webhookendpoint_add"),
            {"tenant": tenant.pk, "name": "CRM", "url": "http://hooks.example.com/x", "active": "on"},
            headers={"accept-language": language},
        )
        for language in ("en", "fi")
    }

    # then
    assert finnish != english
    assert pages["en"].context["adminform"].form.errors["url"] == [english]
    assert pages["fi"].context["adminform"].form.errors["url"] == [finnish]


# ---- at delivery time ----------------------------------------------------------------------------


def test_a_delivery_to_loopback_is_refused_unless_the_host_is_listed(tenant, endpoint, receiver, settings):
    # given the receiver's loopback address is not (or no longer) allowed
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = []

    # when
    [delivery] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(delivery.pk)

    # then nothing reached it, and the log says why
    delivery.refresh_from_db()
    assert receiver.received == []
    assert (delivery.status, delivery.response_code) == (WebhookDelivery.Status.QUEUED, None)
    assert "127.0.0.1" in delivery.last_error and "RefusedAddress" in delivery.last_error


def test_a_host_whose_dns_now_points_inside_is_refused_when_sent(tenant, receiver, dns, settings):
    # given an endpoint saved while its host was public, which now resolves to loopback (the receiver's)
    dns["crm.example.com"] = [PUBLIC]
    endpoint = WebhookEndpoint(
        tenant=tenant, name="CRM", url=f"http://crm.example.com:{receiver.port}/hooks", events=[EventType.RATING_GIVEN]
    )
    endpoint.full_clean()
    endpoint.save()
    receiver.secret = endpoint.secret
    dns["crm.example.com"] = ["127.0.0.1"]

    # when
    [refused] = services.record_event(tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=dict)
    services.deliver(refused.pk)

    # then it was not sent
    refused.refresh_from_db()
    assert receiver.received == []
    assert "crm.example.com" in refused.last_error

    # and the same host, listed as allowed, is sent to the address that was checked
    settings.WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["crm.example.com"]
    services.deliver(refused.pk, now=refused.next_attempt_at)
    refused.refresh_from_db()
    assert refused.status == WebhookDelivery.Status.DELIVERED
    assert len(receiver.accepted()) == 1


def test_an_https_attempt_checks_the_address_it_connects_to_as_well(dns, strict):
    # given a host that now resolves to loopback
    dns["secure.example.com"] = ["127.0.0.1"]

    # when
    answer = services.post(url="https://secure.example.com:8443/hooks", body=b"{}", headers={})

    # then no connection was tried
    assert answer.code is None
    assert answer.error.startswith("RefusedAddress:") and "127.0.0.1" in answer.error
