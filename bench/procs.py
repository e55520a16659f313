"""What the load run's processes share: one TOML config file every process reads (secrets only from
the environment, as the config requires), Postgres, Redis and a local storage directory.

The worker processes themselves are the chaos suite's harness (``tests/chaos/procs.py``: ``Worker``
started as an operator would, ``bananapics worker -w N --no-periodic``, in its own session, with its
own ``PGAPPNAME`` so its Postgres connections can be counted and its peak RSS read from ``/proc``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.procs import Worker, proc_status_kb, wait_until  # noqa: F401 - the harness, re-exported

SIGNING_KEY = "bench-load-signing-key-0123456789abcdef"


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
