"""Rate limits per token (a clear 429 with Retry-After, one token's use never slows another), and the
OpenAPI schema: served, valid, and shown on a docs page that needs nothing from outside the server."""

from __future__ import annotations

import json

import pytest
import yaml
from django.urls import reverse
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from integrations import api_tokens
from tests.integrations.api_helpers import NOW, api_client

pytestmark = pytest.mark.frozen_time(NOW)


def test_a_token_past_its_rate_gets_429_with_retry_after_and_another_token_goes_on(settings, tenant):
    # given a rate of three requests a minute
    settings.API_RATE_LIMIT = "3/min"
    busy = api_client(api_tokens.issue_token(tenant=tenant, name="busy")[1])
    calm = api_client(api_tokens.issue_token(tenant=tenant, name="calm")[1])

    # when
    answers = [busy.get(reverse("api:leads")).status_code for _ in range(4)]
    refused = busy.get(reverse("api:leads"))

    # then
    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert "seconds" in refused.json()["detail"]
    assert calm.get(reverse("api:leads")).status_code == 200


def test_the_rate_counts_across_clients_of_one_token(settings, tenant):
    settings.API_RATE_LIMIT = "2/min"
    key = api_tokens.issue_token(tenant=tenant, name="CRM")[1]

    statuses = [api_client(key).get(reverse("api:conversations")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def schema(fmt: str = "json") -> dict:
    answer = APIClient().get(reverse("api-schema"), {"format": fmt})
    assert answer.status_code == 200
    return json.loads(answer.content) if fmt == "json" else yaml.safe_load(answer.content)


def test_the_schema_is_valid_openapi_and_names_every_route(db):
    # given / when
    document = schema()

    # then
    validate(document)
    assert set(document["paths"]) >= {
        "/api/v1/leads/",
        "/api/v1/leads/{id}/",
        "/api/v1/conversations/",
        "/api/v1/conversations/{id}/",
        "/api/v1/handoffs/",
        "/api/v1/handoffs/{id}/",
        "/api/v1/ratings/",
        "/api/v1/kpis/",
        "/api/v1/knowledge/articles/",
    }
    assert "patch" in document["paths"]["/api/v1/leads/{id}/"]
    assert "post" in document["paths"]["/api/v1/knowledge/articles/"]
    assert {"from", "to", "week", "month"} <= {
        p["name"] for p in document["paths"]["/api/v1/kpis/"]["get"]["parameters"]
    }
    for listing in ("/api/v1/leads/", "/api/v1/conversations/", "/api/v1/handoffs/", "/api/v1/ratings/"):
        assert {"since", "until", "cursor"} <= {p["name"] for p in document["paths"][listing]["get"]["parameters"]}
    [scheme] = document["components"]["securitySchemes"].values()
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")


def test_the_schema_in_yaml_is_valid_too(db):
    # given the schema as YAML, when validated, then it is valid OpenAPI (validate raises otherwise)
    document = schema("yaml")
    validate(document)
    # and it says the same as the JSON one
    assert document == schema("json")


def test_the_docs_page_loads_its_scripts_from_this_server(db):
    answer = APIClient().get(reverse("api-docs"))

    assert answer.status_code == 200
    page = answer.content.decode()
    assert reverse("api-schema") in page
    assert "swagger-ui" in page
    scripts = [line for line in page.splitlines() if "<script src=" in line or "stylesheet" in line]
    assert scripts and not any("//cdn" in line or "https://" in line for line in scripts)
