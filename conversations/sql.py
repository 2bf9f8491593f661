"""The SQL that PostgreSQL and SQLite (the embedded default) write differently, in one place.

Everything else goes through the ORM or writes SQL both read alike. Where they differ (a data-modifying
WITH, a share lock, the seconds between two moments, the planner's statistics, how many parameters a
statement may bind, RETURNING on an old SQLite) a function here says what each needs. Callers pass
table and column names quoted already (``connection.ops.quote_name``) and every value as a parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import IntegrityError, NotSupportedError, connection, transaction

POSTGRESQL, SQLITE = "postgresql", "sqlite"
# The most values one statement of ours binds on SQLite (its limit was 999 before 3.32), with a margin.
SQLITE_MAX_PARAMETERS = 990

# The seconds from one moment to a later one. SQLite reads moments to the millisecond.
SECONDS_SQL = {
    POSTGRESQL: "date_part('epoch', {later} - {earlier})",
    SQLITE: "ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)",
}


def vendor() -> str:
    """Return the database in use, "postgresql" or "sqlite"; raise NotSupportedError for any other."""
    if connection.vendor not in (POSTGRESQL, SQLITE):
        raise NotSupportedError(f"chatops runs on PostgreSQL and SQLite, not {connection.vendor}.")
    return connection.vendor


def is_postgresql() -> bool:
    """Say whether the database in use is PostgreSQL (else it is the embedded SQLite)."""
    return vendor() == POSTGRESQL


def share_lock() -> str:
    """Return the clause that share-locks the rows a SELECT reads until commit.

    SQLite has none and needs none: a writer there holds the whole database.
    """
    return " FOR SHARE" if is_postgresql() else ""


def seconds_sql(vendor: str, *, later: str, earlier: str) -> str:
    """Return SQL for the seconds from ``earlier`` to ``later`` (two SQL expressions of moments)."""
    if vendor not in SECONDS_SQL:
        raise NotSupportedError(f"The KPIs are written for PostgreSQL and SQLite, not {vendor}.")
    return SECONDS_SQL[vendor].format(later=later, earlier=earlier)


def batch_size_for(*, values_per_row: int, wanted: int) -> int:
    """Return how many rows of ``values_per_row`` parameters to bind in one statement, at most ``wanted``."""
    if is_postgresql():
        return wanted
    return max(1, min(wanted, SQLITE_MAX_PARAMETERS // values_per_row))


def analyze(tables: Iterable[str]) -> None:
    """Let PostgreSQL's planner see the tables as they are now (ANALYZE); SQLite plans without it."""
    if not is_postgresql():
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _values(rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    width = len(rows[0])
    placeholders = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(rows))
    return placeholders, [value for row in rows for value in row]


def _needs_returning() -> None:
    if not connection.features.can_return_columns_from_insert:
        raise NotSupportedError("This SQLite is too old for RETURNING (3.35 or later is needed).")


def insert_ignoring_conflicts(
    *, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], returning: Sequence[str]
) -> list[tuple]:
    """Insert the rows a unique constraint does not hold already; return ``returning`` of those inserted."""
    _needs_returning()
    placeholders, params = _values(rows)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {', '.join(returning)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [tuple(row) for row in cursor.fetchall()]


def insert_or_add(*, table: str, columns: Sequence[str], key: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert the rows; where a row of the same ``key`` exists, add the other columns' values to it instead."""
    placeholders, params = _values(rows)
    added = [column for column in columns if column not in key]
    statement = (
        f"INSERT INTO {table} AS present ({', '.join(columns)}) VALUES {placeholders} "  # noqa: S608
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{column} = present.{column} + excluded.{column}" for column in added)
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def update_then_insert(
    *,
    update: str,
    update_params: Sequence[Any],
    table: str,
    columns: Sequence[str],
    copied: Sequence[str],
    values: Sequence[tuple[Any, str]],
) -> tuple | None:
    """Run an ``UPDATE … RETURNING`` of one row and insert a row made from it, both or neither.

    The inserted row's ``columns`` take first the updated row's returned columns named in ``copied``,
    then ``values`` ((value, SQL type) pairs). Return the inserted row's id followed by the update's
    returned row; None when the update matched no row, the insert met a unique constraint (nothing is
    kept), or the database cannot return rows (the caller then takes its slow path).

    On PostgreSQL this is one statement (a data-modifying WITH, atomic by itself, so no BEGIN or COMMIT
    outside a transaction); on SQLite, which has no data-modifying WITH, two in a transaction, the
    insert made idempotent by ``ON CONFLICT DO NOTHING`` and rolled back with the update on a conflict.
    """
    if not connection.features.can_return_columns_from_insert:
        return None
    params = [value for value, _sql_type in values]
    if not is_postgresql():
        placeholders = ", ".join(["%s"] * len(columns))
        insert = (
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders}) "  # noqa: S608
            "ON CONFLICT DO NOTHING RETURNING id"
        )
        return _update_then_insert_in_two_statements(update, list(update_params), insert, copied, params)
    # Cast each value: in an INSERT … SELECT PostgreSQL cannot tell a parameter's type from its column.
    selected = [*copied, *(f"CAST(%s AS {sql_type})" for _value, sql_type in values)]
    statement = (
        f"WITH updated AS ({update}), inserted AS (INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM updated RETURNING id) "
        "SELECT inserted.id, updated.* FROM inserted CROSS JOIN updated"
    )
    try:
        # Inside a transaction a failed statement would spoil it: let it fail in a savepoint of its own.
        savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
        with savepoint, connection.cursor() as cursor:
            cursor.execute(statement, [*update_params, *params])
            row = cursor.fetchone()
    except IntegrityError:
        return None  # a twin that raced this one: stored once, by the other
    return None if row is None else tuple(row)


def _update_then_insert_in_two_statements(
    update: str, update_params: list[Any], insert: str, copied: Sequence[str], params: list[Any]
) -> tuple | None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(update, update_params)
        updated = cursor.fetchone()
        if updated is None:
            return None
        by_name = dict(zip((column[0] for column in cursor.description), updated, strict=True))
        cursor.execute(insert, [*(by_name[name] for name in copied), *params])
        inserted = cursor.fetchone()
        if inserted is None:
            transaction.set_rollback(True)
            return None
    return (inserted[0], *updated)
