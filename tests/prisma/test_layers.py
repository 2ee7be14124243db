"""The import-linter contract of pyproject.toml holds for the tree, and it would
catch an upward import (the layers point down only)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGES = (
    "prisma",
    "start",
    "profiles",
    "queries",
    "explorer",
    "datapool",
    "core",
    "lor",
)
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # Only the tree itself is importable: the linter puts its working directory
    # on the path, and nothing of the project is installed.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _copy_packages(target: Path) -> None:
    """The python packages (their .py files only) and pyproject.toml."""
    for package in PACKAGES:
        for source in (ROOT / package).rglob("*.py"):
            copy = target / source.relative_to(ROOT)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy)
    shutil.copyfile(ROOT / "pyproject.toml", target / "pyproject.toml")


def test_the_tree_keeps_the_layers_contract():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract_and_is_named(tmp_path):
    _copy_packages(tmp_path)
    assert _lint_imports(tmp_path).returncode == 0
    models = tmp_path / "lor" / "models.py"
    models.write_text(models.read_text() + "\nfrom explorer import selection\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    assert "lor.models -> explorer.selection" in result.stdout
