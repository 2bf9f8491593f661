"""Run test modules again on the embedded default (SQLite, no Redis), all in one process of their own.

A module asks for it with the ``sqlite_rerun`` fixture (tests/conftest.py): its last test calls
``assert_all_passed(sqlite_rerun.of(__file__))``. The first such test of the session runs every selected
module that asks, together, on one fresh SQLite database (one start-up and one set of migrations instead
of one per module); each module's test then passes or fails on its own module's results. On several
pytest-xdist workers the run is still made once: the first worker to need it runs it under a lock in a
folder all workers share and leaves the results there for the others.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# As long as each module had when it ran in a process of its own.
SECONDS_PER_MODULE = 300


@dataclass(frozen=True)
class ModuleRun:
    """One module's tests in the SQLite run: how many passed, which failed, and what the run printed."""

    module: str
    passed: int
    failures: tuple[str, ...]
    output: str


def _dotted(module_file: str | Path) -> str:
    relative = Path(module_file).resolve().relative_to(Path(settings.BASE_DIR).resolve())
    return ".".join(relative.with_suffix("").parts)


class SqliteReruns:
    """The SQLite run of the session's modules that ask for one, started by the first that needs it."""

    def __init__(self, modules: list[str], folder: Path) -> None:
        self.modules = sorted(set(modules))
        self.folder = folder
        self._results: dict[str, ModuleRun] | None = None
        self._output = ""

    def of(self, module_file: str) -> ModuleRun:
        """Return the module's results on SQLite, running the modules there first if nobody has yet."""
        if self._results is None:
            self._results = self._run_once()
        dotted = _dotted(module_file)
        return self._results.get(dotted) or ModuleRun(dotted, 0, (), self._output)

    def _run_once(self) -> dict[str, ModuleRun]:
        """Return the run's results: the ones another worker saved in the folder, or a new run's."""
        saved = self.folder / "rerun.json"
        with (self.folder / "rerun.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if saved.exists():
                stored = json.loads(saved.read_text())
                self._output = stored["output"]
                return {
                    module: ModuleRun(**(run | {"failures": tuple(run["failures"])}))
                    for module, run in stored["results"].items()
                }
            results = self._run()
            runs = {module: dataclasses.asdict(run) for module, run in results.items()}
            saved.write_text(json.dumps({"output": self._output, "results": runs}))
            return results

    def _run(self) -> dict[str, ModuleRun]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("REDIS_URL", "SITE_URL") and not key.startswith("PYTEST_XDIST_")
        }
        env.update(DATABASE_URL=f"sqlite:///{self.folder / 'rerun.sqlite3'}", REQUIRE_SERVICES="0", REQUIRE_BROWSER="0")
        report = self.folder / "rerun.xml"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *self.modules],
            cwd=Path(settings.BASE_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=SECONDS_PER_MODULE * len(self.modules),
        )
        self._output = run.stdout[-4000:] + run.stderr[-2000:]
        if not report.exists():
            return {}
        dotted = [_dotted(module) for module in self.modules]
        passed: dict[str, int] = {}
        failures: dict[str, list[str]] = {}
        for case in ET.parse(report).iter("testcase"):  # noqa: S314 (our own pytest's report)
            classname = case.get("classname", "")
            module = next((m for m in dotted if classname == m or classname.startswith(m + ".")), "")
            outcome = {child.tag for child in case}
            if outcome & {"failure", "error"}:
                failures.setdefault(module, []).append(case.get("name", ""))
            elif "skipped" not in outcome:
                passed[module] = passed.get(module, 0) + 1
        return {
            module: ModuleRun(module, passed.get(module, 0), tuple(failures.get(module, ())), self._output)
            for module in set(passed) | set(failures)
        }


def assert_all_passed(run: ModuleRun) -> None:
    assert run.passed > 0, f"no test of {run.module} passed on SQLite:\n{run.output}"
    assert run.failures == (), f"{run.module} failed on SQLite: {', '.join(run.failures)}\n{run.output}"
