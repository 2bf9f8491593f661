"""The chat load bench at its smallest: every message it sends is stored once and reaches a console once.

No timing here (`bench/chat_load.py` prints its figures); this keeps the load client, its product adapter
and the bare relay from rotting as the protocol changes. The bench runs as it does from the command line,
on the test database, with a Redis of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import database_url_of_test_db

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent.parent
MESSAGES = 12


def test_the_bench_stores_and_delivers_every_message_once_in_the_product_and_the_baseline(tmp_path):
    # given the bench pointed at the test database, at its smallest: 4 chats, 2 consoles, 12 messages each system
    figures = tmp_path / "figures.json"
    command = [sys.executable, "bench/chat_load.py", "--quick", "--scenarios", "fixed", "--json", str(figures)]
    command += ["--conversations", "4", "--agents", "2", "--rate", str(MESSAGES), "--duration", "1", "--drain", "10"]

    # when it runs the product and then the baseline
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "BENCH_DATABASE_URL": database_url_of_test_db()},
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then both ran, and every id sent was acknowledged, stored once and reached a console once
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    runs = json.loads(figures.read_text())["runs"]
    assert [run["system"] for run in runs] == ["product", "baseline"]
    for run in runs:
        step = run["steps"][0]
        counts = [step[key] for key in ("offered", "sent", "acked", "stored", "delivered")]
        assert counts == [MESSAGES] * 5, (run["system"], step)
        assert [step[key] for key in ("undelivered", "doubled", "stored_twice", "unanswered", "acked_not_stored")] == [
            0
        ] * 5, (run["system"], step)
        assert step["refused"] == {}, (run["system"], step)
        assert step["latency_ms"]["count"] == MESSAGES

    # and the costs per message were counted: the baseline's one statement and one PUBLISH; the product's
    # statements (at least the one that stores) and its Redis commands (at least the PUBLISH)
    product, baseline = (run["steps"][0]["per_message"] for run in runs)
    assert baseline["sql_statements"] == 1 and baseline["sql_begin_commit"] == 0
    assert baseline["redis"] == {"publish": 1}
    assert product["sql_statements"] >= 1
    assert product["redis_commands"] >= 1
