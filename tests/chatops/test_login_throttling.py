"""Guessing passwords is stopped: a lockout per username and address after a few failures (issue 12, point 6)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts import roles
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN_PAGES = ["/accounts/login/", "/admin/login/"]


def try_password(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR="203.0.113.7")


@pytest.mark.parametrize("url", LOGIN_PAGES)
def test_thirty_wrong_passwords_lock_the_login_and_then_the_right_one_is_refused(client, url):
    # given
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)

    # when someone guesses thirty times, then tries the right password
    for attempt in range(30):
        try_password(client, url, manager.username, f"guess-{attempt}")
    response = try_password(client, url, manager.username, factories.PASSWORD)

    # then they are refused with a clear message, and not logged in
    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_per_username_and_address(client, settings):
    # given a lockout of the manager's login from one address
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, LOGIN_PAGES[0], manager.username, f"guess-{attempt}")

    # when the same person logs in from another address, and another login from the same one
    elsewhere = Client().post(
        LOGIN_PAGES[0], {"username": manager.username, "password": factories.PASSWORD}, REMOTE_ADDR="198.51.100.2"
    )
    colleague = factories.make_user(role=roles.AGENT)
    same_address = try_password(Client(), LOGIN_PAGES[0], colleague.username, factories.PASSWORD)

    # then both get in
    assert elsewhere.status_code == 302
    assert same_address.status_code == 302


def test_a_few_mistakes_below_the_limit_do_not_lock(client, settings):
    manager = factories.make_user(role=roles.OPERATIONS_MANAGER)
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        try_password(client, LOGIN_PAGES[0], manager.username, f"guess-{attempt}")

    response = try_password(client, LOGIN_PAGES[0], manager.username, factories.PASSWORD)

    assert response.status_code == 302


def test_an_operations_manager_unlocks_a_login_in_the_admin(client, settings):
    # given a locked-out agent
    agent_user = factories.make_user(role=roles.AGENT)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        try_password(client, LOGIN_PAGES[0], agent_user.username, f"guess-{attempt}")
    assert try_password(client, LOGIN_PAGES[0], agent_user.username, factories.PASSWORD).status_code == 429
    manager_client = Client()
    manager_client.force_login(factories.make_user(role=roles.OPERATIONS_MANAGER))

    # when the manager finds the lockout in the admin and deletes it
    from axes.models import AccessAttempt

    changelist = manager_client.get(reverse("admin:axes_accessattempt_changelist"))
    attempt = AccessAttempt.objects.get(username=agent_user.username)
    deleted = manager_client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})

    # then the agent gets in again
    assert changelist.status_code == 200 and agent_user.username in changelist.content.decode()
    assert deleted.status_code == 302
    assert try_password(client, LOGIN_PAGES[0], agent_user.username, factories.PASSWORD).status_code == 302


def test_agents_cannot_see_or_lift_lockouts(client, agent):
    client.force_login(agent.user)

    response = client.get(reverse("admin:axes_accessattempt_changelist"))

    assert response.status_code == 302
