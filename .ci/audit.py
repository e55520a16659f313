"""Run pip-audit on this environment and judge its answer (see .ci/audit).

Exit 0: no known vulnerability, or the advisory service was unreachable ("audit NOT done") and
BANANAPICS_AUDIT_REQUIRED is not 1. Exit 1: a known vulnerability (each listed) or pip-audit failed
for another reason. Exit 2: the audit could not be done and BANANAPICS_AUDIT_REQUIRED=1.
BANANAPICS_AUDIT_CMD replaces the pip-audit command (tests use a stand-in; the real one needs PyPI).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
UNREACHABLE = re.compile(
    r"ConnectionError|ConnectTimeout|ReadTimeout|Max retries exceeded|NameResolutionError|Name or service not known|"
    r"Temporary failure in name resolution|Network is unreachable|Connection refused|timed out|"
    r"Failed to establish a new connection|SSLError|ServiceError|No module named pip_audit",
    re.IGNORECASE)


def ignored() -> list[str]:
    path = HERE / "audit-ignore"
    ids = []
    for line in path.read_text().splitlines() if path.exists() else []:
        value = line.split("#", 1)[0].strip()
        if value:
            ids.append(value)
    return ids


def command() -> list[str]:
    custom = os.environ.get("BANANAPICS_AUDIT_CMD")
    if custom:
        return shlex.split(custom)
    cmd = [sys.executable, "-m", "pip_audit", "--local", "--skip-editable", "--progress-spinner", "off",
           "--format", "json"]
    for vuln in ignored():
        cmd += ["--ignore-vuln", vuln]
    return cmd


def not_done(reason: str) -> int:
    print(f"audit NOT done: {reason}")
    if os.environ.get("BANANAPICS_AUDIT_REQUIRED") == "1":
        print("BANANAPICS_AUDIT_REQUIRED=1: failing")
        return 2
    return 0


def main() -> int:
    try:
        proc = subprocess.run(command(), capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        return not_done(f"pip-audit not available ({exc.filename})")
    except subprocess.TimeoutExpired:
        return not_done("pip-audit timed out (advisory service too slow)")
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if report is None:
        detail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        if UNREACHABLE.search(proc.stderr):
            return not_done(f"PyPI advisory service unreachable ({detail[:200]})")
        print(f"audit FAILED: pip-audit exited {proc.returncode}: {detail[:500]}")
        return 1
    deps = report.get("dependencies", []) if isinstance(report, dict) else report
    found = [(d["name"], d.get("version", "?"), v) for d in deps for v in d.get("vulns", [])]
    if found:
        print(f"audit FAILED: {len(found)} known vulnerabilit{'y' if len(found) == 1 else 'ies'}")
        for name, version, vuln in found:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            print(f"  {name} {version}: {vuln.get('id')}{f' ({aliases})' if aliases else ''}; fixed in {fixes}")
        print("Upgrade the package (pyproject.toml range), or accept it in .ci/audit-ignore with a reason.")
        return 1
    if proc.returncode != 0:
        print(f"audit FAILED: pip-audit exited {proc.returncode}: {(proc.stderr.strip().splitlines() or [''])[-1][:500]}")
        return 1
    print(f"audit ok: {len(deps)} packages, no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
