"""The access matrix, generated: every URL pattern and WebSocket route (read from the resolvers) x every role.

Each route has an expected audience below; a route added without one fails the suite. For each HTTP
route, objects of tenant A fill its parameters and every role asks for it: those the audience admits
get an answer (not a login page, not a refusal, never a server error), everyone else a refusal (a
login page, 403 or 404). An agent who is not trained for tenant A gets the same answer for A's objects
as for ones that do not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts import roles
from chatops.routing import websocket_urlpatterns
from conversations.models import Conversation, Visitor
from tenants.models import ChangeNotice
from tests import factories

pytestmark = pytest.mark.django_db

PUBLIC, SIGNED_IN, DASHBOARD, MANAGER = "public", "signed-in", "dashboard", "manager"
# Any agent (their own console), or an agent trained for the tenant whose object the address names.
AGENT, AGENT_OF_A = "agent", "agent of A"
# The console API's catch-all: a JSON 404 for any address it does not know.
NOBODY = "nobody"
ROLES = ("anonymous", "agent of A", "agent of B only", "client of A", "client of B", "operations manager")
# Who each audience admits (a dashboard is a client user's own, or any for a manager).
ADMITTED = {
    PUBLIC: set(ROLES),
    SIGNED_IN: set(ROLES) - {"anonymous"},
    AGENT: {"agent of A", "agent of B only"},
    AGENT_OF_A: {"agent of A"},
    DASHBOARD: {"client of A", "client of B", "operations manager"},
    MANAGER: {"operations manager"},
    NOBODY: set(),
}

# Every route outside the admin, by its pattern. The admin's (admin/…) are the operations managers' only,
# but for its login, logout and scripts.
EXPECTED_HTTP = {
    "": SIGNED_IN,
    "accounts/login/": PUBLIC,
    "accounts/logout/": PUBLIC,
    "accounts/password_change/": SIGNED_IN,
    "accounts/password_change/done/": SIGNED_IN,
    "accounts/password_reset/": PUBLIC,
    "accounts/password_reset/done/": PUBLIC,
    "accounts/reset/<uidb64>/<token>/": PUBLIC,
    "accounts/reset/done/": PUBLIC,
    "i18n/setlang/": PUBLIC,
    "widget.js": PUBLIC,
    "widget/<str:key>/config": PUBLIC,  # by key and origin (tests/conversations/test_widget_origins.py)
    "widget/<str:key>/offline-message": PUBLIC,
    "console/": AGENT,
    "console/api/notices/": AGENT,
    "console/api/notices/<int:notice_id>/acknowledge/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/context/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/visitor/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/search/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/canned/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/notes/": AGENT_OF_A,
    "console/api/chats/<int:conversation_id>/tags/": AGENT_OF_A,
    "^console/api/": NOBODY,
    "dashboard/": DASHBOARD,
    "operations/board/": MANAGER,
    "console/fame/": AGENT,
    "favicon.ico": PUBLIC,
    # The clients' systems' API answers an API token, never a session: no role here gets in.
    "api/v1/leads/": NOBODY,
    "api/v1/leads/<int:pk>/": NOBODY,
    "api/v1/conversations/": NOBODY,
    "api/v1/conversations/<int:pk>/": NOBODY,
    "api/v1/handoffs/": NOBODY,
    "api/v1/handoffs/<int:pk>/": NOBODY,
    "api/v1/ratings/": NOBODY,
    "api/v1/kpis/": NOBODY,
    "api/v1/knowledge/articles/": NOBODY,
    # The API's description and its docs page hold no data: a client's developer reads them before a token.
    "api/schema/": PUBLIC,
    "api/docs/": PUBLIC,
}
ADMIN_PUBLIC = {"admin/login/", "admin/logout/", "admin/r/<int:content_type_id>/<path:object_id>/"}
EXPECTED_WEBSOCKET = {
    "ws/widget/<str:key>/": PUBLIC,  # by key and origin, then the visitor's signed token
    "ws/console/": AGENT,
    "ws/operations/": MANAGER,
    "ws/dashboard/": DASHBOARD,
    "ws/operations/board/": MANAGER,
}
# Routes whose GET answers "method not allowed" to everyone: what matters is that no one gets further.
POST_ONLY = {"console/api/notices/<int:notice_id>/acknowledge/", "admin/logout/", "i18n/setlang/"}


def http_routes(patterns=None, prefix: str = "") -> Iterator[str]:
    """Yield every HTTP route of the project, as the resolvers know them (prefixes joined)."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from http_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def websocket_routes() -> list[str]:
    return [str(entry.pattern) for entry in websocket_urlpatterns]


