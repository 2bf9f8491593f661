"""`manage.py seed_demo` on a new user's embedded default, in processes of its own.

Apart from tests/chatops/test_seed_demo.py, whose module seeds PostgreSQL first: this test needs none of
that, so it can run on another pytest-xdist worker meanwhile (tests/parallel.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.chatops.test_seed_demo import SUMMARY_LINE


def test_the_command_seeds_a_fresh_sqlite_database(tmp_path):
    # given a new user's embedded default: a fresh SQLite file, no Redis
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "SITE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    base_dir = Path(settings.BASE_DIR)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=base_dir, env=env, capture_output=True, text=True, timeout=300
        )

    migrated = manage("migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr

    # when the demo is seeded (two weeks of history, which is quicker and writes the same kinds of rows as
    # eight; test_seed_demo.py checks the whole history on PostgreSQL), and seeded again
    first = manage("seed_demo", "--weeks", "2")
    second = manage("seed_demo", "--weeks", "2")

    # then both succeed with the logins, and the second leaves the same counts
    assert first.returncode == 0, first.stderr
    assert SUMMARY_LINE in first.stdout
    assert "Demo data ready" in first.stdout
    # and no e-mail went to the console backend (the history's e-mails are recorded as sent long ago)
    assert "Subject:" not in first.stdout
    assert second.returncode == 0, second.stderr
    assert SUMMARY_LINE in second.stdout
    # and each live client has about two weeks of chats (15-40 a day)
    live = re.findall(r": live, (\d+) conversations", first.stdout)
    assert len(live) == 2
    assert all(14 * 15 <= int(chats) <= 14 * 40 for chats in live), live
    totals = first.stdout.split("Demo data ready in ")[1].split(": ", 1)[1].split(".\n")[0]
    assert f"Demo data already present ({totals})" in second.stdout

    # and the live chat's clocks, which `make demo` runs beside daphne, sweep that database without error
    swept = manage("live_timers", "--once")
    assert swept.returncode == 0, swept.stderr
