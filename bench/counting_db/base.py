"""PostgreSQL's Django backend, counting every statement per text, and BEGIN, COMMIT and ROLLBACK.

A statement is counted by its template (with %s), so each kind of statement is one line. psycopg sends
BEGIN itself before a transaction's first statement, a round trip of its own, so Django's start of a
transaction counts as one. The counts are the process's since it started (`bench.counting_urls` serves them).
"""

from __future__ import annotations

import threading
from collections import Counter

from django.db.backends.postgresql import base

COUNTS: Counter[str] = Counter()
_lock = threading.Lock()


def count(statement: str) -> None:
    with _lock:
        COUNTS[statement] += 1


def snapshot() -> dict[str, int]:
    """Return the counts so far (a copy, taken under the lock)."""
    with _lock:
        return dict(COUNTS)


def _counting_execute(execute, sql, params, many, context):
    count(sql)
    return execute(sql, params, many, context)


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(_counting_execute)

    def set_autocommit(self, autocommit, force_begin_transaction_with_broken_autocommit=False):
        if not autocommit:
            count("BEGIN")
        super().set_autocommit(autocommit, force_begin_transaction_with_broken_autocommit)

    def commit(self):
        count("COMMIT")
        super().commit()

    def rollback(self):
        count("ROLLBACK")
        super().rollback()
