"""SQL building blocks of the KPIs, one per vendor where PostgreSQL and SQLite differ.

The KPIs are written for PostgreSQL (production and CI) and SQLite (the embedded default). Each helper
here says how it reads on both; ``tests/reporting/test_sql.py`` checks each on the database the suite
runs on, and the KPI tests run again on SQLite.
"""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Sequence
from typing import Any

from django.db import NotSupportedError
from django.db.models import FloatField, Func, IntegerField, Q
from django.db.models.aggregates import Aggregate
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay

# The seconds from one moment to a later one, per database. SQLite reads moments to the millisecond.
SECONDS_SQL = {
    "postgresql": "date_part('epoch', {later} - {earlier})",
    "sqlite": "ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)",
}


def seconds_sql(vendor: str, *, later: str, earlier: str) -> str:
    """Return SQL for the seconds from ``earlier`` to ``later`` (two SQL expressions of moments)."""
    if vendor not in SECONDS_SQL:
        raise NotSupportedError(f"The KPIs are written for PostgreSQL and SQLite, not {vendor}.")
    return SECONDS_SQL[vendor].format(later=later, earlier=earlier)


class Seconds(Func):
    """The seconds from ``earlier`` to ``later`` as a float; NULL when either is."""

    output_field = FloatField()
    arity = 2

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)

    def as_sql(self, compiler, connection, **extra_context):
        later, earlier = self.get_source_expressions()
        later_sql, later_params = compiler.compile(later)
        earlier_sql, earlier_params = compiler.compile(earlier)
        sql = seconds_sql(connection.vendor, later=later_sql, earlier=earlier_sql)
        return sql, (*later_params, *earlier_params)


class LocalHourOfWeek(Func):
    """The hour of the week (0 = Monday 00:00-00:59 ... 167 = Sunday 23:xx) of a moment in a zone."""

    output_field = IntegerField()
    arity = 1

    def __init__(self, expression: Any, *, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra_context):
        # Elsewhere (SQLite) Django's own functions convert the moment twice, which is fine there.
        (expression,) = self.get_source_expressions()
        weekday = ExtractIsoWeekDay(expression, tzinfo=self.zone)
        hour = ExtractHour(expression, tzinfo=self.zone)
        return compiler.compile(((weekday - 1) * 24 + hour).resolve_expression(compiler.query))

    def as_postgresql(self, compiler, connection, **extra_context):
        # One conversion per row: whole local hours since 1970-01-01 00:00, a Thursday (72 h after Monday).
        (expression,) = self.get_source_expressions()
        sql, params = compiler.compile(expression)
        template = "mod(floor(date_part('epoch', {} AT TIME ZONE %s) / 3600)::bigint + 72, 168)::integer"
        return template.format(sql), (*params, self.zone.key)


class PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile of a numeric expression (linear interpolation)."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, *, fraction: float, filter: Q | None = None) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("A percentile is a fraction from 0 to 1.")
        super().__init__(expression, filter=filter, fraction=repr(float(fraction)))

    def as_sqlite(self, compiler, connection, **extra_context):
        raise NotSupportedError("SQLite has no percentile_cont; fetch the values and use percentile().")


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Return the continuous percentile of the values, as PostgreSQL's percentile_cont; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)
