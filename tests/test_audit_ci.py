"""The CI dependency audit (.ci/audit, run from .ci/run): a known vulnerability fails it, a clean
report passes, an unreachable advisory service says "audit NOT done" and passes unless
BANANAPICS_AUDIT_REQUIRED=1. pip-audit itself needs PyPI, so a stand-in command plays it here
(the same JSON pip-audit --format json writes, the same errors it prints)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VULNERABLE = {"dependencies": [
    {"name": "jinja2", "version": "2.4.1", "vulns": [
        {"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": ["CVE-2019-10906"], "description": "sandbox escape"}]},
    {"name": "httpx", "version": "0.28.1", "vulns": []}], "fixes": []}
CLEAN = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []},
                          {"name": "peewee", "version": "4.5.3", "vulns": []}], "fixes": []}
OFFLINE = ("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='pypi.org', port=443): Max retries "
           "exceeded with url: /pypi/jinja2/2.4.1/json (Caused by NameResolutionError)")


def stand_in(tmp_path: Path, *, stdout: str = "", stderr: str = "", code: int = 0) -> str:
    script = tmp_path / "fake_pip_audit.py"
    script.write_text(f"import sys\nsys.stdout.write({stdout!r})\nsys.stderr.write({stderr!r})\nsys.exit({code})\n")
    return f"{sys.executable} {script}"


def audit(cmd: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "BANANAPICS_AUDIT_REQUIRED"}
    environ.update(BANANAPICS_AUDIT_CMD=cmd, BANANAPICS_AUDIT_PYTHON=sys.executable, **env)
    return subprocess.run([str(ROOT / ".ci" / "audit")], capture_output=True, text=True, env=environ, timeout=60)


def test_a_known_vulnerability_fails_the_audit(tmp_path):
    done = audit(stand_in(tmp_path, stdout=json.dumps(VULNERABLE), stderr="Found 1 known vulnerability", code=1))
    assert done.returncode == 1
    assert "audit FAILED: 1 known vulnerability" in done.stdout
    assert "jinja2 2.4.1: PYSEC-2019-217 (CVE-2019-10906); fixed in 2.10.1" in done.stdout


def test_a_clean_report_passes(tmp_path):
    done = audit(stand_in(tmp_path, stdout=json.dumps(CLEAN)))
    assert done.returncode == 0 and done.stdout.strip() == "audit ok: 2 packages, no known vulnerability"


@pytest.mark.parametrize("required, code", [(None, 0), ("1", 2)])
def test_an_unreachable_advisory_service_is_not_a_pass_in_disguise(tmp_path, required, code):
    env = {"BANANAPICS_AUDIT_REQUIRED": required} if required else {}
    done = audit(stand_in(tmp_path, stderr=OFFLINE, code=1), **env)
    assert done.returncode == code
    assert done.stdout.startswith("audit NOT done: PyPI advisory service unreachable")


def test_any_other_pip_audit_failure_fails(tmp_path):
    done = audit(stand_in(tmp_path, stderr="pip_audit: error: unrecognized arguments: --bogus", code=2))
    assert done.returncode == 1 and "audit FAILED: pip-audit exited 2" in done.stdout


def test_ci_runs_the_audit_and_still_ends_with_the_readme_test_command():
    lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ".ci/audit" in lines
    assert lines.index(".ci/audit") < len(lines) - 1
    readme = (ROOT / "README.md").read_text()
    assert lines[-1].strip() in readme  # the last line stays the README's test command
    ignore = (ROOT / ".ci" / "audit-ignore").read_text()
    assert all(line.startswith("#") or "#" in line for line in ignore.splitlines() if line.strip())  # ids need reasons
