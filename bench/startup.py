"""CLI start-up: `bananapics users show 5` against `python -c 'import typer, peewee'`, in one run.

    .venv/bin/python bench/startup.py [--runs 7] [--goal 1.5] [--json]

A scratch SQLite database (migrated, user 5 added) in a temporary directory; then the two commands
run alternately ``--runs`` times each as fresh processes (the installed console script, the same
interpreter), and the report prints each median wall time and their ratio. Exit 1 when the ratio is
above ``--goal``. Also printed, for the record: `bananapics --help` and the same command with
``--json``. Nothing else runs in the process being timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import log  # noqa: E402


def timed(argv: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--goal", type=float, default=1.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    exe = shutil.which("bananapics", path=str(Path(sys.executable).parent))
    if not exe:
        raise SystemExit("the bananapics console script is not installed next to this interpreter")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp,
               "BANANAPICS_DATABASE__URL": f"sqlite:///{tmp}/startup.db"}
        log("migrating a scratch SQLite database and adding user 5")
        timed([exe, "db", "upgrade"], env, tmp)
        timed([exe, "users", "add", "5", "--username", "five"], env, tmp)
        baseline = [sys.executable, "-c", "import typer, peewee"]
        command = [exe, "users", "show", "5"]
        for warm in (baseline, command):  # fill the OS page cache and write .pyc files before timing
            timed(warm, env, tmp)
        base_times, cmd_times, json_times, help_times = [], [], [], []
        for run in range(args.runs):
            base_times.append(timed(baseline, env, tmp))
            cmd_times.append(timed(command, env, tmp))
            json_times.append(timed([*command, "--json"], env, tmp))
            help_times.append(timed([exe, "--help"], env, tmp))
            log(f"run {run + 1}/{args.runs}: baseline {base_times[-1] * 1000:.0f} ms, "
                f"users show {cmd_times[-1] * 1000:.0f} ms")
    base, cmd = statistics.median(base_times), statistics.median(cmd_times)
    report = {
        "runs": args.runs,
        "baseline_ms": round(base * 1000, 1),
        "users_show_ms": round(cmd * 1000, 1),
        "users_show_json_ms": round(statistics.median(json_times) * 1000, 1),
        "help_ms": round(statistics.median(help_times) * 1000, 1),
        "ratio": round(cmd / base, 2),
        "goal": args.goal,
    }
    report["status"] = "ok" if report["ratio"] <= args.goal else "over goal"
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"baseline  python -c 'import typer, peewee'   median of {args.runs}: {report['baseline_ms']:7.1f} ms")
        print(f"command   bananapics users show 5             median of {args.runs}: {report['users_show_ms']:7.1f} ms")
        print(f"          bananapics users show 5 --json      median of {args.runs}: {report['users_show_json_ms']:7.1f} ms")
        print(f"          bananapics --help                   median of {args.runs}: {report['help_ms']:7.1f} ms")
        print(f"ratio {report['ratio']:.2f} (goal <= {args.goal}): {report['status']}")
    return 0 if report["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
