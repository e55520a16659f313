"""Packaging and layering: the wheel carries the top-level packages under `bananapics.*`, and
services never import a UI framework (ARCHITECTURE §2)."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UI_FRAMEWORKS = {"telethon", "textual", "typer"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("folder", ["bananapics/services", "models", "bananapics"])
def test_core_never_imports_ui_frameworks(folder):
    files = sorted((ROOT / folder).glob("*.py"))
    assert files
    for path in files:
        bad = _imports(path) & UI_FRAMEWORKS
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_wheel_installs_top_level_packages_under_bananapics(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(dist), str(ROOT)], check=True, timeout=300)
    wheel = next(dist.glob("bananapics-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in ("bananapics/models/__init__.py", "bananapics/models/migrations/0001_core_schema.py",
                     "bananapics/models/migrations/0002_seed_catalog.py", "bananapics/cli/main.py",
                     "bananapics/tasks/__init__.py", "bananapics/tui/__init__.py", "bananapics/services/ledger.py"):
        assert expected in names, f"{expected} missing from the wheel"
    assert not any(n.startswith(("models/", "cli/", "tui/", "tasks/", "tests/")) for n in names)
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    code = (
        "import bananapics.models, bananapics.cli.main, bananapics.tasks, bananapics.tui, sys;"
        "from bananapics import db; from bananapics.config import DatabaseConfig;"
        f"d = db.make_database(DatabaseConfig(url='sqlite:///{tmp_path}/w.db'));"
        "print(db.upgrade(d)); print(bananapics.models.__file__)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                          env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "0002_seed_catalog" in proc.stdout and str(target) in proc.stdout
