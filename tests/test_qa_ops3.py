"""Operator QA (third pass): what the README promises an operator and a first-time user.

The README's command table and configuration keys against the real Typer app and Config; bad
input through the CLI entry point (one line on stderr, a non-zero exit, never a traceback); the
`bananapics demo` terminal chat; the wheel a production `pip install .` gets.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from bananapics.cli.main import app
from bananapics.config import SECTIONS, Config, is_secret, load_config
from bananapics.errors import ConfigError
from bananapics.models import db as proxy
from bananapics.services import settings as settings_service

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
runner = CliRunner()


@pytest.fixture
def cli(database, database_url, tmp_path, monkeypatch):
    """`bananapics ARGS` on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)
    base = {"BANANAPICS_DATABASE__URL": database_url, "BANANAPICS_STORAGE__PATH": str(tmp_path / "media")}

    def run(*args: str, **env: str):
        result = runner.invoke(app, list(args), env={**base, **env})
        proxy.initialize(database)  # the CLI bound its own connection; hand the proxy back
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def one_line_error(code: int, out: str, err: str, needle: str, expected_code: int = 1) -> None:
    assert code == expected_code, (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert needle in err, err
    assert "Traceback" not in out + err


# ---------------------------------------------------------------- README ↔ the Typer app and Config

def _click_tree() -> dict[str, object]:
    """Every leaf command of the app by its full name ("users show"), as click commands."""
    root = typer.main.get_command(app)
    found: dict[str, object] = {}

    def walk(group, prefix: str) -> None:
        for name, command in group.commands.items():
            full = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                walk(command, full)
            else:
                found[full] = command
    walk(root, "")
    return found


def _readme_commands() -> dict[str, str]:
    """The README's command table: full command name → the usage text documented for it."""
    groups = {name.split()[0] for name in _click_tree() if " " in name}
    documented: dict[str, str] = {}
    for line in README.splitlines():
        if not line.startswith("| `bananapics "):
            continue
        cell = line.replace("\\|", "/").split("|")[1].strip()
        usages = re.findall(r"`([^`]+)`", cell)
        first = usages[0].split()[1:]  # drop "bananapics"
        group = first[0]
        for n, usage in enumerate(usages):
            words = usage.split() if n else first
            if words[0] == "bananapics":
                words = words[1:]
            if n and words[0] not in groups:
                words = [group] + words  # "/ `unban TG_ID …`" continues the first command's group
            name = []
            for word in words:
                if not re.fullmatch(r"[a-z][a-z-]*", word) or (name and name[0] not in groups):
                    break
                name.append(word)
            documented[" ".join(name)] = usage
    return documented


def test_readme_command_table_matches_the_app():
    documented, real = _readme_commands(), _click_tree()
    assert set(documented) == set(real), (
        f"documented only: {sorted(set(documented) - set(real))}; in the app only: {sorted(set(real) - set(documented))}")
    for name, usage in documented.items():
        options = {opt for param in real[name].params for opt in (*param.opts, *param.secondary_opts)}
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage):
            assert option in options, f"README documents `{option}` for `bananapics {name}`; it has {sorted(options)}"
    reads = [name for name in real if name.split()[-1] in ("show", "list", "search", "verify", "check", "status", "audit")]
    assert len(reads) == 14
    for name in reads:  # "Every read command takes `--json`"
        assert "--json" in {opt for param in real[name].params for opt in param.opts}, name


def test_readme_configuration_keys_exist():
    fields = {(section, key) for section in SECTIONS for key in type(getattr(Config(), section)).model_fields}
    for section, key in re.findall(r"`\[([a-z]+)\] ([a-z0-9_]+)`", README):
        assert (section, key) in fields, f"README names [{section}] {key}, which Config does not have"
    listed = re.search(r"^Sections: (.+?)\.$", README, re.S | re.M).group(1)
    assert set(re.findall(r"`\[([a-z]+)\]`", listed)) == set(SECTIONS)
    secrets_paragraph = re.search(r"^Secrets — (.+?)— come only", README, re.S | re.M).group(1)
    named = set(re.findall(r"`([a-z]+)\.([a-z0-9_*]+)`", secrets_paragraph))
    real = {(s, k) for s, k in fields if is_secret(s, k)}
    covered = {(s, k) for s, k in real for ns, nk in named if ns == s and re.fullmatch(nk.replace("*", ".*"), k)}
    assert covered == real, f"secrets the README does not name: {sorted(real - covered)}"
    for section, pattern in named:
        assert any(s == section and re.fullmatch(pattern.replace("*", ".*"), k) for s, k in real), (section, pattern)
    for key in ("force_provider", "local_latency_s", "local_failure_rate", "bot_api_url", "reconcile_minutes"):
        assert f"`{key}" in README


def test_readme_settings_row_lists_every_run_time_setting():
    row = next(line for line in README.splitlines() if line.startswith("| `bananapics settings show`"))
    assert set(re.findall(r"`([a-z_]+\.[a-z_]+)`", row)) == set(settings_service.REGISTRY)
