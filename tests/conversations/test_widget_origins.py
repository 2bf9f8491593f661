"""Which pages may run a tenant's widget: its sites, and chatops' own origins exactly (issue 12, points 8-10)."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from chatops.asgi import application
from conversations import access
from tests import factories
from tests.conversations.sockets import close_consumer_thread_connections  # noqa: F401 (an autouse fixture)

SITE = "https://www.kahvila.example"
OWN = "https://chat.example.com"


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Kahvila Oy", slug="kahvila-shop", allowed_origins=SITE)


@pytest.fixture
def own_origin(settings):
    settings.OWN_ORIGINS = [OWN]
    settings.ALLOWED_HOSTS = ["chat.example.com", "testserver"]


@pytest.mark.parametrize(
    ("origin", "own"),
    [
        (OWN, True),
        (OWN + ":443", True),
        ("HTTPS://Chat.Example.com", True),
        ("http://chat.example.com", False),
        ("https://chat.example.com:8443", False),
        ("https://evil.chat.example.com", False),
        ("https://chat.example.com.evil.example", False),
        ("https://chat.example.com:99999", False),
        ("null", False),
        ("", False),
    ],
)
def test_own_origin_is_scheme_host_and_port_exactly(own_origin, origin, own):
    assert access.is_own_origin(origin) is own


def test_a_wildcard_in_allowed_hosts_makes_no_site_chatops_own(settings, shop):
    settings.ALLOWED_HOSTS = ["*"]
    settings.OWN_ORIGINS = [OWN]

    assert access.is_own_origin("https://evil.example") is False
    with pytest.raises(access.AccessDenied):
        access.access_tenant_for_widget(widget_key=shop.widget_key, origin="https://evil.example")


def test_a_page_on_an_allowed_host_at_another_port_gets_no_widget_settings(client, own_origin, shop):
    response = client.get(f"/widget/{shop.widget_key}/config", headers={"origin": "http://chat.example.com:8080"})

    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_page_on_an_allowed_host_at_another_port_gets_no_widget_socket(own_origin, shop):
    widget = WebsocketCommunicator(
        application, f"/ws/widget/{shop.widget_key}/", headers=[(b"origin", b"http://chat.example.com:8080")]
    )
    await widget.connect()

    assert (await widget.receive_json_from())["code"] == "origin_not_allowed"


def test_chatops_own_page_gets_the_settings_without_an_origin_when_the_browser_says_same_origin(
    client, own_origin, shop
):
    # (browsers send no Origin on a same-origin GET, but always Sec-Fetch-Site, which pages cannot set)
    response = client.get(
        f"/widget/{shop.widget_key}/config",
        headers={"sec-fetch-site": "same-origin", "host": "chat.example.com"},
        secure=True,
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Kahvila Oy"


@pytest.mark.parametrize("fetch_site", ["cross-site", "same-site", "none", ""])
def test_a_request_without_an_origin_from_anywhere_else_gets_no_settings(client, own_origin, shop, fetch_site):
    headers = {"host": "chat.example.com"} | ({"sec-fetch-site": fetch_site} if fetch_site else {})

    response = client.get(f"/widget/{shop.widget_key}/config", headers=headers, secure=True)

    assert response.status_code == 403


def test_same_origin_on_a_host_that_is_not_chatops_own_gets_no_settings(client, settings, shop):
    settings.OWN_ORIGINS = [OWN]
    settings.ALLOWED_HOSTS = ["other.example.com"]

    response = client.get(
        f"/widget/{shop.widget_key}/config",
        headers={"sec-fetch-site": "same-origin", "host": "other.example.com"},
        secure=True,
    )

    assert response.status_code == 403


@pytest.mark.parametrize("key", ["wk_nobody", "§"])
def test_an_unknown_key_is_a_refusal_the_page_can_read(client, shop, key):
    response = client.get(f"/widget/{key}/config", headers={"origin": "https://anywhere.example"})

    assert response.status_code == 404
    assert response["Access-Control-Allow-Origin"] == "https://anywhere.example"
    assert response.json()["error"]["code"] == "unknown_key"
    assert response.json()["error"]["message"]


def test_a_site_not_allowed_gets_a_refusal_it_can_read_but_no_settings(client, shop):
    response = client.get(f"/widget/{shop.widget_key}/config", headers={"origin": "https://evil.example"})

    assert response.status_code == 403
    assert response["Access-Control-Allow-Origin"] == "https://evil.example"
    assert set(response.json()) == {"error"}
