#!/usr/bin/env python
"""Pipeline benchmark: raw Huey no-op tasks/s against full generation jobs/s, and 128-thread concurrency.

Usage (from the repository top)::

    .venv/bin/python bench/pipeline.py [--backend redis|sqlite] [--jobs N] [--workers W] [--pg-url URL]
                                       [--skip-throughput] [--skip-concurrency] [--conc-pool-max 140,20]
                                       [--keep-tmp] [--check-goals] [--json]

Part 1, throughput (one run, same backend, same consumer settings, same machine):

a. raw: ``N`` no-op tasks on a Huey instance built by ``tasks.queue.make_huey`` from the same
   ``[queue]`` config, drained by a real consumer subprocess with ``W`` thread workers;
b. pipeline: ``N`` jobs submitted with ``jobs.submit`` (the ``local`` provider, no latency), enqueued
   with ``Tasks.enqueue`` and drained by a real ``bananapics worker -w W --no-periodic`` subprocess:
   claim → provider → storage → succeed (settle, outbox row). Every job must succeed with one
   outbox row, and ``verify()`` must be clean.

c. raw work: the same consumer, each task doing the job's own work (the ``local`` provider draws the
   image with the jobs' settings, storage writes it with fsync) and nothing else.

All rates run from the first enqueue to the last task/job finished. The goal is pipeline ÷ raw work
≥ 0.5: the claim, ledger, finish and outbox may at most halve the rate of the work itself. Pipeline ÷
raw no-op is printed too, with its ceiling (raw work ÷ raw no-op): a 0 s job still draws a PNG and
fsyncs a file, ~10× a no-op task, so 0.5 of a no-op rate is out of reach for any implementation.

Part 2, concurrency: the ``local`` provider sleeps 2 s per call; one worker process with 128 threads
runs 512 jobs. Wall time (first enqueue → last job finished) against the ideal 512/128 × 2 s, the
worker's peak RSS (VmHWM), and its peak number of Postgres connections (``PGAPPNAME`` of the worker in
``pg_stat_activity``, sampled every 100 ms). One run per ``--conc-pool-max`` value (default 140, a pool
that is not the limit, then 20, the shipped default); a value above what the server has left is lowered
to that unless ``--exhaust-server``. A run whose jobs stop moving (queue empty, nothing finishing) is
reported INCOMPLETE, and one sweeper pass dated past the deadline refunds what it left behind.

Postgres: a throwaway database next to ``--pg-url``, dropped at the end (also after an error, Ctrl-C or
SIGTERM). Redis: a dedicated database number (default 14), flushed before and after.

Exit status: 0 ok, 1 error (setup failure, a subprocess died, ERROR lines in a consumer log, jobs
stranded), 2 a job did not succeed / outbox mismatch / ``verify()`` breaches, 3 a goal missed (only
with ``--check-goals``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from bench.common import cpu_ticks, log, print_footer  # noqa: E402
from bench.ledger import PgTarget, machine_facts  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
SIGNING_KEY = "bananapics-bench-signing-key"
MODEL = "nano-banana"
USER_CAP = 20  # limits.user_parallel_jobs is at most 20: jobs are spread over ceil(N / 20) users
TG_BASE = 8_000_000_000
APP_NAME = "bananapics-bench-worker"  # PGAPPNAME of the worker: its connections are counted by this
RATIO_GOAL = 0.5
WALL_GOAL = 1.2
RSS_GOAL_MB = 300
CONN_GOAL_SHARE = 0.25  # "far below the thread count": at most a quarter of the threads
SAMPLE_S = 0.1
TERMINAL = ("succeeded", "partial", "failed")

OUT = sys.stdout  # human-readable report; moves to stderr with --json
_NPROC = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


# ---------------------------------------------------------------- the raw consumer (a subprocess)

# Run with ``python -c``: the same config (environment), the same make_huey, one no-op task, the same
# consumer options as `bananapics worker`. It counts in memory and writes <status>.warm when the
# warm-up tasks are done, and <status>.m<k> (first start, last finish) when round k is done.
RAW_CONSUMER = r"""
import collections, json, os, threading, time
from bananapics.config import load_config
from bananapics.tasks.queue import make_huey

cfg = load_config(None)
huey = make_huey(cfg.queue)
warm, n, status = int(os.environ["BENCH_WARM"]), int(os.environ["BENCH_N"]), os.environ["BENCH_STATUS"]
work = os.environ.get("BENCH_MODE") == "work"
if work:  # the job's own work without the bookkeeping: the local provider draws, storage keeps it
    import uuid
    from bananapics.providers.base import GenerationRequest
    from bananapics.providers.local import LocalProvider
    from bananapics.storage import job_output_key, make_storage
    provider, storage = LocalProvider(), make_storage(cfg.storage)
    job_settings = json.loads(os.environ["BENCH_SETTINGS"])
lock = threading.Lock()
seen, first = collections.Counter(), {}

