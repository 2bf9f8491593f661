"""End to end: the API's docs page draws Swagger UI in Chromium from this server's own files and schema."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.services, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_page_shows_every_route_with_nothing_fetched_from_elsewhere(live_server_daphne, page):
    # given: every request the page makes is noted
    server = live_server_daphne
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # when
    page.goto(f"{server.url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)

    # then: Swagger UI lists the API's operations, and nothing came from another host
    paths = {element.inner_text().replace("\u200b", "") for element in page.query_selector_all(".opblock-summary-path")}
    assert {"/api/v1/leads/", "/api/v1/leads/{id}/", "/api/v1/kpis/", "/api/v1/knowledge/articles/"} <= paths
    assert requested and all(url.startswith(server.url) or url.startswith("data:") for url in requested), requested
