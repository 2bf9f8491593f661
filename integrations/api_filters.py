"""A list's time window: ``since`` (included) and ``until`` (excluded), moments with their offset, on the
field the list is paged by, so a client fetches what came after its last sync and pages through it."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework import filters, serializers
from rest_framework.request import Request

ERROR_MOMENT = _("Give a moment in ISO 8601 with its offset, e.g. 2026-12-01T00:00:00+02:00.")
ERROR_UNTIL_BEFORE_SINCE = _("until must be after since.")


def _moment(request: Request, field: str) -> dt.datetime | None:
    text = request.query_params.get(field)
    if text is None:
        return None
    try:
        moment = parse_datetime(text)
        if moment is None or moment.tzinfo is None:
            raise ValueError(text)
        return moment.astimezone(dt.UTC)  # a moment that has no UTC date (year 0 or 10000) is refused here
    except (ValueError, OverflowError):
        raise serializers.ValidationError({field: [str(ERROR_MOMENT)]}) from None


def paged_by(view) -> str:
    """Return the field a list view is paged by (its pagination's first ordering, without the sign)."""
    return view.pagination_class.ordering[0].lstrip("-")


class TimeWindow(filters.BaseFilterBackend):
    """Narrow a list to the rows whose paging time is in [since, until)."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view) -> QuerySet:
        since, until = _moment(request, "since"), _moment(request, "until")
        if since is not None and until is not None and until <= since:
            raise serializers.ValidationError({"until": [str(ERROR_UNTIL_BEFORE_SINCE)]})
        field = paged_by(view)
        if since is not None:
            queryset = queryset.filter(**{f"{field}__gte": since})
        if until is not None:
            queryset = queryset.filter(**{f"{field}__lt": until})
        return queryset

    def get_schema_operation_parameters(self, view) -> list[dict]:
        field = paged_by(view)
        return [
            {
                "name": name,
                "required": False,
                "in": "query",
                "description": f"{what} ({field}), ISO 8601 with its offset.",
                "schema": {"type": "string", "format": "date-time"},
            }
            for name, what in (("since", "Rows from this moment on"), ("until", "Rows before this moment"))
        ]