def note(name, data):
    with open(status + "." + name + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(status + "." + name + ".tmp", status + "." + name)

def noop(phase):  # phase: "w" (warm-up) or "m<round>"
    if work:
        job_id = uuid.uuid4().hex
        for k, image in enumerate(provider.generate(GenerationRequest(
                f"bench {job_id[:8]}", "local", job_settings, [], job_id))):
            storage.put(job_output_key(job_id, k, "png"), image.data, image.mime)
    now = time.time()
    with lock:
        seen[phase] += 1
        count = seen[phase]
        first.setdefault(phase, now)
    if phase == "w" and count == warm:
        note("warm", {"t": now})
    elif phase != "w" and count == n:
        note(phase, {"first": first[phase], "last": now})

noop.__module__ = "bananapics_bench"  # Huey names a task module.name: the same in both processes
huey.task(name="noop")(noop)
workers = int(os.environ["BENCH_WORKERS"])
print(f"raw consumer: {cfg.queue.backend} queue, {workers} threads", flush=True)
huey.create_consumer(workers=workers, worker_type="thread", periodic=False, flush_locks=True,
                     check_worker_health=True, graceful_signal="TERM",
                     shutdown_timeout=cfg.jobs.lease_s).run()
"""


# ---------------------------------------------------------------- /proc helpers

def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by one process, all threads."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0.0
    fields = data[data.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def comm_cpu(comm: str) -> float | None:
    """CPU seconds used so far by every local process named ``comm``, reaped children included
    (postgres backends that exited count in the postmaster). None when none is visible."""
    total, seen = 0, False
    for pid in (d for d in os.listdir("/proc") if d.isdigit()):
        try:
            with open(f"/proc/{pid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        if data[data.find("(") + 1:data.rfind(")")] != comm:
            continue
        fields = data[data.rfind(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])
        seen = True
    return total / _TICK if seen else None


def proc_status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


@dataclass
class CpuMeter:
    """CPU of the consumer subprocess, the local postgres and redis-server, this process, the machine."""

    worker_pid: int
    measure_pg: bool
    measure_redis: bool
    t: float = 0.0
    worker: float = 0.0
    pg: float | None = None
    redis: float | None = None
    me: float = 0.0
    busy: tuple[int, int] = (0, 0)

    def _now(self) -> tuple:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return (time.perf_counter(), proc_cpu(self.worker_pid), comm_cpu("postgres") if self.measure_pg else None,
                comm_cpu("redis-server") if self.measure_redis else None, ru.ru_utime + ru.ru_stime, cpu_ticks())

    def start(self) -> None:
        self.t, self.worker, self.pg, self.redis, self.me, self.busy = self._now()

    def stop(self, tasks: int) -> dict:
        t, worker, pg, redis_, me, busy = self._now()
        secs = t - self.t

        def per(a, b):
            return round((a - b) / tasks * 1e6, 1) if a is not None and b is not None and tasks else None

        db, dt_ = busy[0] - self.busy[0], busy[1] - self.busy[1]
        machine = db / dt_ if dt_ else None
        used = sum(x for x in ((worker - self.worker), (pg - self.pg) if pg is not None and self.pg is not None else 0,
                               (redis_ - self.redis) if redis_ is not None and self.redis is not None else 0,
                               me - self.me))
        return {
            "consumer_us_per_task": per(worker, self.worker),
            "postgres_us_per_task": per(pg, self.pg),
            "redis_us_per_task": per(redis_, self.redis),
            "bench_us_per_task": per(me, self.me),
            "machine_busy": round(machine, 3) if machine is not None else None,
            "other_cpu_share": (round(max(0.0, machine * _NPROC * secs - used) / (_NPROC * secs), 3)
                                if machine is not None and secs else None),
        }


# ---------------------------------------------------------------- subprocesses

@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def errors(self) -> dict:
        """ERROR/CRITICAL log lines (a healthy run has none) and the exceptions they ended with."""
        lines: list[str] = []
        kinds: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text(errors="replace").splitlines():
                if re.search(r"\b(ERROR|CRITICAL)\b", line):
                    lines.append(line.strip()[:300])
                elif re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line):  # the last line of a traceback
                    kind = re.sub(r"\s+", " ", line.strip())[:200]
                    kinds[kind] = kinds.get(kind, 0) + 1
        return {"count": len(lines), "first": lines[:5],
                "exceptions": dict(sorted(kinds.items(), key=lambda kv: -kv[1])[:5])}

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to its process group (graceful: running tasks finish), SIGKILL after ``timeout``."""
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"WARNING: {self.name} did not stop within {timeout:.0f} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


RUNNING: list[Proc] = []  # stopped in main()'s finally, whatever happens


def spawn(name: str, argv: list[str], env: dict, tmp: Path) -> Proc:
    log_path = tmp / f"{name}.log"
    with open(log_path, "w") as fh:
        popen = subprocess.Popen(argv, env=env, cwd=tmp, stdout=fh, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    proc = Proc(name, popen, log_path)
    RUNNING.append(proc)
    return proc


def wait_for(predicate, timeout: float, what: str, proc: Proc | None = None, every: float = 0.02,
             describe=None):
    """Poll ``predicate`` until it is true; fail early when ``proc`` dies, and after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} while waiting for {what}:\n"
                               f"{proc.tail()}")
        if time.monotonic() > deadline:
            state = f" ({describe()})" if describe else ""
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}{state}"
                               + (f"; {proc.name} log tail:\n{proc.tail(8)}" if proc else ""))
        time.sleep(every)


# ---------------------------------------------------------------- the bench context

class Bench:
    def __init__(self, args, tmp: Path):
        self.args = args
        self.tmp = tmp
        self.pg = PgTarget(args.pg_url)
        self.db_name = f"bananapics_bench_{os.getpid()}_pipeline"
        self.db_url = self.pg.url_for(self.db_name)
        self.config_file = tmp / "bench.toml"  # empty: defaults + the environment below, nothing else
        self.config_file.write_text("# bench/pipeline.py: everything comes from BANANAPICS_* variables\n")
        self.database = None
        self.poll_conn = None
        self.next_tg = TG_BASE + (os.getpid() % 100_000) * 10_000
        self.exe = shutil.which("bananapics", path=str(Path(sys.executable).parent)) or "bananapics"

    # -- config ---------------------------------------------------------------------------
    def env(self, *, workers: int, pool_max: int, latency: float = 0.0) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BANANAPICS_", "PG"))}
        env.update({
            "BANANAPICS_CONFIG": str(self.config_file),
            "BANANAPICS_DATABASE__URL": self.db_url,
            "BANANAPICS_DATABASE__POOL_MAX": str(pool_max),
            "BANANAPICS_QUEUE__BACKEND": self.args.backend,
            "BANANAPICS_QUEUE__REDIS_URL": self.args.redis_url,
            "BANANAPICS_QUEUE__SQLITE_PATH": str(self.tmp / "queue.db"),
            "BANANAPICS_QUEUE__SIGNING_KEY": SIGNING_KEY,
            # `bananapics worker -w N` does not resize the Redis pool (see the README); keep them equal
            "BANANAPICS_QUEUE__WORKERS": str(workers),
            "BANANAPICS_STORAGE__PATH": str(self.tmp / "media"),
            "BANANAPICS_PROVIDERS__LOCAL_LATENCY_S": str(latency),
            "BANANAPICS_LOGGING__LEVEL": "INFO",
            "PGAPPNAME": APP_NAME,
            "PYTHONUNBUFFERED": "1",
        })
        if self.pg.parts.password:
            env["PGPASSWORD"] = self.pg.parts.password
        return env

    def config(self, **kw):
        from bananapics.config import load_config

        return load_config(None, environ=self.env(**kw))

    # -- queue ------------------------------------------------------------------------------
    def flush_queue(self) -> None:
        if self.args.backend == "redis":
            import redis

            client = redis.Redis.from_url(self.args.redis_url)
            try:
                client.flushdb()
            finally:
                client.close()
        else:
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    (self.tmp / f"queue.db{suffix}").unlink()

    # -- database ---------------------------------------------------------------------------
    def setup_database(self) -> dict:
        from bananapics import db as dbm
        from bananapics.config import DatabaseConfig
        from bananapics.models import AiModel
        from bananapics.services import settings
        from bananapics.services.audit import Actor

        log(f"Postgres: creating and migrating {self.db_name}")
        self.pg.create(self.db_name)
        self.database = dbm.connect(DatabaseConfig(url=self.db_url, pool_max=16))
        dbm.upgrade(self.database)
        operator = Actor.operator("bench")
        with dbm.connection():
            AiModel.update(provider="local").execute()
        settings.set_value("limits.user_parallel_jobs", USER_CAP, actor=operator, reason="bench")
        concurrency = max(16, self.args.workers, self.args.conc_workers)
        settings.set_value("limits.model_concurrency", concurrency, actor=operator, reason="bench")
        self.poll_conn = psycopg2.connect(**self.pg.dsn(self.db_name))
        self.poll_conn.autocommit = True
        rows = self.pg.sql("SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name",
                           (["server_version", "max_connections", "superuser_reserved_connections",
                             "synchronous_commit", "shared_buffers"],))
        return dict(rows) | {"limits.model_concurrency": concurrency, "limits.user_parallel_jobs": USER_CAP}

    def drop_database(self) -> None:
        with contextlib.suppress(Exception):
            if self.poll_conn is not None:
                self.poll_conn.close()
        if self.database is not None:
            with contextlib.suppress(Exception):
                self.database.close_all()
            from bananapics.models import db as proxy

            proxy.initialize(None)
        try:
            self.pg.drop(self.db_name)
        except Exception as exc:
            log(f"WARNING: could not drop database {self.db_name}: {exc}")

    def q(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.poll_conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    # -- users and jobs -----------------------------------------------------------------------
    def make_users(self, jobs: int) -> list[int]:
        """ceil(jobs / 20) users, each with enough tokens for 20 jobs (a welcome grant through the ledger)."""
        from bananapics.services import users

        ids = []
        for _ in range(max(1, math.ceil(jobs / USER_CAP))):
            self.next_tg += 1
            ids.append(users.register(self.next_tg, first_name="bench", start_balance=USER_CAP * 100).user.id)
        return ids

    def submit(self, user_ids: list[int], n: int, tag: str, threads: int = 4) -> tuple[list[str], float]:
        """``n`` jobs round-robin over the users, 4 submitting threads (one user never on two threads)."""
        from bananapics import db as dbm
        from bananapics.services import jobs

        plan = [(user_ids[i % len(user_ids)], i) for i in range(n)]
        out: list[list[str]] = [[] for _ in range(threads)]
        errors: list[str] = []

        def work(k: int) -> None:
            try:
                with dbm.connection():
                    for uid, i in plan:
                        if uid % threads == k:
                            job = jobs.submit(uid, MODEL, f"bench {tag} {i}: a banana", chat_id=uid, source="bench")
                            out[k].append(job.id)
            except Exception:
                errors.append(traceback.format_exc())

        t = time.perf_counter()
        pool = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(threads)]
        for th in pool:
            th.start()
        for th in pool:
            th.join()
        if errors:
            raise RuntimeError("submit failed:\n" + errors[0])
        return [j for chunk in out for j in chunk], time.perf_counter() - t

    def terminal(self, user_ids: list[int]) -> tuple[int, dt.datetime | None]:
        row = self.q("SELECT count(*), max(finished_at) FROM jobs WHERE user_id = ANY(%s) AND status IN %s",
                     (user_ids, TERMINAL))[0]
        return int(row[0]), row[1]

    def statuses(self, user_ids: list[int]) -> dict[str, int]:
        return dict(self.q("SELECT status, count(*) FROM jobs WHERE user_id = ANY(%s) GROUP BY status", (user_ids,)))

    def check_jobs(self, user_ids: list[int], expected: int) -> dict:
        statuses = self.statuses(user_ids)
        outbox = self.q("SELECT count(*), count(DISTINCT o.job_id), count(*) FILTER (WHERE o.kind = 'job_result') "
                        "FROM outbox o JOIN jobs j ON j.id = o.job_id WHERE j.user_id = ANY(%s)", (user_ids,))[0]
        attempts = self.q("SELECT max(attempts) FROM jobs WHERE user_id = ANY(%s)", (user_ids,))[0][0]
        ok = (statuses.get("succeeded", 0) == expected and sum(statuses.values()) == expected
              and outbox[0] == expected and outbox[1] == expected and outbox[2] == expected)
        return {"expected": expected, "statuses": statuses, "outbox_rows": outbox[0], "outbox_jobs": outbox[1],
                "outbox_job_result": outbox[2], "max_attempts_used": attempts, "ok": ok}

    def connection_headroom(self) -> int:
        """Connections this bench may open without refusing anyone else: max_connections, less the reserved
        ones, less those open now, less a margin of 10 for other clients of a shared server."""
        row = self.q("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
                     " - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')")[0]
        return int(row[0]) - 10

    def slots_in_use(self) -> int:
        return int(self.q("SELECT COALESCE(SUM(running), 0) FROM model_slots")[0][0])

    def sweep_stranded(self, cfg) -> dict:
        """After an incomplete run: one sweeper pass dated past the job deadline fails and refunds what is
        left (releasing model slots), so the next run starts clean and verify() still sees every hold closed."""
        from bananapics.models import utcnow
        from bananapics.services import jobs
        from bananapics.wiring import timing

        slots = self.slots_in_use()
        report = jobs.sweep(timing(cfg), now=utcnow() + dt.timedelta(seconds=cfg.jobs.deadline_s + 1))
        return {"slots_held_before": slots, "failed_and_refunded": len(report.failed),
                "slots_held_after": self.slots_in_use()}

    def verify(self) -> list[str]:
        from bananapics.services.verify import verify

        return [f"{b.check}: {b.detail}" for b in verify()]


def to_epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.UTC).timestamp()


# ---------------------------------------------------------------- samplers

class Sampler(threading.Thread):
    """Every 100 ms: the worker's RSS, and its Postgres connections (open; busy = not idle)."""

    def __init__(self, bench: Bench, pid: int):
        super().__init__(daemon=True)
        self.bench, self.pid = bench, pid
        self.stop_flag = threading.Event()
        self.samples = 0
        self.peak_rss_kb = 0
        self.peak_open = 0
        self.peak_busy = 0
        self.peak_db_total = 0
        self.sum_busy = 0
        self.sum_lock_wait = 0
        self.sum_idle_in_tx = 0
        self.error: str | None = None

    def run(self) -> None:
        try:
            conn = psycopg2.connect(**self.bench.pg.dsn(self.bench.pg.admin_db))  # not counted: another db
            conn.autocommit = True
        except Exception as exc:
            self.error = repr(exc)
            return
        try:
            with conn.cursor() as cur:
                while not self.stop_flag.is_set():
                    rss = proc_status_kb(self.pid, "VmRSS")
                    if rss:
                        self.peak_rss_kb = max(self.peak_rss_kb, rss)
                    cur.execute("SELECT count(*) FILTER (WHERE application_name = %s),"
                                " count(*) FILTER (WHERE application_name = %s AND state <> 'idle'),"
                                " count(*) FILTER (WHERE application_name = %s AND wait_event_type = 'Lock'),"
                                " count(*) FILTER (WHERE application_name = %s AND state = 'idle in transaction'),"
                                " count(*) FROM pg_stat_activity WHERE datname = %s",
                                (APP_NAME, APP_NAME, APP_NAME, APP_NAME, self.bench.db_name))
                    opened, busy, lock_wait, idle_tx, total = cur.fetchone()
                    self.peak_open = max(self.peak_open, opened)
                    self.peak_busy = max(self.peak_busy, busy)
                    self.peak_db_total = max(self.peak_db_total, total)
                    self.sum_busy += busy
                    self.sum_lock_wait += lock_wait
                    self.sum_idle_in_tx += idle_tx
                    self.samples += 1
                    self.stop_flag.wait(SAMPLE_S)
        except Exception as exc:
            self.error = repr(exc)
        finally:
            conn.close()

    def finish(self) -> dict:
        self.stop_flag.set()
        self.join(5)
        hwm = proc_status_kb(self.pid, "VmHWM")
        return {"samples": self.samples, "peak_rss_mb_sampled": round(self.peak_rss_kb / 1024, 1),
                "vm_hwm_mb": round(hwm / 1024, 1) if hwm else None,
                "peak_connections_open": self.peak_open, "peak_connections_busy": self.peak_busy,
                "peak_connections_db_total": self.peak_db_total,
                # means over the samples: connections in a transaction, waiting for a row lock, and
                # idle in transaction (the client holds a transaction open between statements)
                "mean_busy": round(self.sum_busy / self.samples, 1) if self.samples else None,
                "mean_lock_wait": round(self.sum_lock_wait / self.samples, 1) if self.samples else None,
                "mean_idle_in_transaction": round(self.sum_idle_in_tx / self.samples, 1) if self.samples else None,
                "error": self.error}


# ---------------------------------------------------------------- part 1: throughput

def raw_run(b: Bench, n: int, workers: int, mode: str = "noop") -> dict:
    """``mode`` "noop": an empty task; "work": the task draws the job's image with the local
    provider and stores it, exactly as a job does, without claim, ledger, finish or outbox."""
    from bananapics.models import AiModel
    from bananapics.services import pricing
    from bananapics.tasks.queue import make_huey

    cfg = b.config(workers=workers, pool_max=max(20, workers + 4))
    b.flush_queue()
    huey = make_huey(cfg.queue)

    def noop_body(phase):  # the consumer registers the same task name; this body never runs here
        return None

    noop_body.__module__ = "bananapics_bench"  # Huey's task name is module.name, whoever imports this file
    noop = huey.task(name="noop")(noop_body)

    status = b.tmp / "raw-status"
    rounds = max(1, b.args.raw_rounds)
    for path in b.tmp.glob("raw-status.*"):
        path.unlink()
    env = b.env(workers=workers, pool_max=max(20, workers + 4)) | {
        "BENCH_WARM": str(workers), "BENCH_N": str(n), "BENCH_STATUS": str(status), "BENCH_WORKERS": str(workers),
        "BENCH_MODE": mode,
        "BENCH_SETTINGS": json.dumps(pricing.cost(AiModel.get_by_id(MODEL), {"refs": 0}).settings)}
    log(f"raw: consumer with {workers} threads; {workers} warm-up, then {rounds} round(s) of {n:,} {mode} tasks")
    proc = spawn("raw-consumer", [sys.executable, "-c", RAW_CONSUMER], env, b.tmp)
    results = []
    try:
        for _ in range(workers):
            noop("w")
        wait_for(lambda: Path(f"{status}.warm").exists(), 60, "the raw consumer's warm-up", proc)
        meter = CpuMeter(proc.pid, b.pg.is_local(), b.args.backend == "redis")
        meter.start()
        for k in range(rounds):
            done_file = Path(f"{status}.m{k}")
            t0 = time.time()
            for _ in range(n):
                noop(f"m{k}")
            enqueued = time.time() - t0
            done = wait_for(lambda: done_file.exists() and json.loads(done_file.read_text()),
                            max(60, n / 50), "the raw tasks to drain", proc)
            results.append({"seconds": round(done["last"] - t0, 3), "per_s": round(n / (done["last"] - t0), 1),
                            "enqueue_seconds": round(enqueued, 3)})
        cpu = meter.stop(n * rounds)
        pending = huey.pending_count()
    finally:
        proc.stop()
    errors = proc.errors()
    b.flush_queue()
    median = sorted(results, key=lambda r: r["per_s"])[len(results) // 2]
    return {"tasks": n, "workers": workers, "rounds": results, "seconds": median["seconds"], "per_s": median["per_s"],
            "enqueue_seconds": median["enqueue_seconds"], "enqueue_per_s": round(n / median["enqueue_seconds"], 1),
            "left_in_queue": pending, "worker_errors": errors} | cpu


def pipeline_run(b: Bench, n: int, workers: int) -> dict:
    from bananapics.wiring import build_tasks

    cfg = b.config(workers=workers, pool_max=max(20, workers + 4))
    b.flush_queue()
    tasks = build_tasks(cfg)
    log(f"pipeline: submitting {workers} warm-up + {n:,} jobs ({MODEL}, local provider, 0 s)")
    warm_users = b.make_users(workers)
    users = b.make_users(n)
    warm_ids, _ = b.submit(warm_users, workers, "warm")
    ids, submit_s = b.submit(users, n, "p1")
    log(f"  submitted in {submit_s:.1f} s ({n / submit_s:.0f} jobs/s on 4 threads); starting the worker")
    env = b.env(workers=workers, pool_max=max(20, workers + 4))
    proc = spawn("pipeline-worker", [b.exe, "worker", "-w", str(workers), "--no-periodic"], env, b.tmp)
    sampler = None
    try:
        for job_id in warm_ids:
            tasks.enqueue(job_id)
        wait_for(lambda: b.terminal(warm_users)[0] == len(warm_ids), 60, "the warm-up jobs", proc, every=0.05)
        sampler = Sampler(b, proc.pid)
        sampler.start()
        meter = CpuMeter(proc.pid, b.pg.is_local(), b.args.backend == "redis")
        meter.start()
        t0 = time.time()
        for job_id in ids:
            tasks.enqueue(job_id)
        enqueued = time.time() - t0
        wait_for(lambda: b.terminal(users)[0] == n, max(120, n / 10), "every pipeline job to finish", proc,
                 every=SAMPLE_S, describe=lambda: f"jobs {b.statuses(users)}")
        cpu = meter.stop(n)
        last = b.terminal(users)[1]
        seconds = to_epoch(last) - t0
        samples = sampler.finish()
        pending = tasks.huey.pending_count()
    finally:
        if sampler is not None:
            sampler.stop_flag.set()
        proc.stop()
    errors = proc.errors()
    checks = b.check_jobs(users, n)
    b.flush_queue()
    return {"jobs": n, "workers": workers, "seconds": round(seconds, 3), "per_s": round(n / seconds, 1),
            "enqueue_seconds": round(enqueued, 3), "enqueue_per_s": round(n / enqueued, 1),
            "submit_seconds": round(submit_s, 2), "submit_per_s": round(n / submit_s, 1),
            "left_in_queue": pending, "checks": checks, "worker": samples, "worker_errors": errors} | cpu


# ---------------------------------------------------------------- part 2: concurrency

def concurrency_run(b: Bench, n: int, workers: int, latency: float, pool_max: int) -> dict:
    """One worker process × ``workers`` threads, ``n`` jobs of ``latency`` s each; stops early when jobs are
    stranded (nothing running, nothing left in the queue, some jobs still queued: their task failed)."""
    from bananapics.wiring import build_tasks

    cfg = b.config(workers=workers, pool_max=pool_max, latency=latency)
    b.flush_queue()
    tasks = build_tasks(cfg)
    log(f"concurrency: {n} jobs, worker -w {workers}, provider latency {latency:g} s, pool_max {pool_max}")
    warm_users = b.make_users(1)
    users = b.make_users(n)
    warm_ids, _ = b.submit(warm_users, 1, f"warm-{pool_max}")
    ids, _ = b.submit(users, n, f"c{pool_max}")
    if b.slots_in_use():
        raise RuntimeError(f"{b.slots_in_use()} model slot(s) still taken before the run")
    env = b.env(workers=workers, pool_max=pool_max, latency=latency)
    proc = spawn(f"concurrency-worker-pool{pool_max}", [b.exe, "worker", "-w", str(workers), "--no-periodic"],
                 env, b.tmp)
    sampler = Sampler(b, proc.pid)
    stalled: dict = {}

    def finished_or_stranded() -> bool:
        """Done, or stuck: the queue is empty and no job has finished for latency + 3 s (the rest failed
        in their task: still queued, or left running until their lease expires)."""
        done, _ = b.terminal(users)
        if done == n:
            return True
        now = time.monotonic()
        if done != stalled.get("done") or tasks.huey.pending_count():
            stalled.update(done=done, since=now)
            return False
        if now - stalled["since"] > latency + 3:
            stalled["statuses"] = b.statuses(users)
            return True
        return False

    try:
        sampler.start()
        tasks.enqueue(warm_ids[0])
        wait_for(lambda: b.terminal(warm_users)[0] == 1, 60 + latency, "the warm-up job", proc, every=0.05)
        meter = CpuMeter(proc.pid, b.pg.is_local(), b.args.backend == "redis")
        meter.start()
        t0 = time.time()
        for job_id in ids:
            tasks.enqueue(job_id)
        enqueued = time.time() - t0
        wait_for(finished_or_stranded, 30 + 4 * latency * math.ceil(n / workers), "every concurrent job", proc,
                 every=SAMPLE_S, describe=lambda: f"jobs {b.statuses(users)}")
        done, _ = b.terminal(users)
        cpu = meter.stop(done)
        samples = sampler.finish()
        rows = b.q("SELECT started_at, finished_at FROM jobs WHERE user_id = ANY(%s)", (users,))
    finally:
        sampler.stop_flag.set()
        proc.stop()
    errors = proc.errors()
    starts = sorted(to_epoch(r[0]) - t0 for r in rows if r[0]) or [float("nan")]
    ends = sorted(to_epoch(r[1]) - t0 for r in rows if r[1]) or [float("nan")]
    ideal = math.ceil(n / workers) * latency
    complete = done == n
    wall = ends[-1] if complete else None
    checks = b.check_jobs(users, n)
    b.flush_queue()
    cleanup = None if complete else b.sweep_stranded(cfg)

    def spread(values: list[float]) -> dict:
        return {"first": round(values[0], 3), "p50": round(values[len(values) // 2], 3), "last": round(values[-1], 3)}

    return {"jobs": n, "workers": workers, "latency_s": latency, "pool_max": pool_max, "complete": complete,
            "finished": done, "stranded": {k: v for k, v in stalled.get("statuses", {}).items() if k not in TERMINAL}
            if not complete else None,
            "wall_seconds": round(wall, 3) if wall is not None else None, "ideal_seconds": ideal,
            "ratio": round(wall / ideal, 3) if wall is not None else None,
            "enqueue_seconds": round(enqueued, 3), "start_spread_s": spread(starts), "finish_s": spread(ends),
            "checks": checks, "worker": samples, "worker_errors": errors, "cleanup": cleanup} | cpu


# ---------------------------------------------------------------- report

def software() -> dict:
    import huey
    import peewee
    import redis

    return {"huey": huey.__version__, "redis_py": redis.__version__, "peewee": peewee.__version__,
            "psycopg2": psycopg2.__version__.split()[0]}


def redis_server_info(url: str) -> dict:
    import redis

    client = redis.Redis.from_url(url)
    try:
        info = client.info("server")
        return {"redis_version": info.get("redis_version"), "dbsize_before": client.dbsize()}
    finally:
        client.close()


def _us(v) -> str:
    return f"{v:>9.0f}" if v is not None else f"{'-':>9}"


def print_report(r: dict) -> None:
    p = lambda *a: print(*a, file=OUT)  # noqa: E731
    m, s = r["machine"], r["software"]
    p("")
    p("BananaPics pipeline benchmark")
    p("=" * 104)
    p(f"machine   nproc={m['nproc']}  cpu={m.get('cpu', '?')}  mem={m.get('mem_gib', '?')} GiB  "
      f"load(1m) at start={m['loadavg_at_start']:.2f}")
    p(f"software  python {m['python']}  huey {s['huey']}  redis-py {s['redis_py']}  peewee {s['peewee']}  "
      f"psycopg2 {s['psycopg2']}")
    pg = r.get("postgres", {})
    p(f"postgres  {pg.get('server_version', '?')}  max_connections={pg.get('max_connections', '?')}  "
      f"synchronous_commit={pg.get('synchronous_commit', '?')}  database {r['database']}")
    q = r["queue"]
    p(f"queue     {q['backend']}  {q['where']}  (signed payloads; consumer: thread workers, periodic off)")
    p("")
    t = r.get("throughput")
    if t:
        raw, work, pipe = t.get("raw"), t.get("raw_work"), t.get("pipeline")
        p(f"Part 1: throughput, {r['jobs']:,} tasks/jobs, one consumer process with {r['workers']} thread workers")
        p("-" * 104)
        p(f"{'':38}{'per s':>8}{'seconds':>9}{'consumer':>9}{'postgres':>9}{'redis':>9}{'bench':>9}{'busy':>6}"
          f"{'other':>6}")
        p(f"{'':38}{'':>8}{'':>9}{'µs/task':>9}{'µs/task':>9}{'µs/task':>9}{'µs/task':>9}")
        for name, row in ((f"raw Huey no-op task (median of {len(raw['rounds']) if raw else 0})", raw),
                          (f"raw Huey task, job's work (median of {len(work['rounds']) if work else 0})", work),
                          ("pipeline job (local provider, 0 s)", pipe)):
            if row:
                busy = f"{row['machine_busy'] * 100:>5.0f}%" if row.get("machine_busy") is not None else f"{'-':>6}"
                other = f"{row['other_cpu_share'] * 100:>5.0f}%" if row.get("other_cpu_share") is not None else f"{'-':>6}"
                p(f"{name:38}{row['per_s']:>8.0f}{row['seconds']:>9.2f}{_us(row['consumer_us_per_task'])}"
                  f"{_us(row['postgres_us_per_task'])}{_us(row['redis_us_per_task'])}{_us(row['bench_us_per_task'])}"
                  f"{busy}{other}")
        if pipe:
            c = pipe["checks"]
            p(f"jobs: {c['statuses']}; outbox: {c['outbox_rows']} rows for {c['outbox_jobs']} jobs "
              f"({c['outbox_job_result']} job_result); most attempts {c['max_attempts_used']}; "
              f"worker peak {pipe['worker']['peak_connections_open']} DB connections, "
              f"RSS {pipe['worker']['vm_hwm_mb']} MB")
            p(f"enqueue (this process): raw {raw['enqueue_per_s']:.0f}/s, pipeline {pipe['enqueue_per_s']:.0f}/s; "
              f"submit (untimed setup, 4 threads): {pipe['submit_per_s']:.0f} jobs/s" if raw else "")
        if raw and len(raw["rounds"]) > 1:
            p("raw rounds: " + ", ".join(f"{x['per_s']:.0f}/s" for x in raw["rounds"]))
        if "ratio" in t:
            verdict = "OK" if t["ratio_work"] >= RATIO_GOAL else "BELOW GOAL"
            p(f"ratio pipeline jobs/s ÷ raw tasks/s doing the same work = {t['ratio_work']:.2f}   "
              f"(goal ≥ {RATIO_GOAL}: {verdict})")
            p(f"ratio pipeline jobs/s ÷ raw no-op tasks/s            = {t['ratio']:.2f}   "
              f"(ceiling {t['ceiling']:.2f}: a task that only draws and stores the image, with no bookkeeping)")
        p("")
    for c in r.get("concurrency", []):
        w, g = c["worker"], c["goals"]
        p(f"Part 2: concurrency, {c['jobs']} jobs, local provider {c['latency_s']:g} s, one worker process × "
          f"{c['workers']} threads, DATABASE__POOL_MAX={c['pool_max']}"
          + (f" (asked {c['pool_max_requested']})" if c.get("pool_max_requested", c["pool_max"]) != c["pool_max"] else ""))
        p("-" * 104)
        ok = lambda good: "OK" if good else "MISSED"  # noqa: E731
        ideal = f"ideal {c['jobs']}/{c['workers']} × {c['latency_s']:g} s = {c['ideal_seconds']:.1f} s"
        if c["complete"]:
            p(f"wall {c['wall_seconds']:.2f} s vs {ideal}: ratio {c['ratio']:.2f}   (goal ≤ {WALL_GOAL}: {ok(g['wall'])})")
        else:
            p(f"INCOMPLETE: {c['finished']} of {c['jobs']} jobs finished; then nothing ran and the queue was empty "
              f"with jobs left {c['stranded']}: their tasks failed, and only the sweeper brings such jobs back   "
              f"({ideal}; goal ≤ {WALL_GOAL}: MISSED)")
        ss, fs = c["start_spread_s"], c["finish_s"]
        p(f"  claims started at {ss['first']:.2f} / {ss['p50']:.2f} / {ss['last']:.2f} s (first/p50/last), "
          f"finished at {fs['first']:.2f} / {fs['p50']:.2f} / {fs['last']:.2f} s after the first enqueue")
        p(f"peak RSS {c['peak_rss_mb']:.0f} MB (VmHWM of the worker; sampled VmRSS peak {w['peak_rss_mb_sampled']:.0f} MB)"
          f"   (goal ≤ {RSS_GOAL_MB}: {ok(g['rss'])})")
        p(f"peak DB connections of the worker: {w['peak_connections_open']} open, {w['peak_connections_busy']} busy "
          f"at once; {c['workers']} threads ({w['samples']} samples, every {SAMPLE_S * 1000:.0f} ms)   "
          f"(goal ≤ {c['connection_goal']}: {ok(g['connections'])})")
        p(f"  on average {w['mean_busy']} in a transaction: {w['mean_lock_wait']} waiting for a row lock, "
          f"{w['mean_idle_in_transaction']} idle in transaction (waiting for the worker's next statement)")
        p(f"CPU per finished job: worker {_us(c['consumer_us_per_task']).strip()} µs, postgres "
          f"{_us(c['postgres_us_per_task']).strip()} µs, redis {_us(c['redis_us_per_task']).strip()} µs; "
          f"machine busy {(c['machine_busy'] or 0) * 100:.0f}%")
        cc = c["checks"]
        p(f"jobs: {cc['statuses']}; outbox: {cc['outbox_rows']} rows for {cc['outbox_jobs']} jobs")
        if c.get("cleanup"):
            cl = c["cleanup"]
            p(f"cleanup: model slots held by stranded jobs {cl['slots_held_before']}; one sweep dated past the "
              f"deadline failed and refunded {cl['failed_and_refunded']} job(s); slots held after "
              f"{cl['slots_held_after']}")
        e = c["worker_errors"]
        if e["count"]:
            p(f"worker log: {e['count']} ERROR line(s); exceptions: "
              + "; ".join(f"{v}× {k}" for k, v in e["exceptions"].items()))
        p("")
    p(f"verify(): {len(r.get('breaches', []))} breaches")
    for line in r.get("breaches", [])[:10]:
        p(f"  BREACH {line}")
    print_footer(p, r)


# ---------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("redis", "sqlite"), default="redis", help="Huey storage (default redis)")
    ap.add_argument("--jobs", type=int, default=2000, help="part 1: tasks and jobs (default 2000)")
    ap.add_argument("--workers", type=int, default=8, help="part 1: consumer thread workers (default 8)")
    ap.add_argument("--pg-url", default=os.environ.get("BANANAPICS_BENCH_PG", DEFAULT_PG_URL),
                    help=f"Postgres admin URL; a throwaway database is made next to it (default {DEFAULT_PG_URL})")
    ap.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                    help=f"a Redis database this bench may FLUSH (default {DEFAULT_REDIS_URL})")
    ap.add_argument("--raw-rounds", type=int, default=3,
                    help="part 1: rounds of N raw tasks on one consumer; the median round is the baseline (default 3)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-concurrency", action="store_true")
    ap.add_argument("--conc-jobs", type=int, default=512, help="part 2: jobs (default 512)")
    ap.add_argument("--conc-workers", type=int, default=128, help="part 2: worker threads (default 128)")
    ap.add_argument("--latency", type=float, default=2.0, help="part 2: local provider seconds per call (default 2)")
    ap.add_argument("--conc-pool-max", default="140,20",
                    help="part 2: BANANAPICS_DATABASE__POOL_MAX of the worker, one run per comma-separated value "
                         "(default 140,20: a pool that is not the limit, then the shipped default)")
    ap.add_argument("--exhaust-server", action="store_true",
                    help="part 2: keep a pool_max above what the Postgres server has left (other clients of the "
                         "server are then refused connections; the worker's own tasks fail with 'too many clients')")
    ap.add_argument("--keep-tmp", action="store_true",
                    help="keep the temporary directory (consumer logs, queue file, images) and print its path")
    ap.add_argument("--check-goals", action="store_true", help="exit 3 when a goal is missed (default: report)")
    ap.add_argument("--json", action="store_true", help="JSON on stdout (the report goes to stderr)")
    args = ap.parse_args(argv)
    try:
        args.conc_pool_max = [int(x) for x in str(args.conc_pool_max).split(",") if x.strip()]
    except ValueError:
        ap.error("--conc-pool-max takes comma-separated integers")
    if min(args.jobs, args.workers, args.conc_jobs, args.conc_workers, *args.conc_pool_max) < 1 or args.latency <= 0:
        ap.error("sizes must be positive")
    if args.backend == "redis" and urlsplit(args.redis_url).path.strip("/") in ("", "0"):
        ap.error("--redis-url must name a dedicated database number (not 0): the bench flushes it")
    return args


def main(argv: list[str] | None = None) -> int:
    global OUT
    args = parse_args(argv)
    if args.json:
        OUT = sys.stderr

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    report: dict = {"machine": machine_facts(), "software": software(), "jobs": args.jobs, "workers": args.workers,
                    "goals": {"ratio_min": RATIO_GOAL, "wall_ratio_max": WALL_GOAL, "rss_mb_max": RSS_GOAL_MB,
                              "connections_max_share_of_threads": CONN_GOAL_SHARE},
                    "problems": [], "notes": []}
    code = 0
    goals_missed: list[str] = []
    tmp_ctx = (contextlib.nullcontext(tempfile.mkdtemp(prefix="bananapics_bench_pipeline_")) if args.keep_tmp
               else tempfile.TemporaryDirectory(prefix="bananapics_bench_pipeline_"))
    with tmp_ctx as tmp:
        b = Bench(args, Path(tmp))
        if args.keep_tmp:
            report["notes"].append(f"kept the temporary directory {tmp} (logs: *.log)")
        report["database"] = b.db_name
        report["queue"] = {"backend": args.backend,
                           "where": args.redis_url if args.backend == "redis" else str(b.tmp / "queue.db")}
        try:
            if args.backend == "redis":
                report["queue"] |= redis_server_info(args.redis_url)
                if report["queue"]["dbsize_before"]:
                    report["notes"].append(f"{args.redis_url} held {report['queue']['dbsize_before']} keys; flushed")
            report["postgres"] = b.setup_database()
            if not args.skip_throughput:
                t: dict = {}
                report["throughput"] = t
                t["raw"] = raw_run(b, args.jobs, args.workers)
                log(f"  raw: {t['raw']['per_s']:.0f} tasks/s")
                t["raw_work"] = raw_run(b, args.jobs, args.workers, mode="work")
                log(f"  raw with the job's work: {t['raw_work']['per_s']:.0f} tasks/s")
                t["pipeline"] = pipeline_run(b, args.jobs, args.workers)
                log(f"  pipeline: {t['pipeline']['per_s']:.0f} jobs/s")
                t["ratio"] = round(t["pipeline"]["per_s"] / t["raw"]["per_s"], 3)
                t["ratio_work"] = round(t["pipeline"]["per_s"] / t["raw_work"]["per_s"], 3)
                t["ceiling"] = round(t["raw_work"]["per_s"] / t["raw"]["per_s"], 3)
                if t["ratio_work"] < RATIO_GOAL:
                    goals_missed.append(f"pipeline ÷ raw with the same work = {t['ratio_work']:.2f} < {RATIO_GOAL}")
            if not args.skip_concurrency:
                report["concurrency"] = []
                for requested in args.conc_pool_max:
                    pool_max, headroom = requested, b.connection_headroom()
                    if requested > headroom and not args.exhaust_server:
                        pool_max = max(1, headroom)
                        report["notes"].append(
                            f"part 2: pool_max {requested} lowered to {pool_max}, what the server can give without "
                            f"refusing other clients (max_connections {report['postgres']['max_connections']}); "
                            "--exhaust-server keeps it")
                    c = concurrency_run(b, args.conc_jobs, args.conc_workers, args.latency, pool_max)
                    c["pool_max_requested"] = requested
                    report["concurrency"].append(c)
                    c["peak_rss_mb"] = c["worker"]["vm_hwm_mb"] or c["worker"]["peak_rss_mb_sampled"]
                    c["connection_goal"] = int(args.conc_workers * CONN_GOAL_SHARE)
                    c["goals"] = {"wall": bool(c["complete"] and c["ratio"] <= WALL_GOAL),
                                  "rss": c["peak_rss_mb"] <= RSS_GOAL_MB,
                                  "connections": c["worker"]["peak_connections_open"] <= c["connection_goal"]}
                    tag = f"part 2 (pool_max {pool_max})"
                    if c["complete"]:
                        log(f"  wall {c['wall_seconds']:.2f} s (ideal {c['ideal_seconds']:.1f} s), "
                            f"{c['worker']['peak_connections_open']} connections, {c['peak_rss_mb']:.0f} MB")
                    else:
                        log(f"  INCOMPLETE: {c['finished']}/{c['jobs']} jobs finished, "
                            f"{c['worker']['peak_connections_open']} connections")
                    if not c["goals"]["wall"]:
                        goals_missed.append(f"{tag}: " + (f"wall ÷ ideal = {c['ratio']:.2f} > {WALL_GOAL}"
                                                          if c["complete"] else "did not complete"))
                    if not c["goals"]["rss"]:
                        goals_missed.append(f"{tag}: peak RSS {c['peak_rss_mb']:.0f} MB > {RSS_GOAL_MB}")
                    if not c["goals"]["connections"]:
                        goals_missed.append(f"{tag}: peak connections {c['worker']['peak_connections_open']} > "
                                            f"{c['connection_goal']}")
                    if c["worker"]["error"]:
                        report["problems"].append(f"{tag}: the sampler failed: {c['worker']['error']}")
                        code = 1
            log("verify()")
            report["breaches"] = b.verify()
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            report["problems"].append(f"bench failed: {exc}")
            log(traceback.format_exc())
            code = 1
        finally:
            for proc in RUNNING:
                with contextlib.suppress(Exception):
                    proc.stop(10)
            with contextlib.suppress(Exception):
                b.flush_queue()
            b.drop_database()

    runs = [(name, row) for name, row in (("raw", report.get("throughput", {}).get("raw")),
                                          ("raw work", report.get("throughput", {}).get("raw_work")),
                                          ("pipeline", report.get("throughput", {}).get("pipeline"))) if row]
    runs += [(f"part 2 (pool_max {c['pool_max']})", c) for c in report.get("concurrency", [])]
    bad = False
    for name, row in runs:
        errors = row.get("worker_errors") or {}
        if errors.get("count"):
            kinds = "; ".join(f"{v}× {k}" for k, v in errors["exceptions"].items()) or errors["first"][0]
            report["problems"].append(f"{name}: {errors['count']} ERROR line(s) in the consumer log: {kinds}")
            code = code or 1
        if row.get("left_in_queue"):
            report["problems"].append(f"{name}: {row['left_in_queue']} task(s) left in the queue")
            code = code or 1
        if row.get("complete") is False:
            report["problems"].append(f"{name}: {row['jobs'] - row['finished']} job(s) stranded {row['stranded']}")
            code = code or 1
        elif "checks" in row and not row["checks"]["ok"]:
            report["problems"].append(f"{name}: jobs {row['checks']['statuses']}, outbox rows "
                                      f"{row['checks']['outbox_rows']} for {row['checks']['expected']} jobs")
            bad = True
        if row.get("other_cpu_share") and row["other_cpu_share"] > 0.10:
            report["notes"].append(f"{name}: other processes used {row['other_cpu_share']:.0%} of the CPUs; "
                                   "rates are depressed, rerun on a quiet machine")
    if report.get("breaches"):
        report["problems"].append(f"verify() found {len(report['breaches'])} breach(es)")
        bad = True
    if bad and code in (0, 1):
        code = 2
    for miss in goals_missed:
        report["notes"].append(f"goal missed: {miss}")
    if code == 0 and goals_missed and args.check_goals:
        code = 3
    report["status"] = {0: "ok", 1: "error", 2: "wrong results", 3: "goal missed"}[code] + (
        f" ({len(goals_missed)} goal(s) missed)" if code == 0 and goals_missed else "")
    report["exit_code"] = code
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    print_report(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
