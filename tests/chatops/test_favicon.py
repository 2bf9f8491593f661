"""Every page names its icon, served by the static files; a browser asking /favicon.ico finds it too."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tenants.models import Tenant
from tests import factories

pytestmark = pytest.mark.django_db

ICON_LINK = re.compile(r'<link rel="icon" href="/static/(chatops/favicon\.(?:svg|ico))"')


def pages(client, ops_manager, agent, tenant) -> dict[str, str]:
    """Return the HTML of one page of each base template, each as the person who uses it."""
    seen = {"login": client.get(reverse("login")).content.decode()}
    seen["admin login"] = client.get(reverse("admin:login")).content.decode()
    client.force_login(ops_manager)
    seen["admin"] = client.get(reverse("admin:index")).content.decode()
    seen["board"] = client.get("/operations/board/").content.decode()
    preview = reverse("admin:tenants_tenant_widget_preview", args=[tenant.pk])
    seen["widget preview"] = client.get(preview).content.decode()
    client.force_login(agent.user)
    seen["console"] = client.get(reverse("console")).content.decode()
    client.force_login(factories.make_client_user(tenant=tenant).user)
    seen["dashboard"] = client.get("/dashboard/").content.decode()
    return seen


def test_every_base_template_links_the_icon_and_the_static_files_have_it(client, ops_manager, agent, tenant):
    # given
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.LIVE)

    # when
    seen = pages(client, ops_manager, agent, tenant)

    # then each page links both icons, and both are static files that exist
    for name, page in seen.items():
        linked = set(ICON_LINK.findall(page))
        assert linked == {"chatops/favicon.svg", "chatops/favicon.ico"}, name
    for path in ("chatops/favicon.svg", "chatops/favicon.ico"):
        found = finders.find(path)
        assert found, path
    with open(finders.find("chatops/favicon.ico"), "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO file's header


def test_a_browser_that_asks_for_favicon_ico_is_sent_to_the_icon(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/chatops/favicon.ico"
