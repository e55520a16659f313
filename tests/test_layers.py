"""The layers of ARCHITECTURE.md, enforced: import-linter's contracts (``[tool.importlinter]`` in
pyproject.toml), services that import without any front-end framework, no import cycle anywhere in
``bananapics``, and an ``errors.py`` tree that names every error class.

``models/``, ``tasks/``, ``cli/`` and ``tui/`` install as ``bananapics.models`` … (setuptools
``package-dir``), which an editable install maps with an import hook that import-linter's graph
builder does not follow. The graph is therefore built from a copy of the tree laid out as it is
installed (from pyproject's own ``package-dir``), so the contracts see every module.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bananapics import errors

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("telethon", "textual", "typer")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A directory holding ``bananapics`` laid out as installed (sources copied, no caches)."""
    base = tmp_path_factory.mktemp("layout")
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "locales")
    for package, source in sorted(mapping.items()):
        target = base.joinpath(*package.split("."))
        if not target.exists():
            shutil.copytree(ROOT / source, target, ignore=skip)
    return base


def _run(installed: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "PYTHONDONTWRITEBYTECODE": "1"}
    # run from the copy: the checkout's own bananapics/ (the current directory) would come first
    return subprocess.run(args, cwd=installed, env=env, capture_output=True, text=True, timeout=300)


def test_the_layout_copy_holds_every_installed_package(installed):
    for package in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]:
        assert installed.joinpath(*package.split("."), "__init__.py").is_file(), package


def test_import_linter_contracts_hold(installed):
    """services, models, tasks, providers never import bot, cli, tui, telethon, textual or typer;
    the bot never imports cli or tui."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = _run(installed, str(lint), str(ROOT / "pyproject.toml"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: [1-9][0-9]* kept, 0 broken", done.stdout), done.stdout


def test_importing_every_service_loads_no_front_end_framework():
    code = (
        "import importlib, pkgutil, sys\n"
        "import bananapics.services as services\n"
        "for info in pkgutil.iter_modules(services.__path__):\n"
        "    importlib.import_module('bananapics.services.' + info.name)\n"
        f"print(','.join(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing the services loaded {done.stdout.strip()}"


def _cycles(graph) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(frozenset(component))
    return found


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _cycles(graph) == [frozenset({"a", "b", "c"})]


def test_bananapics_has_no_import_cycle(installed):
    """Function-level (late) imports count too: a cycle hidden in a function is still a cycle.
    Imports under ``if TYPE_CHECKING:`` do not: they never run (annotations only)."""
    code = (
        "import json, grimp\n"
        "g = grimp.build_graph('bananapics', exclude_type_checking_imports=True, cache_dir=None)\n"
        "print(json.dumps({m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}))\n"
    )
    done = _run(installed, sys.executable, "-c", code)
    assert done.returncode == 0, done.stderr
    import json

    graph = json.loads(done.stdout)
    assert "bananapics.models.users" in graph and "bananapics.cli.main" in graph  # the whole installed tree
    cycles = set(_cycles({m: set(v) for m, v in graph.items()}))
    assert cycles == set(), sorted(sorted(c) for c in cycles)


def _error_classes() -> dict[str, type]:
    """Every BananaError subclass the project defines (every module imported first)."""
    for name in ("bananapics", "bananapics.models", "bananapics.tasks", "bananapics.cli", "bananapics.tui"):
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, name + "."):
            if ".simtg" not in info.name:  # the simulated Telegram's errors are Telegram's, not ours
                importlib.import_module(info.name)
    found: dict[str, type] = {}
    todo = [errors.BananaError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("bananapics."):
            found[cls.__name__] = cls
        todo += cls.__subclasses__()
    return found


def _tree() -> dict[str, str | None]:
    """The docstring tree of errors.py: class name → parent name (None for the root)."""
    parents: dict[str, str | None] = {}
    chain: list[str] = []
    for line in errors.__doc__.splitlines():
        match = re.match(r"^ {4}((?:[│ ] {3})*)(?:[├└]── )?([A-Z]\w+)", line)
        if not match or ("──" not in line and match.group(2) != "BananaError"):
            continue
        depth = len(match.group(1)) // 4 + (1 if "──" in line else 0)
        chain[depth:] = [match.group(2)]
        parents[match.group(2)] = chain[depth - 1] if depth else None
    return parents


def test_the_errors_tree_names_every_error_class_under_its_parent():
    classes = _error_classes()
    tree = _tree()
    assert set(tree) == set(classes), (sorted(set(classes) - set(tree)), sorted(set(tree) - set(classes)))
    for name, parent in tree.items():
        base = classes[name].__bases__[0].__name__ if name != "BananaError" else None
        assert parent == base, f"{name}: the tree says under {parent}, the class derives from {base}"
