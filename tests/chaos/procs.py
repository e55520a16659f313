"""The process harness of the chaos suite: real ``bananapics worker`` processes, a private
``redis-server``, a TCP proxy in front of Postgres that can be cut, and the bot on the simulated
Telegram in the test process.

Why the bot runs in the test process: the simulated Telegram (``bananapics.simtg``) lives in memory
and is reached through a ``SimClient`` in the same event loop; there is no wire another process
could use. Everything else the bot does goes out of the process like in production: jobs onto Redis,
rows into Postgres, images from S3 (a moto server on loopback). The workers are separate OS
processes started as an operator would (``bananapics worker -w N --no-periodic``) with their own
TOML config file; secrets come from the environment, as the config refuses them in a file.

The sweeper: ``bananapics worker`` runs it every minute (a crontab; a minute is its finest step), too
slow for a bounded test. :class:`Sweeper` runs the same service (``jobs.sweep`` + re-enqueue, what
the periodic task and ``bananapics jobs sweep`` do) every ``every_s`` seconds instead, with leases and
re-queue delays of a few seconds (see :data:`TIMING_ENV`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SIGNING_KEY = "chaos-suite-signing-key-0123456789abcdef"
# A job's lease outlives the provider's timeout (config refuses otherwise); both are short so a
# killed worker's job is taken over within seconds. A queued job Huey lost is re-queued after 3 s.
TIMING_ENV = {
    "BANANAPICS_JOBS__LEASE_S": "4", "BANANAPICS_PROVIDERS__TIMEOUT_S": "3",
    "BANANAPICS_JOBS__REQUEUE_AFTER_S": "3", "BANANAPICS_JOBS__DEADLINE_S": "600",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


async def await_until(predicate: Callable[[], object], timeout: float, what: str, every: float = 0.1,
                      describe: Callable[[], str] | None = None) -> object:
    """``predicate`` runs in a thread (it may read the database); polled until true or ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = await asyncio.to_thread(predicate)
        except Exception:  # noqa: BLE001 - the database may be away on purpose: look again
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            state = ""
            if describe:
                with contextlib.suppress(Exception):
                    state = f" ({await asyncio.to_thread(describe)})"
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{state}")
        await asyncio.sleep(every)


# ------------------------------------------------------------------ a private redis-server


