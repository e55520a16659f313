#!/usr/bin/env python
"""Ledger throughput benchmark: the BananaPics ledger service against pgbench and raw sqlite3.

Usage (from the repository top)::

    .venv/bin/python bench/ledger.py [--seconds N] [--threads 8] [--pg-url URL]
                                     [--skip-sqlite] [--skip-postgres] [--json]

Postgres part (the server named by ``--pg-url``; the bench creates and always drops its own databases):

1. ``<prefix>_pgbench``: ``pgbench -i -s 10``, then ``pgbench -b tpcb-like -c T -j 2 -T N -n``.
2. ``<prefix>_ledger``: the BananaPics schema (``bananapics.db.upgrade``), 10,000 users whose
   starting balance is a ``ledger.grant`` each, then T threads for N seconds, each holding one pooled
   connection, doing hold → settle (70 %) / partial_settle (10 %) / refund (20 %) through
   ``bananapics.services.ledger`` only.
3. ``verify()`` afterwards; any breach fails the run.
4. ledger transactions/s ÷ pgbench TPS (target ≥ 0.6): one service call = one DB transaction.

SQLite part: the same mix on a migrated, seeded SQLite file (1 and 4 threads) through the service,
and the same statements through raw ``sqlite3`` (same schema file, ``BEGIN IMMEDIATE``, WAL,
``synchronous=FULL``, ``foreign_keys=1``, same busy timeout); ``verify()`` on every file written.

Exit status: 0 ok, 1 error (setup failure or an operation raised), 2 ledger invariants broken,
3 a ratio below ``--min-ratio`` (only when that option is given).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import peewee as pw  # noqa: E402
import psycopg2  # noqa: E402

from bananapics import db as dbm  # noqa: E402
from bench.common import cpu_ticks as _cpu_ticks, log, print_footer  # noqa: E402
from bananapics.config import DatabaseConfig  # noqa: E402
from bananapics.models import User, utcnow  # noqa: E402
from bananapics.models import db as proxy  # noqa: E402
from bananapics.services import ledger  # noqa: E402
from bananapics.services.verify import verify  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PGBENCH = shutil.which("pgbench") or "/usr/bin/pgbench"
PGBENCH_SCALE = 10
N_USERS = 10_000
START_BALANCE = 1_000_000  # large enough that no hold in a run can fail for lack of tokens
TG_BASE = 7_000_000_000
TARGET_RATIO = 0.6
ACTOR = "bench"
MIX = (("settle", 0.70), ("partial", 0.10), ("refund", 0.20))

OUT = sys.stdout  # human-readable output; moves to stderr with --json


# ---------------------------------------------------------------- the workload

@dataclass
class WorkerStats:
    holds: int = 0
    settles: int = 0
    partials: int = 0
    refunds: int = 0
    hold_lat: list[float] = field(default_factory=list)
    finish_lat: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    first_error: str | None = None
    fatal: str | None = None
    end: float = 0.0


@dataclass
class RunResult:
    label: str
    threads: int
    seconds: float
    holds: int
    finishes: int
    settles: int
    partials: int
    refunds: int
    errors: dict[str, int]
    first_error: str | None
    hold_ms: dict[str, float]
    finish_ms: dict[str, float]
    client_cpu_s: float = 0.0  # this process (user+sys) during the run
    server_cpu_s: float | None = None  # local postgres processes during the run (Postgres runs only)
    machine_busy: float = 0.0  # share of all CPUs busy during the run (/proc/stat), 0..1

    @property
    def ops(self) -> int:
        return self.holds + self.finishes

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0

    @property
    def cycles_per_s(self) -> float:
        return self.finishes / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "label": self.label, "threads": self.threads, "seconds": round(self.seconds, 3),
            "ops": self.ops, "ops_per_s": round(self.ops_per_s, 1),
            "cycles": self.finishes, "cycles_per_s": round(self.cycles_per_s, 1),
            "holds": self.holds, "settles": self.settles, "partial_settles": self.partials,
            "refunds": self.refunds, "errors": self.errors, "first_error": self.first_error,
            "hold_latency_ms": self.hold_ms, "finish_latency_ms": self.finish_ms,
            "client_cpu_s": round(self.client_cpu_s, 2),
            "client_cpu_us_per_op": round(self.client_cpu_s / self.ops * 1e6, 1) if self.ops else None,
            "client_cpu_share_of_machine": round(self.client_cpu_s / (self.seconds * _NPROC), 3) if self.seconds else None,
            "machine_busy": round(self.machine_busy, 3),
            "server_cpu_us_per_op": (round(self.server_cpu_s / self.ops * 1e6, 1)
                                     if self.server_cpu_s is not None and self.ops else None),
            "other_cpu_share": round(_other_share(self.machine_busy, self.seconds, self.client_cpu_s,
                                                  self.server_cpu_s), 3),
        }


_NPROC = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _pg_server_cpu() -> float | None:
    """CPU seconds used so far by local ``postgres`` processes, including backends that have exited
    (the postmaster's reaped-children time). None when /proc is unavailable; meaningless for a
    remote server."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, seen = 0, False
    try:
        pids = [d for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.find("(") + 1:data.rfind(")")]
        if comm != "postgres":
            continue
        fields = data[data.rfind(")") + 2:].split()
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        seen = True
    return total / tick if seen else None


def _other_share(busy: float | None, seconds: float, client_s: float, server_s: float | None) -> float:
    """Share of the machine's CPU used by neither the client nor the local postgres during a run:
    other sessions, autovacuum launcher noise, the kernel's own threads. Large values mean a noisy box."""
    if not busy or not seconds:
        return 0.0
    return max(0.0, busy * _NPROC * seconds - client_s - (server_s or 0.0)) / (_NPROC * seconds)


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    s = sorted(samples)

    def at(q: float) -> float:
        return round(s[min(len(s) - 1, int(q * len(s)))] * 1000, 3)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(s[-1] * 1000, 3)}


