"""The console's own logic, in Node's built-in test runner: chat state, resync, the outbox, the connection, frames.

The tests are ES modules in tests/conversations/js/ (``*.test.mjs``) that import the console's modules exactly
as the browser loads them (no build step, no npm package). Each file runs as one pytest test; when one of its
JS tests fails, the failure lists each failing test by name with node's account of why. Without a node that
can load the modules the tests are skipped with the reason, or failed when REQUIRE_SERVICES=1 (as in CI).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.plugins import services_required, skip_or_fail

BASE_DIR = Path(__file__).resolve().parent.parent.parent
JS_TESTS = Path(__file__).resolve().parent / "js"
JS_TEST_FILES = sorted(JS_TESTS.glob("*.test.mjs"))
NODE_TIMEOUT_SECONDS = 120
# node:test with its TAP reporter; the console's folder has a package.json saying its .js files are ES modules.
NODE_NEEDED = "node 18.15 or newer"

_TAP_RESULT = re.compile(r"^(?P<indent>\s*)(?P<verdict>not ok|ok) \d+ - (?P<name>.*?)(?: # (?:SKIP|TODO)\b.*)?$")


def node_problem(node: str | None) -> str | None:
    """Say why the console's node tests cannot run here, or None when they can."""
    if node is None:
        return f"needs {NODE_NEEDED} on PATH (apt-get install -y nodejs) for the console's JS tests"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    found = re.match(r"v(\d+)\.(\d+)", version)
    if not found:
        return f"needs {NODE_NEEDED}; `node --version` said {version!r}"
    major, minor = int(found[1]), int(found[2])
    if (major, minor) >= (18, 15):
        return None
    return f"needs {NODE_NEEDED} for the console's JS tests; this is {version}"


@dataclass
class TapReport:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def read_tap(output: str) -> TapReport:
    """Return the JS tests that passed and those that failed, each failure with the lines node wrote about it."""
    report = TapReport()
    lines = output.splitlines()
    for index, line in enumerate(lines):
        result = _TAP_RESULT.match(line)
        if not result:
            continue
        name = result["name"]
        if result["verdict"] == "ok":
            report.passed.append(name)
            continue
        details = []
        for following in lines[index + 1 :]:
            if following.strip() == "...":
                break
            details.append(following)
        report.failed.append("\n".join([f"not ok - {name}", *details]))
    return report


def test_the_console_logic_has_node_tests():
    # then
    assert [path.name for path in JS_TEST_FILES] == [
        "chat_state.test.mjs",
        "connection.test.mjs",
        "format.test.mjs",
        "frames.test.mjs",
        "outbox.test.mjs",
        "sync.test.mjs",
    ]


@pytest.mark.parametrize("test_file", JS_TEST_FILES, ids=lambda path: path.name)
def test_console_logic_passes_its_node_tests(test_file: Path):
    # given
    node = shutil.which("node")
    problem = node_problem(node)
    if problem:
        skip_or_fail(problem, required=services_required(), switch="REQUIRE_SERVICES")

    # when
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", str(test_file)],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        cwd=BASE_DIR,
        check=False,
    )

    # then
    report = read_tap(result.stdout)
    failures = "\n\n".join(report.failed)
    assert not report.failed, f"{len(report.failed)} JS test(s) failed in {test_file.name}:\n\n{failures}"
    assert result.returncode == 0, f"node --test exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    assert report.passed, f"no JS test ran in {test_file.name}:\n{result.stdout}\n{result.stderr}"


def test_a_failing_js_test_is_reported_by_name(tmp_path):
    # given
    node = shutil.which("node")
    problem = node_problem(node)
    if problem:
        skip_or_fail(problem, required=services_required(), switch="REQUIRE_SERVICES")
    failing = tmp_path / "failing.test.mjs"
    failing.write_text(
        'import assert from "node:assert/strict";\nimport { test } from "node:test";\n'
        'test("a gap asks for a resync", () => assert.equal(1, 2));\ntest("this one passes", () => {});\n'
    )

    # when
    result = subprocess.run([node, "--test", "--test-reporter=tap", str(failing)], capture_output=True, text=True)
    report = read_tap(result.stdout)

    # then
    assert result.returncode != 0
    assert report.passed == ["this one passes"]
    assert len(report.failed) == 1
    assert report.failed[0].startswith("not ok - a gap asks for a resync")
    assert "expected: 2" in report.failed[0]
