"""The product's URLs plus the bench's statement counts (`bench.counting_settings` only)."""

from django.http import JsonResponse
from django.urls import include, path

from bench.counting_db.base import snapshot


def counts(request):
    """Answer the statements this process has run since it started, by text."""
    return JsonResponse({"statements": snapshot()})


urlpatterns = [
    path("bench/sql-counts/", counts),
    path("", include("chatops.urls")),
]
