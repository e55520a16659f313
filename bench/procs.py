"""Real ``bananapics worker`` processes for benchmarks, and what they share with the bench process.

Adapted from the chaos suite's harness (``tests/chaos/procs.py`` on the ``chaos`` branch: ``Stack``
and ``Worker``), trimmed to what a load run needs: one TOML config file every process reads
(secrets only from the environment, as the config requires), a worker started as an operator would
(``bananapics worker -w N --no-periodic``) in its own session with its own ``PGAPPNAME`` so its
Postgres connections can be counted, and its peak RSS read from ``/proc``. When the chaos branch is
merged, its harness can import :class:`Worker` and :func:`wait_until` from here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SIGNING_KEY = "bench-load-signing-key-0123456789abcdef"


def wait_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.05,
               describe: Callable[[], str] | None = None) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}"
                                 + (f" ({describe()})" if describe else ""))
        time.sleep(every)


def proc_status_kb(pid: int | str, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of ``/proc/<pid>/status`` in kB (0 when the process is gone)."""
    with contextlib.suppress(OSError, ValueError):
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    return 0


@dataclass
class Stack:
    """Where every process connects: Postgres ``db_url``, the Redis queue, a storage directory on
    this machine, the offline ``local`` provider sleeping ``latency_s`` per call."""

    tmp: Path
    db_url: str
    redis_url: str
    media: Path
    latency_s: float = 1.5
    pool_max: int = 8
    start_balance: int = 300
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        path = self.tmp / "bench.toml"
        if not path.exists():
            path.write_text(
                "# bench/load.py: every process of the load run\n"
                f'[database]\nurl = "{self.db_url}"\npool_max = {self.pool_max}\npool_timeout_s = 20.0\n'
                f'[queue]\nbackend = "redis"\nredis_url = "{self.redis_url}"\nworkers = 4\n'
                f'[storage]\nbackend = "local"\npath = "{self.media}"\n'
                f'[providers]\nforce_provider = "local"\nlocal_latency_s = {self.latency_s}\n'
                f'[users]\nstart_balance = {self.start_balance}\n'
                '[logging]\nlevel = "WARNING"\nformat = "text"\n')
        return path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BANANAPICS_", "PG"))}
        env.update({"BANANAPICS_CONFIG": str(self.config_file), "BANANAPICS_QUEUE__SIGNING_KEY": SIGNING_KEY,
                    "PYTHONUNBUFFERED": "1", **self.extra_env})
        return env

    def config(self):
        from bananapics.config import load_config

        return load_config(self.config_file, environ=self.env())


class Worker:
    """One ``bananapics worker`` process (its own session, so a signal reaches it and its threads)."""

    def __init__(self, stack: Stack, name: str, threads: int = 4, app_name: str | None = None) -> None:
        self.stack, self.name, self.threads = stack, name, threads
        self.app_name = app_name or f"bananapics-bench-{name}"
        self.proc: subprocess.Popen | None = None
        self.log_path = stack.tmp / f"{name}.log"
        self.exe = shutil.which("bananapics", path=str(Path(sys.executable).parent)) or "bananapics"
        self.peak_rss_kb = 0

    def start(self) -> "Worker":
        env = {**self.stack.env(), "PGAPPNAME": self.app_name}
        with open(self.log_path, "a") as fh:
            self.proc = subprocess.Popen([self.exe, "worker", "-w", str(self.threads), "--no-periodic"],
                                         env=env, cwd=self.stack.tmp, stdout=fh, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 60.0) -> "Worker":
        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            return "worker: redis queue" in self.log()

        wait_until(ready, timeout, f"{self.name} to start", every=0.1, describe=self.tail)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample_rss(self) -> None:
        if self.alive():
            self.peak_rss_kb = max(self.peak_rss_kb, proc_status_kb(self.proc.pid, "VmHWM"))

    def stop(self) -> None:
        """SIGTERM (running jobs finish), SIGKILL if it has not stopped within 20 s."""
        if not self.alive():
            return
        self.sample_rss()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def tracebacks(self) -> int:
        """Tracebacks and ERROR lines in the worker's log (a healthy run has none)."""
        return sum(1 for line in self.log().splitlines() if line.startswith("Traceback") or " ERROR " in line)