class Session:
    """One thread's way to run the four ledger operations (service, raw sqlite3 or raw psycopg2)."""

    def hold(self, user_id: int, amount: int, ref: str) -> None: ...
    def settle(self, ref: str) -> None: ...
    def partial(self, ref: str, delivered: int, requested: int) -> None: ...
    def refund(self, ref: str) -> None: ...


class ServiceSession(Session):
    """The real thing: bananapics.services.ledger on the thread's (already borrowed) connection."""

    def hold(self, user_id, amount, ref):
        ledger.hold(user_id, amount, ref, actor=ACTOR)

    def settle(self, ref):
        ledger.settle(ref, actor=ACTOR)

    def partial(self, ref, delivered, requested):
        ledger.partial_settle(ref, delivered, requested, actor=ACTOR)

    def refund(self, ref):
        ledger.refund(ref, actor=ACTOR)


@contextlib.contextmanager
def service_session() -> Iterator[Session]:
    # One connection per thread for the whole loop: the nested connection_context() inside every
    # atomic() then reuses it instead of checking a pooled connection out and in per call.
    with dbm.connection():
        yield ServiceSession()


def run_mix(label: str, make_session: Callable[[], contextlib.AbstractContextManager[Session]],
            threads: int, seconds: float, user_ids: list[int], seed: int,
            stop: threading.Event, measure_server: bool = False) -> RunResult:
    """``threads`` workers, each: hold(random user, small amount, unique ref) then settle/partial/refund."""
    stats = [WorkerStats() for _ in range(threads)]
    t0: list[float] = [0.0]
    barrier = threading.Barrier(threads, action=lambda: t0.__setitem__(0, time.perf_counter()))
    tag = f"{label}-{os.getpid()}-{seed}"

    def worker(i: int) -> None:
        st = stats[i]
        rng = random.Random(seed * 1009 + i)
        try:
            with make_session() as session:
                barrier.wait()
                deadline = t0[0] + seconds
                n = 0
                perf = time.perf_counter
                while not stop.is_set() and perf() < deadline:
                    user_id = user_ids[rng.randrange(len(user_ids))]
                    amount = rng.randint(4, 40)
                    ref = f"{tag}-{i}-{n}"
                    n += 1
                    t1 = perf()
                    try:
                        session.hold(user_id, amount, ref)
                    except Exception as exc:  # counted, reported, and fails the run
                        st.errors[f"hold:{type(exc).__name__}"] += 1
                        st.first_error = st.first_error or f"hold {ref}: {exc!r}"
                        if sum(st.errors.values()) > 100:
                            break
                        continue
                    t2 = perf()
                    st.hold_lat.append(t2 - t1)
                    st.holds += 1
                    r = rng.random()
                    try:
                        if r < MIX[0][1]:
                            session.settle(ref)
                            st.settles += 1
                        elif r < MIX[0][1] + MIX[1][1]:
                            session.partial(ref, rng.randint(1, 3), 4)
                            st.partials += 1
                        else:
                            session.refund(ref)
                            st.refunds += 1
                    except Exception as exc:
                        st.errors[f"finish:{type(exc).__name__}"] += 1
                        st.first_error = st.first_error or f"finish {ref}: {exc!r}"
                        if sum(st.errors.values()) > 100:
                            break
                        continue
                    st.finish_lat.append(perf() - t2)
                st.end = perf()
        except threading.BrokenBarrierError:
            st.fatal = st.fatal or "another worker failed before the start"
        except Exception:
            st.fatal = traceback.format_exc()
            barrier.abort()

    workers = [threading.Thread(target=worker, args=(i,), name=f"{label}-{i}", daemon=True) for i in range(threads)]
    cpu0, (busy0, total0) = time.process_time(), _cpu_ticks()
    srv0 = _pg_server_cpu() if measure_server else None
    for w in workers:
        w.start()
    for w in workers:
        while w.is_alive():
            w.join(0.2)
    cpu1, (busy1, total1) = time.process_time(), _cpu_ticks()
    if srv0 is not None:
        time.sleep(0.3)  # sessions that closed their connection: let the postmaster reap the backend
    srv1 = _pg_server_cpu() if measure_server else None
    fatal = [st.fatal for st in stats if st.fatal]
    if fatal:
        raise RuntimeError(f"{label}: worker failed:\n{fatal[0]}")
    elapsed = max(st.end for st in stats) - t0[0]
    errors: Counter = Counter()
    for st in stats:
        errors.update(st.errors)
    return RunResult(
        label=label, threads=threads, seconds=elapsed,
        holds=sum(st.holds for st in stats),
        finishes=sum(st.settles + st.partials + st.refunds for st in stats),
        settles=sum(st.settles for st in stats), partials=sum(st.partials for st in stats),
        refunds=sum(st.refunds for st in stats), errors=dict(errors),
        first_error=next((st.first_error for st in stats if st.first_error), None),
        hold_ms=_percentiles([x for st in stats for x in st.hold_lat]),
        finish_ms=_percentiles([x for st in stats for x in st.finish_lat]),
        client_cpu_s=cpu1 - cpu0,
        server_cpu_s=(srv1 - srv0) if srv0 is not None and srv1 is not None else None,
        machine_busy=(busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0,
    )


def count_statements(user_ids: list[int], cycles: int = 60) -> dict[str, float]:
    """Warm-up that also counts statements per service call (query hooks see every execute_sql;
    BEGIN and COMMIT bypass them and are added as the +2)."""
    calls: Counter = Counter()
    current = ["hold"]

    def hook(event) -> None:
        calls[current[0]] += 1

    proxy.obj.query_hooks.append(hook)
    try:
        rng = random.Random(1)
        session = ServiceSession()
        with dbm.connection():
            for n in range(cycles):
                ref = f"warmup-{os.getpid()}-{time.time_ns()}-{n}"
                current[0] = "hold"
                session.hold(user_ids[rng.randrange(len(user_ids))], 8, ref)
                kind = ("settle", "partial", "refund")[n % 3]
                current[0] = kind
                if kind == "settle":
                    session.settle(ref)
                elif kind == "partial":
                    session.partial(ref, 1, 4)
                else:
                    session.refund(ref)
    finally:
        proxy.obj.query_hooks.remove(hook)
    per = cycles / 3
    return {
        "hold": calls["hold"] / cycles + 2,
        "settle": calls["settle"] / per + 2,
        "partial_settle": calls["partial"] / per + 2,
        "refund": calls["refund"] / per + 2,
    }


# ---------------------------------------------------------------- seeding (through the ledger)

def seed_users(n: int) -> list[int]:
    """Insert ``n`` users (no balance), then a ``ledger.grant`` each so verify() stays clean."""
    now = utcnow()
    rows = [
        {"tg_id": TG_BASE + i, "first_name": f"bench{i}", "referral_code": f"bn{i:08d}",
         "created_at": now, "updated_at": now}
        for i in range(n)
    ]
    with dbm.atomic():
        for start in range(0, n, 1000):
            User.insert_many(rows[start:start + 1000]).execute()
    with dbm.connection():
        ids = [r[0] for r in proxy.execute_sql(
            "SELECT id FROM users WHERE tg_id >= %s ORDER BY id" % TG_BASE)]
    return ids


def grant_all(user_ids: list[int], threads: int, batch: int = 250) -> None:
    """Starting balances through ledger.grant, ``batch`` grants per outer transaction (savepoints inside)."""
    chunks = [user_ids[i::threads] for i in range(threads)]
    failures: list[str] = []

    def work(chunk: list[int]) -> None:
        try:
            with dbm.connection():
                for start in range(0, len(chunk), batch):
                    with dbm.atomic():
                        for uid in chunk[start:start + batch]:
                            ledger.grant(uid, START_BALANCE, f"bench-seed:{uid}", reason="bench starting balance")
        except Exception:
            failures.append(traceback.format_exc())

    workers = [threading.Thread(target=work, args=(c,), daemon=True) for c in chunks if c]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if failures:
        raise RuntimeError("seeding grants failed:\n" + failures[0])


def run_verify() -> list[str]:
    return [f"{b.check}: {b.detail}" for b in verify()]


# ---------------------------------------------------------------- raw baselines (no peewee, no service)

INSERT_TRANSFER = (
    "INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id, credit_account,"
    " actor, reason, created_at) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})"
    " ON CONFLICT (kind, ref) DO NOTHING RETURNING id"
)
HOLD_USERS = ("UPDATE users SET available = available - {p}, held = held + {p}, updated_at = {p}"
              " WHERE id = {p} AND available >= {p}")
INSERT_HOLD = ("INSERT INTO holds (ref, user_id, amount, status, settled, refunded, created_at)"
               " VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})")
SELECT_HOLD = ("SELECT ref, user_id, amount, status, settled, refunded, created_at, closed_at"
               " FROM holds WHERE ref = {p} LIMIT 1")
CLAIM_HOLD = ("UPDATE holds SET status = {p}, settled = {p}, refunded = {p}, closed_at = {p}"
              " WHERE ref = {p} AND status = {p}")
FINISH_USERS = ("UPDATE users SET held = held - {p}, available = available + {p}, updated_at = {p}"
                " WHERE id = {p} AND held >= {p}")


class RawSession(Session):
    """The statements ledger.hold/_finish issue, in the same order, on a DB-API connection.

    Same round trips as the service (BEGIN, the statements, COMMIT); what is missing is peewee's
    query building, the model layer and the service's Python-side checks.
    """

    def __init__(self, conn, param: str, begin: str, ts: Callable[[], object]):
        self.conn, self.begin, self.ts = conn, begin, ts
        self.cur = conn.cursor()
        f = {"p": param}
        self.sql = {name: text.format(**f) for name, text in {
            "transfer": INSERT_TRANSFER, "hold_users": HOLD_USERS, "insert_hold": INSERT_HOLD,
            "select_hold": SELECT_HOLD, "claim": CLAIM_HOLD, "finish_users": FINISH_USERS}.items()}

    @contextlib.contextmanager
    def _tx(self):
        self.cur.execute(self.begin)
        try:
            yield self.cur
        except BaseException:
            self.cur.execute("ROLLBACK")
            raise
        self.cur.execute("COMMIT")

    def hold(self, user_id, amount, ref):
        now = self.ts()
        with self._tx() as c:
            c.execute(self.sql["transfer"], ("hold", ref, amount, user_id, "available", user_id, "held", ACTOR, None, now))
            if not c.fetchall():
                raise RuntimeError(f"hold {ref} replayed")
            c.execute(self.sql["hold_users"], (amount, amount, now, user_id, amount))
            if c.rowcount != 1:
                raise RuntimeError(f"user #{user_id} has less than {amount}")
            c.execute(self.sql["insert_hold"], (ref, user_id, amount, "open", 0, 0, now))

    def _finish(self, ref, settle_of):
        now = self.ts()
        with self._tx() as c:
            c.execute(self.sql["select_hold"], (ref,))
            row = c.fetchone()
            if row is None:
                raise RuntimeError(f"no hold {ref}")
            user_id, amount = row[1], row[2]
            settle = settle_of(amount)
            refund = amount - settle
            c.execute(self.sql["claim"], ("closed", settle, refund, now, ref, "open"))
            if c.rowcount != 1:
                return
            if settle:
                c.execute(self.sql["transfer"], ("settle", ref, settle, user_id, "held", None, "revenue", ACTOR, None, now))
                c.fetchall()
            if refund:
                c.execute(self.sql["transfer"], ("refund", ref, refund, user_id, "held", user_id, "available", ACTOR, None, now))
                c.fetchall()
            c.execute(self.sql["finish_users"], (amount, refund, now, user_id, amount))
            if c.rowcount != 1:
                raise RuntimeError(f"user #{user_id} holds less than {amount}")

    def settle(self, ref):
        self._finish(ref, lambda a: a)

    def partial(self, ref, delivered, requested):
        self._finish(ref, lambda a: a * delivered // requested)

    def refund(self, ref):
        self._finish(ref, lambda a: 0)


def raw_sqlite_session(path: Path, busy_ms: int) -> Callable[[], contextlib.AbstractContextManager[Session]]:
    @contextlib.contextmanager
    def make() -> Iterator[Session]:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=busy_ms / 1000, check_same_thread=True)
        try:
            for pragma in ("journal_mode = wal", "foreign_keys = 1", f"busy_timeout = {busy_ms}", "synchronous = full"):
                conn.execute(f"PRAGMA {pragma}")
            # sqlite3 stores datetimes as str(datetime), as peewee does through the default adapter
            yield RawSession(conn, "?", "BEGIN IMMEDIATE", lambda: str(utcnow()))
        finally:
            conn.close()
    return make


def raw_pg_session(dsn: dict) -> Callable[[], contextlib.AbstractContextManager[Session]]:
    @contextlib.contextmanager
    def make() -> Iterator[Session]:
        conn = psycopg2.connect(**dsn)
        conn.autocommit = True  # explicit BEGIN/COMMIT, as peewee does
        try:
            yield RawSession(conn, "%s", "BEGIN", utcnow)
        finally:
            conn.close()
    return make


# ---------------------------------------------------------------- Postgres helpers

@dataclass
class PgTarget:
    url: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme.split("+")[0] not in ("postgres", "postgresql"):
            raise SystemExit(f"--pg-url must be postgresql://…, got {self.url!r}")
        self.parts = parts
        self.admin_db = parts.path.lstrip("/") or "postgres"

    def url_for(self, name: str) -> str:
        return urlunsplit(self.parts._replace(path=f"/{name}"))

    def dsn(self, name: str) -> dict:
        d: dict = {"dbname": name}
        if self.parts.hostname:
            d["host"] = self.parts.hostname
        if self.parts.port:
            d["port"] = self.parts.port
        if self.parts.username:
            d["user"] = unquote(self.parts.username)
        if self.parts.password:
            d["password"] = unquote(self.parts.password)
        return d

    def cli_args(self) -> list[str]:
        args = []
        if self.parts.hostname:
            args += ["-h", self.parts.hostname]
        if self.parts.port:
            args += ["-p", str(self.parts.port)]
        if self.parts.username:
            args += ["-U", unquote(self.parts.username)]
        return args

    def env(self) -> dict:
        env = dict(os.environ)
        if self.parts.password:
            env["PGPASSWORD"] = unquote(self.parts.password)
        return env

    def admin(self):
        conn = psycopg2.connect(**self.dsn(self.admin_db))
        conn.autocommit = True
        return conn

    def sql(self, query: str, params: tuple = (), db: str | None = None) -> list[tuple]:
        conn = psycopg2.connect(**self.dsn(db)) if db else self.admin()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def create(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.sql(f'CREATE DATABASE "{name}"')

    def drop(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def is_local(self) -> bool:
        return self.parts.hostname in (None, "", "127.0.0.1", "localhost", "::1") or (self.parts.hostname or "").startswith("/")

    def checkpoint(self) -> None:
        with contextlib.suppress(psycopg2.Error):  # needs superuser or pg_checkpoint; only reduces noise
            self.sql("CHECKPOINT")

    def table_stats(self, name: str, tables: tuple[str, ...]) -> dict:
        rows = self.sql("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
                        " WHERE relname = ANY(%s)", (list(tables),), db=name)
        return {r[0]: {"inserts": r[1], "updates": r[2], "hot_updates": r[3],
                       "hot_share": round(r[3] / r[2], 3) if r[2] else None} for r in rows}

    def commits(self, name: str) -> int:
        rows = self.sql("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (name,))
        return int(rows[0][0]) if rows else 0


def run_pgbench(pg: PgTarget, name: str, clients: int, seconds: int) -> dict:
    t = time.perf_counter()
    init = subprocess.run([PGBENCH, "-i", "-s", str(PGBENCH_SCALE), "-q", *pg.cli_args(), name],
                          capture_output=True, text=True, env=pg.env(), timeout=600)
    if init.returncode != 0:
        raise RuntimeError(f"pgbench -i failed ({init.returncode}):\n{init.stderr[-2000:]}")
    init_s = time.perf_counter() - t
    pg.checkpoint()  # the 1M-row load's dirty buffers are not flushed during the timed run
    jobs = max(1, min(2, clients))
    cmd = [PGBENCH, "-b", "tpcb-like", "-c", str(clients), "-j", str(jobs), "-T", str(seconds), "-n",
           *pg.cli_args(), name]
    log("  " + " ".join(cmd))
    ru0, (busy0, total0) = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_ticks()
    srv0 = _pg_server_cpu() if pg.is_local() else None
    proc = subprocess.run(cmd, capture_output=True, text=True, env=pg.env(), timeout=seconds + 120)
    ru1, (busy1, total1) = resource.getrusage(resource.RUSAGE_CHILDREN), _cpu_ticks()
    time.sleep(0.3)  # let the postmaster reap pgbench's backends so their CPU is counted
    srv1 = _pg_server_cpu() if pg.is_local() else None
    client_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench failed ({proc.returncode}):\n{proc.stderr[-2000:]}\n{proc.stdout[-2000:]}")
    out = proc.stdout
    m = re.search(r"tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)", out) \
        or re.search(r"tps = ([\d.]+)", out)
    if not m:
        raise RuntimeError(f"cannot find the tps line in pgbench output:\n{out}")
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    txns = re.search(r"number of transactions actually processed: (\d+)", out)
    ntx = int(txns.group(1)) if txns else 0
    failed = re.search(r"number of failed transactions: (\d+)", out)
    return {
        "command": " ".join(cmd), "scale": PGBENCH_SCALE, "clients": clients, "jobs": jobs,
        "seconds": seconds, "init_seconds": round(init_s, 1), "tps": float(m.group(1)),
        "latency_avg_ms": float(lat.group(1)) if lat else None,
        "transactions": ntx or None,
        "failed": int(failed.group(1)) if failed else 0,
        "client_cpu_s": round(client_cpu, 2),
        "client_cpu_us_per_tx": round(client_cpu / ntx * 1e6, 1) if ntx else None,
        "machine_busy": round((busy1 - busy0) / (total1 - total0), 3) if total1 > total0 else None,
        "server_cpu_us_per_tx": (round((srv1 - srv0) / ntx * 1e6, 1)
                                 if srv0 is not None and srv1 is not None and ntx else None),
        "other_cpu_share": round(_other_share(
            (busy1 - busy0) / (total1 - total0) if total1 > total0 else None, seconds, client_cpu,
            (srv1 - srv0) if srv0 is not None and srv1 is not None else None), 3),
    }


# ---------------------------------------------------------------- the two parts

def postgres_part(args, stop: threading.Event) -> dict:
    pg = PgTarget(args.pg_url)
    prefix = f"bananapics_bench_{os.getpid()}"
    bench_db, ledger_db = f"{prefix}_pgbench", f"{prefix}_ledger"
    result: dict = {"databases": [bench_db, ledger_db]}
    database = None
    try:
        # facts
        rows = pg.sql("SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name",
                      (["server_version", "shared_buffers", "synchronous_commit", "fsync", "wal_sync_method",
                        "max_connections"],))
        result["server"] = dict(rows)

        # 1. pgbench
        log(f"Postgres: pgbench -i -s {PGBENCH_SCALE} into {bench_db}")
        pg.create(bench_db)
        result["pgbench"] = run_pgbench(pg, bench_db, args.threads, args.seconds)
        log(f"  pgbench: {result['pgbench']['tps']:.0f} tps")
        pg.drop(bench_db)

        # 2. the ledger through the service
        log(f"Postgres: migrating {ledger_db} and seeding {args.users:,} users")
        pg.create(ledger_db)
        database = dbm.connect(DatabaseConfig(url=pg.url_for(ledger_db), pool_max=args.threads + 4))
        dbm.upgrade(database)
        t = time.perf_counter()
        user_ids = seed_users(args.users)
        grant_all(user_ids, min(args.threads, 4))
        result["seed_seconds"] = round(time.perf_counter() - t, 1)
        pre = run_verify()
        if pre:
            raise RuntimeError(f"verify() failed right after seeding: {pre[:3]}")
        result["round_trips_per_call"] = count_statements(user_ids)
        with database.connection_context():
            database.execute_sql("VACUUM ANALYZE")
            database.execute_sql("CHECKPOINT")
        database.close_all()
        time.sleep(0.3)
        commits_before = pg.commits(ledger_db)
        stats_before = pg.table_stats(ledger_db, ("users", "holds", "transfers"))
        log(f"Postgres: ledger mix, {args.threads} threads × {args.seconds}s")
        run = run_mix("pg-service", service_session, args.threads, args.seconds, user_ids, 1, stop,
                      measure_server=pg.is_local())
        database.close_all()  # backends exit and flush their stats
        time.sleep(0.5)
        commits = pg.commits(ledger_db) - commits_before
        stats_after = pg.table_stats(ledger_db, ("users", "holds", "transfers"))
        result["table_stats_during_run"] = {
            t: {k: stats_after[t][k] - stats_before.get(t, {}).get(k, 0) for k in ("inserts", "updates", "hot_updates")}
            for t in stats_after}
        for t in result["table_stats_during_run"].values():
            t["hot_share"] = round(t["hot_updates"] / t["updates"], 3) if t["updates"] else None
        result["service"] = run.as_dict()
        result["service"]["db_commits_counted"] = commits
        log(f"  service: {run.ops_per_s:.0f} ledger tx/s ({run.cycles_per_s:.0f} cycles/s)")

        if args.pg_raw:
            log(f"Postgres: same statements through raw psycopg2, {args.threads} threads × {args.seconds}s")
            raw = run_mix("pg-raw", raw_pg_session(pg.dsn(ledger_db)), args.threads, args.seconds, user_ids, 2, stop,
                          measure_server=pg.is_local())
            result["raw_psycopg2"] = raw.as_dict()
            log(f"  raw psycopg2: {raw.ops_per_s:.0f} tx/s")

        # 3. invariants
        t = time.perf_counter()
        breaches = run_verify()
        result["verify_seconds"] = round(time.perf_counter() - t, 2)
        result["breaches"] = len(breaches)
        result["breach_examples"] = breaches[:10]
        with dbm.connection():
            result["rows"] = {
                "transfers": proxy.execute_sql("SELECT count(*) FROM transfers").fetchone()[0],
                "holds": proxy.execute_sql("SELECT count(*) FROM holds").fetchone()[0],
                "open_holds": proxy.execute_sql("SELECT count(*) FROM holds WHERE status = 'open'").fetchone()[0],
            }

        # 4. the ratio
        result["ratio"] = run.ops_per_s / result["pgbench"]["tps"]
        if args.pg_raw:
            result["raw_ratio"] = result["raw_psycopg2"]["ops_per_s"] / result["pgbench"]["tps"]
        return result
    finally:
        if database is not None:
            with contextlib.suppress(Exception):
                database.close_all()
        proxy.initialize(None)
        for name in (bench_db, ledger_db):
            try:
                pg.drop(name)
            except Exception as exc:  # still try the other one, and say so
                log(f"WARNING: could not drop database {name}: {exc}")


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"  # an absolute path gives sqlite:////abs/path


def _fdatasync_us(directory: Path, n: int = 200) -> float:
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        t = time.perf_counter()
        for i in range(n):
            os.pwrite(fd, b"x" * 4096, (i % 8) * 4096)
            os.fdatasync(fd)
        return (time.perf_counter() - t) / n * 1e6
    finally:
        os.close(fd)
        path.unlink()


def sqlite_part(args, stop: threading.Event) -> dict:
    result: dict = {"sqlite_version": sqlite3.sqlite_version, "runs": []}
    cfg_kw = {"sqlite_synchronous": "full"}
    busy_ms = DatabaseConfig().busy_timeout_ms
    with tempfile.TemporaryDirectory(prefix="bananapics_bench_") as tmp:
        tmpdir = Path(tmp)
        result["fdatasync_us"] = round(_fdatasync_us(tmpdir), 1)
        template = tmpdir / "template.db"
        log(f"SQLite: migrating and seeding {args.users:,} users in {template}")
        database = dbm.connect(DatabaseConfig(url=_sqlite_url(template), **cfg_kw))
        try:
            dbm.upgrade(database)
            t = time.perf_counter()
            user_ids = seed_users(args.users)
            grant_all(user_ids, 1, batch=args.users)
            result["seed_seconds"] = round(time.perf_counter() - t, 1)
            pre = run_verify()
            if pre:
                raise RuntimeError(f"verify() failed right after seeding: {pre[:3]}")
            with dbm.connection():
                proxy.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            database.close()
            proxy.initialize(None)

        for threads in args.sqlite_threads:
            pair: dict = {"threads": threads}
            for kind in ("service", "raw_sqlite3"):
                path = tmpdir / f"{kind}_t{threads}.db"
                shutil.copyfile(template, path)
                database = dbm.connect(DatabaseConfig(url=_sqlite_url(path), **cfg_kw))
                try:
                    log(f"SQLite: {kind}, {threads} thread(s) × {args.sqlite_seconds}s")
                    if kind == "service":
                        make = service_session
                    else:
                        make = raw_sqlite_session(path, busy_ms)
                    run = run_mix(f"sqlite-{kind}-t{threads}", make, threads, args.sqlite_seconds, user_ids, 3 + threads, stop)
                    log(f"  {run.ops_per_s:.0f} ledger tx/s")
                    breaches = run_verify()  # the raw file is checked too: it proves the statements are equivalent
                    pair[kind] = run.as_dict() | {"breaches": len(breaches), "breach_examples": breaches[:10]}
                finally:
                    database.close()
                    proxy.initialize(None)
            pair["ratio"] = pair["service"]["ops_per_s"] / pair["raw_sqlite3"]["ops_per_s"]
            result["runs"].append(pair)
    return result


# ---------------------------------------------------------------- output

def machine_facts() -> dict:
    facts: dict = {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "peewee": pw.__version__,
        "psycopg2": psycopg2.__version__.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg()[0],
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                facts["mem_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    return facts


def fmt_lat(d: dict) -> str:
    return f"{d.get('p50', 0):.2f} / {d.get('p99', 0):.2f}" if d else "-"


HEADER = (f"{'':36}{'tx/s':>7}{'cycles/s':>9}{'hold ms p50/p99':>17}{'finish ms p50/p99':>19}"
          f"{'client':>8}{'server':>8}{'busy':>6}{'other':>6}{'{last}':>7}")
SUBHEADER = f"{'':36}{'':>7}{'':>9}{'':>17}{'':>19}{'µs/tx':>8}{'µs/tx':>8}{'':>6}{'':>6}{'':>7}"


def _us(value: float | None) -> str:
    return f"{value:>8.0f}" if value is not None else f"{'-':>8}"


def fmt_run(name: str, r: dict, last: object) -> str:
    return (f"{name:36}{r['ops_per_s']:>7.0f}{r['cycles_per_s']:>9.0f}{fmt_lat(r['hold_latency_ms']):>17}"
            f"{fmt_lat(r['finish_latency_ms']):>19}{_us(r['client_cpu_us_per_op'])}{_us(r.get('server_cpu_us_per_op'))}"
            f"{r['machine_busy'] * 100:>5.0f}%{r['other_cpu_share'] * 100:>5.0f}%{last!s:>7}")


def print_report(report: dict) -> None:
    p = lambda *a: print(*a, file=OUT)  # noqa: E731
    m = report["machine"]
    p("")
    p("BananaPics ledger benchmark")
    p("=" * 110)
    p(f"machine   nproc={m['nproc']}  cpu={m.get('cpu', '?')}  mem={m.get('mem_gib', '?')} GiB  "
      f"load(1m) at start={m['loadavg_at_start']:.2f}")
    p(f"software  python {m['python']}  peewee {m['peewee']}  psycopg2 {m['psycopg2']}  sqlite {m['sqlite']}")
    pgr = report.get("postgres")
    if pgr:
        s = pgr.get("server", {})
        p(f"postgres  {s.get('server_version', '?')}  shared_buffers={s.get('shared_buffers', '?')}  "
          f"synchronous_commit={s.get('synchronous_commit', '?')}  fsync={s.get('fsync', '?')}  "
          f"wal_sync_method={s.get('wal_sync_method', '?')}")
    sq = report.get("sqlite")
    if sq:
        p(f"disk      fdatasync {sq['fdatasync_us']:.0f} µs (4 KiB, temp dir)")
    p(f"workload  hold(random of {report['users']:,} users, 4-40 tokens, unique ref) then "
      f"settle 70% / partial_settle 10% / refund 20%; 1 service call = 1 transaction = 1 op")
    p("columns   client µs/tx = CPU of the client process (pgbench, or this Python process) per transaction;")
    p("          server µs/tx = CPU of the local postgres processes per transaction; busy = all CPUs busy;")
    p("          other = share of all CPUs used by anything else (another workload on the box: numbers are noisy)")
    p("")
    if pgr and "pgbench" in pgr:
        pb, sv = pgr["pgbench"], pgr["service"]
        p(f"Postgres ({pgr['service']['threads']} clients, {pb['seconds']} s each)")
        p("-" * 110)
        p(HEADER.replace("{last}", "errors"))
        p(SUBHEADER)
        busy = f"{pb['machine_busy'] * 100:>5.0f}%" if pb.get("machine_busy") is not None else f"{'-':>6}"
        p(f"{'pgbench tpcb-like -s 10':36}{pb['tps']:>7.0f}{'':>9}"
          f"{'avg ' + format(pb['latency_avg_ms'] or 0, '.2f'):>17}{'':>19}{_us(pb['client_cpu_us_per_tx'])}"
          f"{_us(pb.get('server_cpu_us_per_tx'))}{busy}{pb['other_cpu_share'] * 100:>5.0f}%{pb['failed']:>7}")
        p(fmt_run("ledger service (peewee)", sv, sum(sv["errors"].values())))
        if "raw_psycopg2" in pgr:
            rw = pgr["raw_psycopg2"]
            p(fmt_run("same statements, raw psycopg2", rw, sum(rw["errors"].values())))
        rt = pgr["round_trips_per_call"]
        p(f"round trips per call (BEGIN..COMMIT): hold {rt['hold']:.0f}, settle {rt['settle']:.0f}, "
          f"partial {rt['partial_settle']:.0f}, refund {rt['refund']:.0f}   (pgbench tpcb-like: 7)")
        p(f"ops: {sv['holds']:,} holds, {sv['settles']:,} settles, {sv['partial_settles']:,} partial, "
          f"{sv['refunds']:,} refunds; commits counted by pg_stat_database: {sv['db_commits_counted']:,}")
        ts = pgr.get("table_stats_during_run", {})
        if ts:
            p("HOT updates during the run: " + ", ".join(
                f"{t} {v['hot_updates']:,}/{v['updates']:,}" for t, v in sorted(ts.items()) if v["updates"]))
        verdict = "OK" if pgr["ratio"] >= TARGET_RATIO else "BELOW TARGET"
        p(f"ratio ledger tx/s ÷ pgbench tps = {pgr['ratio']:.2f}   (target ≥ {TARGET_RATIO}: {verdict})")
        if "raw_ratio" in pgr:
            p(f"      raw psycopg2 ÷ pgbench = {pgr['raw_ratio']:.2f}; service ÷ raw = "
              f"{sv['ops_per_s'] / pgr['raw_psycopg2']['ops_per_s']:.2f}")
        p(f"verify(): {pgr['breaches']} breaches ({pgr['rows']['transfers']:,} transfers, "
          f"{pgr['rows']['holds']:,} holds, {pgr['rows']['open_holds']} open) in {pgr['verify_seconds']} s")
        for b in pgr["breach_examples"]:
            p(f"  BREACH {b}")
        p("")
    if sq:
        p(f"SQLite (WAL, synchronous=FULL, BEGIN IMMEDIATE, {report['sqlite_seconds']} s each)")
        p("-" * 110)
        p(HEADER.replace("{last}", "breach"))
        p(SUBHEADER)
        for pair in sq["runs"]:
            for kind, name in (("service", "service (peewee)"), ("raw_sqlite3", "same statements, raw sqlite3")):
                r = pair[kind]
                p(fmt_run(f"{name}, {pair['threads']} thr", r, r["breaches"]))
                if r["errors"]:
                    p(f"  errors: {r['errors']} first: {r['first_error']}")
            p(f"{'  ratio service ÷ raw':36}{pair['ratio']:>7.2f}")
        p("")
    print_footer(p, report)


# ---------------------------------------------------------------- main

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10, help="pgbench and Postgres ledger run length (default 10)")
    ap.add_argument("--threads", type=int, default=8, help="pgbench clients and Postgres ledger threads (default 8)")
    ap.add_argument("--pg-url", default=os.environ.get("BANANAPICS_BENCH_PG", DEFAULT_PG_URL),
                    help=f"a Postgres admin URL; throwaway databases are created next to it (default {DEFAULT_PG_URL})")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--json", action="store_true", help="JSON object on stdout (the table goes to stderr)")
    ap.add_argument("--users", type=int, default=N_USERS, help=f"users to seed (default {N_USERS:,})")
    ap.add_argument("--sqlite-seconds", type=float, default=None,
                    help="length of each of the SQLite runs (default: half of --seconds, at least 2)")
    ap.add_argument("--sqlite-threads", default="1,4", help="comma-separated thread counts (default 1,4)")
    ap.add_argument("--pg-raw", action="store_true",
                    help="also run the same statements through raw psycopg2 (adds --seconds; separates peewee/service "
                         "overhead from database cost)")
    ap.add_argument("--min-ratio", type=float, default=None,
                    help="exit 3 when the Postgres ratio is below this (default: report only)")
    args = ap.parse_args(argv)
    if args.seconds < 1 or args.threads < 1 or args.users < 1:
        ap.error("--seconds, --threads and --users must be positive")
    args.sqlite_seconds = args.sqlite_seconds or max(2.0, args.seconds / 2)
    args.sqlite_threads = [int(x) for x in args.sqlite_threads.split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    global OUT
    args = parse_args(argv)
    if args.json:
        OUT = sys.stderr
    stop = threading.Event()

    def on_term(signum, frame):
        stop.set()
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    started = time.perf_counter()
    report: dict = {"machine": machine_facts(), "users": args.users, "seconds": args.seconds,
                    "threads": args.threads, "sqlite_seconds": args.sqlite_seconds,
                    "target_ratio": TARGET_RATIO, "problems": []}
    code = 0
    try:
        if not args.skip_postgres:
            try:
                report["postgres"] = postgres_part(args, stop)
            except (KeyboardInterrupt, SystemExit):
                stop.set()
                raise
            except Exception as exc:
                report["problems"].append(f"postgres part failed: {exc}")
                log(traceback.format_exc())
                code = 1
        if not args.skip_sqlite:
            try:
                report["sqlite"] = sqlite_part(args, stop)
            except (KeyboardInterrupt, SystemExit):
                stop.set()
                raise
            except Exception as exc:
                report["problems"].append(f"sqlite part failed: {exc}")
                log(traceback.format_exc())
                code = 1
    finally:
        stop.set()

    pgr, sq = report.get("postgres"), report.get("sqlite")
    runs = ([pgr["service"]] + ([pgr["raw_psycopg2"]] if pgr and "raw_psycopg2" in pgr else [])) if pgr else []
    if sq:
        runs += [pair[k] for pair in sq["runs"] for k in ("service", "raw_sqlite3")]
    for r in runs:
        if r["errors"]:
            report["problems"].append(f"{r['label']}: operations failed {r['errors']}; first: {r['first_error']}")
            code = code or 1
    breaches = (pgr["breaches"] if pgr else 0) + sum(
        pair[k]["breaches"] for pair in (sq["runs"] if sq else []) for k in ("service", "raw_sqlite3"))
    report["breaches_total"] = breaches
    report["notes"] = []
    noisy = [(r["label"], r["other_cpu_share"]) for r in runs if r.get("other_cpu_share", 0) > 0.10]
    if pgr and "pgbench" in pgr and pgr["pgbench"].get("other_cpu_share", 0) > 0.10:
        noisy.insert(0, ("pgbench", pgr["pgbench"]["other_cpu_share"]))
    if noisy:
        report["notes"].append("other processes used a large share of the CPUs during "
                               + ", ".join(f"{label} ({share:.0%})" for label, share in noisy)
                               + "; those rates are depressed, rerun on a quiet machine")
    if breaches:
        report["problems"].append(f"verify() found {breaches} ledger invariant breach(es)")
        code = 2
    if code == 0 and args.min_ratio is not None and pgr and pgr["ratio"] < args.min_ratio:
        report["problems"].append(f"ratio {pgr['ratio']:.2f} < --min-ratio {args.min_ratio}")
        code = 3
    report["status"] = {0: "ok", 1: "error", 2: "invariants broken", 3: "ratio below minimum"}[code]
    report["exit_code"] = code
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    print_report(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
