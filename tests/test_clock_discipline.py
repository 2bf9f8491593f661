"""Tests that need "now" freeze it: a fixed moment never meets the real clock in one test.

A module that names a fixed moment at its top (``NOW = dt.datetime(...)``) and passes it to some calls
while others read ``timezone.now()`` passes on the day it is written and fails later (main was red from
2026-11-23 18:00 UTC for exactly this). Such a module must stop the clock at that moment with
``pytestmark = pytest.mark.frozen_time(NOW)``; and no module reads the real clock at import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _module_level_assignments(tree: ast.Module) -> dict[str, ast.expr]:
    names: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = node.value
    return names


def _is_fixed_moment(value: ast.expr) -> bool:
    return isinstance(value, ast.Call) and ast.unparse(value.func).endswith("datetime") and bool(value.args)


def _reads_the_clock(value: ast.expr) -> bool:
    return any(
        isinstance(node, ast.Call) and ast.unparse(node.func).endswith(("timezone.now", "datetime.now", "time.time"))
        for node in ast.walk(value)
    )


def _frozen_moments(value: ast.expr | None) -> set[str]:
    if value is None:
        return set()
    return {
        ast.unparse(node.args[0])
        for node in ast.walk(value)
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("mark.frozen_time") and node.args
    }


def offences(source: str) -> list[str]:
    """Return what a test module does wrong with the clock, in words."""
    names = _module_level_assignments(ast.parse(source))
    frozen = _frozen_moments(names.get("pytestmark"))
    found = []
    for name, value in names.items():
        if name.isupper() and _reads_the_clock(value):
            found.append(f"{name} reads the real clock at import time")
        if name in ("NOW", "STARTED") and _is_fixed_moment(value) and name not in frozen:
            found.append(f"{name} is a fixed moment but the module does not freeze the clock at it")
    return found


def test_the_check_recognises_both_mistakes():
    # given a module that mixes a fixed moment with the real clock, and one that reads the clock on import
    mixed = "import datetime as dt\nNOW = dt.datetime(2026, 11, 23, 18, 0)\n"
    on_import = "from django.utils import timezone\nNOW = timezone.now()\n"
    frozen = "import pytest, datetime as dt\nNOW = dt.datetime(2026, 1, 1)\npytestmark = pytest.mark.frozen_time(NOW)\n"

    # then
    assert offences(mixed) == ["NOW is a fixed moment but the module does not freeze the clock at it"]
    assert offences(on_import) == ["NOW reads the real clock at import time"]
    assert offences(frozen) == []


def test_no_test_module_mixes_a_fixed_moment_with_the_real_clock():
    found = {
        str(path.relative_to(TESTS)): problems
        for path in sorted(TESTS.rglob("test_*.py"))
        if (problems := offences(path.read_text()))
    }
    assert found == {}
