"""Run a test module again on the embedded default (SQLite, no Redis), in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection


def rerun_module_on_sqlite(module_file: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run every test of ``module_file`` on a fresh SQLite database; skip when this already is that run.

    Returns the finished run; the caller asserts on it, so a failure there fails the caller's test.
    """
    if connection.vendor == "sqlite":
        pytest.skip("this is the SQLite run")
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "SITE_URL")}
    database = tmp_path / f"{Path(module_file).stem}.sqlite3"
    env.update(DATABASE_URL=f"sqlite:///{database}", REQUIRE_SERVICES="0", REQUIRE_BROWSER="0")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", module_file],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_all_passed(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
    assert " failed" not in run.stdout
