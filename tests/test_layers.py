"""The apps depend one way (docs/architecture.md): import-linter's layers contract holds, covers every app
of ours in the order they are installed, and notices an import against the layers."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [one for one in config["contracts"] if one["type"] == "layers"]
    return {"root_packages": config["root_packages"], **contract}


def _lint(config: Path | None = None) -> subprocess.CompletedProcess:
    arguments = [str(LINT_IMPORTS), "--no-cache"] + (["--config", str(config)] if config else [])
    return subprocess.run(arguments, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def test_the_layers_contract_holds():
    run = _lint()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 kept, 0 broken" in run.stdout


def test_the_layers_are_every_app_of_ours_in_the_order_they_are_installed():
    ours = [app for app in settings.INSTALLED_APPS if (ROOT / app / "apps.py").exists()]
    assert _contract()["layers"] == list(reversed(ours))
    assert sorted(_contract()["root_packages"]) == sorted(ours)


def test_the_contract_notices_imports_against_the_layers(tmp_path):
    # The same code against the layers turned upside down: every import between apps now runs upward.
    contract = _contract()
    upside_down = tmp_path / "upside_down.toml"
    upside_down.write_text(
        "[tool.importlinter]\n"
        f"root_packages = {contract['root_packages']!r}\n\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "upside down"\n'
        'type = "layers"\n'
        f"layers = {list(reversed(contract['layers']))!r}\n"
    )
    run = _lint(upside_down)
    assert run.returncode != 0
    assert "workforce -> tenants" in run.stdout or "workforce.services -> tenants" in run.stdout, run.stdout