class PrivateRedis:
    """A ``redis-server`` of this test's own on a free port, no persistence: a restart loses every
    queued message, as a crashed Redis without AOF would. Never the machine's Redis."""

    def __init__(self, tmp: Path) -> None:
        self.exe = shutil.which("redis-server")
        self.port = free_port()
        self.tmp = tmp
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "PrivateRedis":
        if self.exe is None:
            raise RuntimeError("redis-server is not installed")
        self.proc = subprocess.Popen(
            [self.exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        import redis

        def up() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
            except redis.RedisError:
                return False

        wait_until(up, 10, "the private redis-server")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        """Killed (everything it held is gone), down ``down_s``, then started again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()


# ------------------------------------------------------------------ a TCP proxy in front of Postgres


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``. :meth:`cut` drops every open connection and refuses
    new ones (the database "is down"); :meth:`restore` accepts again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.down = threading.Event()
        self.closing = threading.Event()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.lock = threading.Lock()
        self.refused = 0
        self.thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def start(self) -> "TcpProxy":
        self.thread.start()
        return self

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down.is_set():
                self.refused += 1
                with contextlib.suppress(OSError):
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = (client, upstream)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        client, upstream = pair
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        try:
            while not self.down.is_set():
                for key, _ in sel.select(0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            pass
        finally:
            sel.close()
            self._drop(pair)

    def _drop(self, pair: tuple[socket.socket, socket.socket]) -> None:
        with self.lock:
            self.pairs.discard(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            pairs = list(self.pairs)
        for pair in pairs:
            self._drop(pair)

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.closing.set()
        self.cut()
        self.listener.close()


# ------------------------------------------------------------------ the stack the processes share


@dataclass
class Stack:
    """Where every process of a test connects: Postgres (``db_url``, possibly through a proxy), a
    Redis queue, the S3 bucket of a moto server, the offline provider with ``latency_s``."""

    tmp: Path
    db_url: str
    redis_url: str
    s3_endpoint: str
    s3_bucket: str
    s3_keys: tuple[str, str]
    latency_s: float = 0.05
    extra_env: dict[str, str] = field(default_factory=dict)
    proxy: "TcpProxy | None" = None  # between every process and Postgres, when the test cuts the database

    @property
    def config_file(self) -> Path:
        """The workers' own config file (no secrets: those come from the environment)."""
        path = self.tmp / "chaos.toml"
        if not path.exists():
            path.write_text(
                "# tests/chaos: a worker of the chaos suite\n"
                f'[database]\nurl = "{self.db_url}"\npool_max = 8\npool_timeout_s = 5.0\n'
                f'[queue]\nbackend = "redis"\nredis_url = "{self.redis_url}"\nworkers = 4\n'
                f'[storage]\nbackend = "s3"\ns3_endpoint = "{self.s3_endpoint}"\ns3_bucket = "{self.s3_bucket}"\n'
                's3_region = "us-east-1"\n'
                f'[providers]\nforce_provider = "local"\nlocal_latency_s = {self.latency_s}\n'
                '[users]\nstart_balance = 50\n'
                '[logging]\nlevel = "INFO"\nformat = "text"\n')
        return path

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BANANAPICS_", "PG"))}
        env.update({
            "BANANAPICS_CONFIG": str(self.config_file),
            "BANANAPICS_QUEUE__SIGNING_KEY": SIGNING_KEY,
            "BANANAPICS_STORAGE__S3_ACCESS_KEY": self.s3_keys[0],
            "BANANAPICS_STORAGE__S3_SECRET_KEY": self.s3_keys[1],
            "PYTHONUNBUFFERED": "1",
            **TIMING_ENV, **self.extra_env,
        })
        return env

    def config(self):
        from bananapics.config import load_config

        return load_config(self.config_file, environ=self.env())


class Worker:
    """One ``bananapics worker`` process (its own session: a signal reaches it and its threads).
    ``app_name`` becomes its ``PGAPPNAME`` (its Postgres connections can be counted); ``sample_rss``
    keeps its peak RSS. The chaos suite and ``bench/load.py`` both run workers through this class."""

    def __init__(self, stack, name: str, threads: int = 4, app_name: str | None = None) -> None:
        self.stack, self.name, self.threads, self.app_name = stack, name, threads, app_name
        self.proc: subprocess.Popen | None = None
        self.pids: list[int] = []  # every process this worker has been (restarts included)
        self.log_path = stack.tmp / f"{name}.log"
        self.exe = shutil.which("bananapics", path=str(Path(sys.executable).parent)) or "bananapics"
        self.peak_rss_kb = 0

    def start(self) -> "Worker":
        env = self.stack.env()
        if self.app_name:
            env["PGAPPNAME"] = self.app_name
        with open(self.log_path, "a") as fh:
            self.proc = subprocess.Popen([self.exe, "worker", "-w", str(self.threads), "--no-periodic"],
                                         env=env, cwd=self.stack.tmp, stdout=fh, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        self.pids.append(self.proc.pid)
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

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            self.proc.wait(30)

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM (running jobs finish), SIGKILL if it has not stopped within ``grace_s``."""
        if not self.alive():
            return
        self.sample_rss()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")
        return ""

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def tracebacks(self) -> list[str]:
        """Lines of the log that start a traceback or report an ERROR (a healthy run has none)."""
        return [line for line in self.log().splitlines() if line.startswith("Traceback") or " ERROR " in line]


# ------------------------------------------------------------------ the bot, in this process


class Sweeper:
    """``jobs.sweep`` every ``every_s`` (see the module docstring), re-enqueueing what it hands back;
    a database or Redis that is away makes a round fail, and the next one tries again."""

    def __init__(self, config, tasks, every_s: float = 1.0) -> None:
        from bananapics.wiring import timing

        self.timing, self.tasks, self.every_s = timing(config), tasks, every_s
        self.rounds = self.failed_rounds = 0
        self.requeued: list[str] = []
        self.task: asyncio.Task | None = None

    def once(self) -> None:
        from bananapics.services import jobs

        report = jobs.sweep(self.timing)
        for job_id in report.requeued:
            self.tasks.enqueue(job_id)
        self.requeued += report.requeued

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            try:
                await asyncio.to_thread(self.once)
                self.rounds += 1
            except Exception:  # noqa: BLE001 - what a periodic task does: log, and the next run
                self.failed_rounds += 1

    def start(self) -> "Sweeper":
        self.task = asyncio.ensure_future(self._run())
        return self

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@contextlib.asynccontextmanager
async def running_bot(stack: Stack, tg, *, tasks=None, raise_handler_errors: bool = True, session=None):
    """The real bot (``build_bot``: every handler and the delivery loop) on ``tg``, enqueueing on the
    stack's Redis queue. Sends are not paced (the simulated Telegram's rate limits are off unless
    the test turns them on) so deliveries take no real time."""
    from bananapics.bot.app import build_bot
    from bananapics.bot.ratelimit import SendLimiter
    from bananapics.simtg import SimClient
    from bananapics.wiring import build_tasks

    config = stack.config()
    # the delivery loop keeps starting tasks while users act: not part of any one action's reaction
    tg.ignore_tasks_named("Event.wait", "_Pool._chat", "file_ref", "_lookup_or_upload")
    client = SimClient(session, telegram=tg, raise_handler_errors=raise_handler_errors, catch_up=True,
                       authorized=session is None)
    bot = build_bot(config, client, tasks=tasks or build_tasks(config))
    bot.sender = SendLimiter(global_per_s=100_000, per_chat_per_s=10_000, per_chat_burst=10_000)
    await client.start(bot_token=tg.bot_token)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop(timeout=10)
        await client.disconnect()


def fast_users() -> None:
    """Per-user limits that a scripted user never meets (settings, as an admin would set them), and
    room for 4 generations per user at once."""
    from bananapics.services import settings
    from bananapics.services.audit import Actor

    admin = Actor.operator("chaos")
    settings.set_value("limits.user_actions_per_min", 6000, actor=admin)
    settings.set_value("limits.user_burst", 1000, actor=admin)
    settings.set_value("limits.user_parallel_jobs", 4, actor=admin)
