"""The console's ES modules in production: collectstatic names every file by its content, and each module must
import the others by those names, or a browser holding a cached module could mix versions after a deployment.

whitenoise's storage rewrites url()s in CSS but not import statements in JS unless told to; these tests run
collectstatic as production does (DEBUG=0, in a fresh process) into a folder of their own and follow every
import from the console's entry module. tests/e2e/test_console_collected.py loads the collected console in
Chromium.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
CONSOLE_SOURCE = BASE_DIR / "conversations" / "static" / "conversations" / "console"
ENTRY = "conversations/console/main.js"
# Every form of ES-module import the console may use: import … from "…", export … from "…", import "…", import("…").
_SPECIFIER = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["'](?P<url>\.{1,2}/[^"']+)["']""")


def collect_static(target: Path) -> subprocess.CompletedProcess:
    """Run collectstatic as production does (DEBUG=0) into target, in a fresh process."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatops.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(45),
        "STATIC_ROOT": str(target),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def imports_of(source: str) -> list[str]:
    return [found["url"] for found in _SPECIFIER.finditer(source)]


def follow_imports(root: Path, entry: str) -> dict[str, list[str]]:
    """Return every module reachable from entry (paths under root) with the paths its imports resolve to."""
    graph: dict[str, list[str]] = {}
    waiting = [entry]
    while waiting:
        name = waiting.pop()
        if name in graph:
            continue
        folder = Path(name).parent
        targets = [os.path.normpath(folder / url) for url in imports_of((root / name).read_text())]
        graph[name] = targets
        waiting.extend(target for target in targets if (root / target).is_file())
    return graph


def test_every_console_module_is_reachable_from_the_entry_and_imports_only_relative_paths():
    # given
    sources = sorted(path.name for path in CONSOLE_SOURCE.glob("*.js"))

    # when
    graph = follow_imports(BASE_DIR / "conversations" / "static", ENTRY)

    # then
    assert sorted(Path(name).name for name in graph) == sources
    assert all(target.startswith("conversations/console/") for targets in graph.values() for target in targets)
    every_import = [url for path in CONSOLE_SOURCE.glob("*.js") for url in imports_of(path.read_text())]
    assert every_import and all(url.startswith("./") and url.endswith(".js") for url in every_import)


def test_collectstatic_for_production_points_every_console_import_at_a_hashed_file(tmp_path):
    # given
    target = tmp_path / "static"

    # when
    result = collect_static(target)

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((target / "staticfiles.json").read_text())["paths"]
    hashed = set(manifest.values())
    entry = manifest[ENTRY]
    assert entry != ENTRY
    graph = follow_imports(target, entry)
    assert len(graph) == len(list(CONSOLE_SOURCE.glob("*.js"))), sorted(graph)
    for module, targets in graph.items():
        source_name = next(name for name, value in manifest.items() if value == module)
        assert len(targets) == len(imports_of((BASE_DIR / "conversations" / "static" / source_name).read_text()))
        for imported in targets:
            assert imported in hashed, f"{module} imports {imported}, which is not a hashed file of this version"
            assert (target / imported).is_file(), f"{module} imports {imported}, which was not collected"