def audience(route: str) -> str:
    if route.startswith("admin/") or route.startswith("^admin/"):
        return PUBLIC if route in ADMIN_PUBLIC else MANAGER
    return EXPECTED_HTTP[route]


def test_every_http_route_has_an_expected_audience():
    routes = list(http_routes())

    unknown = [route for route in routes if not route.startswith("admin/") and route not in EXPECTED_HTTP]
    gone = sorted(set(EXPECTED_HTTP) - set(routes))

    assert len(routes) > 100
    assert unknown == [], "add each new route to EXPECTED_HTTP with who may use it"
    assert gone == []


def test_every_websocket_route_has_an_expected_audience():
    assert sorted(websocket_routes()) == sorted(EXPECTED_WEBSOCKET)


# --- Asking every route as every role ------------------------------------------------------------

PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<group>\w+)>[^)]*\)")


def fill(route: str, objects: dict[str, str]) -> str:
    """Return the route's address with each parameter filled from ``objects`` (by name; "1" otherwise)."""

    def value(match: re.Match) -> str:
        return objects.get(match.group("name") or match.group("group"), "1")

    path = PARAMETER.sub(value, route)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "")


@pytest.fixture
def world(tenant, other_tenant):
    """Return tenant A's objects (by route parameter) and a client logged in as each role."""
    conversation = Conversation.objects.create(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))
    notice = ChangeNotice.objects.create(tenant=tenant, title="New prices", body="From Monday")
    logins = {
        "agent of A": factories.make_agent(trained_for=[tenant], display_name="Anna").user,
        "agent of B only": factories.make_agent(trained_for=[other_tenant], display_name="Bea").user,
        "client of A": factories.make_client_user(tenant=tenant).user,
        "client of B": factories.make_client_user(tenant=other_tenant).user,
        "operations manager": factories.make_user(role=roles.OPERATIONS_MANAGER),
    }
    clients = {"anonymous": Client()}
    for role, user in logins.items():
        clients[role] = Client()
        clients[role].force_login(user)
    objects = {
        "conversation_id": str(conversation.pk),
        "notice_id": str(notice.pk),
        "object_id": str(conversation.pk),
        "key": tenant.widget_key,
        "app_label": "conversations",
    }
    return objects, clients


def refused(response) -> bool:
    """Say whether the answer keeps the asker out: a login page, 401, 403 or 404."""
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and "login" in response.get("Location", "")


@pytest.mark.parametrize("route", [route for route in http_routes() if not route.startswith("admin/")])
def test_each_role_gets_what_the_route_promises(world, route):
    objects, clients = world
    address = fill(route, objects)

    answers = {role: clients[role].get(address) for role in ROLES}

    assert all(answer.status_code < 500 for answer in answers.values()), address
    if route in POST_ONLY:
        return
    admitted = ADMITTED[audience(route)]
    wrong = {role: answer.status_code for role, answer in answers.items() if refused(answer) == (role in admitted)}
    if route.startswith("widget/"):  # no page origin: refused to everyone alike, by design
        wrong = {}
    assert wrong == {}, f"{address}: these roles got the wrong answer"


def test_the_admin_lets_in_nobody_but_operations_managers(world):
    objects, clients = world
    routes = [route for route in http_routes() if route.startswith("admin/") and route not in ADMIN_PUBLIC]

    for route in routes:
        address = fill(route, objects)
        for role in ROLES:
            answer = clients[role].get(address)
            assert answer.status_code < 500, (address, role)
            if role != "operations manager":
                assert refused(answer), (address, role, answer.status_code)


@pytest.mark.parametrize("endpoint", ["context", "visitor", "search", "canned", "notes", "tags"])
def test_an_untrained_agent_gets_the_same_answer_for_a_chat_of_a_and_one_that_does_not_exist(world, endpoint):
    objects, clients = world
    bea = clients["agent of B only"]

    theirs = bea.get(f"/console/api/chats/{objects['conversation_id']}/{endpoint}/")
    missing = bea.get(f"/console/api/chats/987654321/{endpoint}/")

    assert (theirs.status_code, theirs.content) == (missing.status_code, missing.content)
    assert theirs.status_code == 404
