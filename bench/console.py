#!/usr/bin/env python
"""Console data benchmark: user search, the dashboard, exports, and the bot's handler p99 while the
dashboard refreshes, on a seeded Postgres (1M users, 10M transfers, 1M jobs) and a smaller SQLite.

Usage (from the repository top)::

    .venv/bin/python bench/console.py [--users 1000000] [--transfers 10000000] [--jobs 1000000]
        [--payments 200000] [--sqlite-users 50000] [--repeat 40] [--bot-updates 6000]
        [--dashboard-in process|thread] [--skip-sqlite] [--skip-postgres] [--skip-bot] [--skip-export]
        [--pg-url URL] [--json]
    .venv/bin/python bench/console.py --quick     # 50k users, 200k transfers: a couple of minutes

Seeding is SQL on the server (``generate_series`` on Postgres, a recursive CTE on SQLite): names from
a fixed list, so "anna" is a common substring (anna, hannah, joanna …) and "zephyrine" a rare one
(one user in 100,000). Every figure is printed beside its baseline:

* search and dashboard: the service call, then the very statements it sent (captured from peewee's
  log) replayed through bare psycopg2 / sqlite3: the gap is the cost of the Python layers;
* bot: ``bench/bot.py``'s handler run (real bot, simulated Telegram) while another process refreshes
  the dashboard every second (as ``bananapics admin`` beside the bot), on and off in alternate 2 s
  phases of the same run: ratio = p99 of the updates sent without ÷ p99 of those sent with it (goal
  ≥ 0.9). Interleaved, both figures share the database (triggers included), its growth and the
  machine's load of the moment. Its baseline is the same ratio between the odd and the even phases
  without the dashboard (A/A: the noise). ``--dashboard-in thread`` refreshes in the bot's process;
* export: ``bananapics export transfers`` as a subprocess (rows/s, peak RSS) against ``psql \\copy``
  of the same table (Postgres) or a bare sqlite3 + csv loop (SQLite).

Goals (issue 12): search p95 ≤ 50 ms and dashboard ≤ 100 ms on Postgres at full size, bot ratio ≥ 0.9,
export peak RSS ≤ 200 MB. Exit status 0 (missed goals are NOTEs), 1 on a setup failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import queue
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import peewee as pw  # noqa: E402

from bananapics import db as dbm  # noqa: E402
from bananapics.config import DatabaseConfig  # noqa: E402
from bananapics.models import db as proxy  # noqa: E402
from bananapics.services import dashboard, search  # noqa: E402
from bananapics.services.audit import Actor  # noqa: E402
from bench.common import log, print_footer  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
GOALS = {"search_p95_ms": 50.0, "dashboard_ms": 100.0, "bot_ratio": 0.9, "export_rss_mb": 200.0}
FIRST = ["Anna", "Hannah", "Joanna", "Ivan", "Olga", "Dilnoza", "Aziz", "Maria", "John", "Timur", "Nodira", "Sardor",
         "Elena", "Alisher", "Kamola", "Rustam", "Sevara", "Bekzod", "Madina", "Jasur", "Laylo", "Otabek", "Zarina",
         "Sherzod", "Malika", "Dmitry", "Svetlana", "Sergey", "Natalia", "Alex", "Kate", "Michael", "Sarah", "Umar",
         "Gulnora", "Farrukh", "Shahzoda", "Islom", "Nilufar", "Bobur"]
LAST = ["Karimov", "Ivanova", "Smith", "Yusupov", "Petrov", "Tashkentova", "Rahimov", "Brown", "Aliyev", "Sokolova",
        "Nazarov", "Kuznetsov", "Johnson", "Saidova", "Ergashev", "Popova", "Mirzaev", "Miller", "Xolmatov", "Orlova"]
RARE = "Zephyrine"
TG_BASE = 10_000_000_000  # seeded Telegram ids; the simulated Telegram's start at 100,000,001
OUT = sys.stdout
OPS = Actor.operator("bench")
REFRESH_S = 1.0  # the dashboard's refresh period in the bot bench
PHASE_S = 2.0  # the bot bench alternates phases with and without refreshes this long


def p(line: str = "") -> None:
    print(line, file=OUT, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


# ---------------------------------------------------------------- seeding


def _series(postgres: bool, n: int, offset: int = 0) -> str:
    if postgres:
        return f"SELECT g::bigint AS g FROM generate_series({offset + 1}, {offset + n}) g"
    return (f"WITH RECURSIVE s(g) AS (SELECT {offset + 1} UNION ALL SELECT g + 1 FROM s WHERE g < {offset + n}) "
            "SELECT g FROM s")


def seed(database: pw.Database, sizes: dict[str, int]) -> None:
    """Users, payments, jobs and transfers, spread over the last ~year, denser in the last hour."""
    postgres = isinstance(database, pw.PostgresqlDatabase)
    n_users = sizes["users"]
    now = "(now() AT TIME ZONE 'utc')" if postgres else "'now'"

    def ago(seconds: str) -> str:  # a timestamp `seconds` before now, as each engine stores it
        if postgres:
            return f"({now} - make_interval(secs => {seconds}))"
        return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({seconds}) || ' seconds')"

    def mod(a: str, b: int) -> str:
        return f"mod({a}, {b})" if postgres else f"(({a}) % {b})"

    with database.connection_context():
        for table, names in (("bench_first", FIRST), ("bench_last", LAST)):
            database.execute_sql(f"CREATE TEMP TABLE {table} (i INTEGER PRIMARY KEY, name TEXT)")
            for i, name in enumerate(names):
                database.execute_sql(f"INSERT INTO {table} VALUES ({i}, '{name}')")
        span = 340 * 86400  # users over 340 days, newest last
        log(f"seeding {n_users:,} users")
        with database.atomic():
            database.execute_sql(
                "INSERT INTO users (tg_id, username, first_name, last_name, language, role, banned, referral_code, "
                "available, held, inflight, blocked_bot, welcomed, debt, created_at, updated_at) "
                f"SELECT {TG_BASE} + g, CASE WHEN {mod('g', 4)} = 0 THEN NULL ELSE lower(f.name) || '_' || g END, "
                f"CASE WHEN {mod('g', 100000)} = 7 THEN '{RARE}' ELSE f.name END, l.name, 'en', 'user', "
                f"{'FALSE' if postgres else '0'}, 'r' || {_hex7('g', postgres)}, "
                f"100, 0, 0, {'FALSE' if postgres else '0'}, {'TRUE' if postgres else '1'}, 0, "
                f"{ago(f'({n_users} - g) * {span // max(n_users, 1)}')}, {ago('0')} "
                f"FROM ({_series(postgres, n_users)}) s "
                f"JOIN bench_first f ON f.i = {mod('g * 7', len(FIRST))} "
                f"JOIN bench_last l ON l.i = {mod('g * 13', len(LAST))}")
        first_id = database.execute_sql("SELECT MIN(id) FROM users").fetchone()[0]
        uid = f"({first_id} + {mod('g * 7919', n_users)})"
        n_pay = sizes["payments"]
        log(f"seeding {n_pay:,} payments")
        with database.atomic():
            database.execute_sql(
                "INSERT INTO payments (charge_id, provider_charge_id, user_id, stars, tokens, bonus_tokens, status, "
                "created_at, source, refund_debt) "
                f"SELECT 'stxBench' || g, '', {uid}, 50 + {mod('g', 5)} * 50, 100 + {mod('g', 5)} * 100, 0, "
                f"CASE WHEN {mod('g', 50)} = 0 THEN 'refunded' ELSE 'paid' END, "
                f"{ago(f'({n_pay} - g) * {30 * 86400 // max(n_pay, 1)}')}, 'bot', 0 "
                f"FROM ({_series(postgres, n_pay)}) s")
        n_jobs = sizes["jobs"]
        recent = min(3000, n_jobs // 10)  # the last hour's jobs
        log(f"seeding {n_jobs:,} jobs ({recent} in the last hour)")
        status = (f"CASE WHEN g > {n_jobs - 5} THEN 'queued' WHEN g > {n_jobs - 10} THEN 'running' "
                  f"WHEN {mod('g', 20)} = 0 THEN 'failed' ELSE 'succeeded' END")
        created = (f"CASE WHEN g > {n_jobs - recent} THEN {ago(f'({n_jobs} - g) * 3600 / {max(recent, 1)}')} "
                   f"ELSE {ago(f'3600 + ({n_jobs} - g) * {30 * 86400 // max(n_jobs, 1)}')} END")
        with database.atomic():
            database.execute_sql(
                "INSERT INTO jobs (id, user_id, model, provider, provider_model, prompt, settings, ref_keys, count, cost, "
                "status, attempts, max_attempts, deadline_at, error_kind, result_keys, delivered, source, created_at, "
                "updated_at, started_at, finished_at) "
                f"SELECT 'bench' || g, {uid}, 'nano-banana', 'local', 'local', 'a banana on a beach', '{{}}', '[]', 1, 10, "
                f"st, 1, 3, c, CASE WHEN st = 'failed' THEN 'provider_down' END, '[]', 0, 'bot', c, c, "
                f"CASE WHEN st = 'queued' THEN NULL ELSE c END, CASE WHEN st IN ('queued', 'running') THEN NULL ELSE c END "
                f"FROM (SELECT g, {status} AS st, {created} AS c FROM ({_series(postgres, n_jobs)}) s0) s")
        n_transfers, chunk = sizes["transfers"], 1_000_000
        for start in range(0, n_transfers, chunk):
            n = min(chunk, n_transfers - start)
            log(f"seeding transfers {start + n:,}/{n_transfers:,}")
            with database.atomic():
                database.execute_sql(
                    "INSERT INTO transfers (kind, ref, amount, debit_user_id, debit_account, credit_user_id, "
                    "credit_account, actor, reason, created_at) "
                    f"SELECT 'settle', 'bench' || g, 10, {uid}, 'held', NULL, 'revenue', 'system', NULL, "
                    f"{ago(f'({n_transfers} - g) * {30 * 86400 / max(n_transfers, 1):.6f}')} "
                    f"FROM ({_series(postgres, n, start)}) s")
        log("analyze")
        database.execute_sql("ANALYZE")


def _hex7(expr: str, postgres: bool) -> str:
    """Seven hex digits: with the leading "r", an 8-character referral code unique per user."""
    return f"lpad(to_hex({expr}), 7, '0')" if postgres else f"printf('%07x', {expr})"


# ---------------------------------------------------------------- measuring


class Capture(logging.Handler):
    """The (sql, params) statements peewee sends while ``on`` (its DEBUG log line per query)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.on, self.statements = False, []
        logger = logging.getLogger("peewee")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if self.on and record.name == "peewee" and isinstance(record.msg, tuple):
            self.statements.append(record.msg)

    def record(self, fn):
        self.on, self.statements = True, []
        try:
            fn()
        finally:
            self.on = False
        return list(self.statements)


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm: caches, plans
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def raw_runner(engine: str, url: str, path: str | None):
    if engine == "postgres":
        import psycopg2

        conn = psycopg2.connect(url)
        conn.autocommit = True
    else:
        conn = sqlite3.connect(path)

    def run(statements) -> None:
        cur = conn.cursor()
        for sql, params in statements:
            cur.execute(sql, params or ())
            cur.fetchall()
        cur.close()

    return conn, run


def measure_queries(engine: str, url: str, path: str | None, n_users: int, repeat: int, capture: Capture) -> dict:
    rng = random.Random(7)
    ids = [str(TG_BASE + rng.randint(1, n_users)) for _ in range(repeat)]
    prefixes = ["@" + rng.choice(FIRST).lower()[:rng.randint(2, 4)] for _ in range(repeat)]
    cases = {"id": ids, "@prefix": prefixes, "common name": ["anna", "hannah", "ivan", "olga", "maria"],
             "rare name": [RARE.lower(), "zephyr", "phyrine"]}
    conn, raw = raw_runner(engine, url, path)
    results = {}
    try:
        for label, queries in cases.items():
            service, bare, totals = [], [], []
            for n in range(repeat):
                q = queries[n % len(queries)]
                statements = capture.record(lambda: search.users(OPS, q))
                hits = search.users(OPS, q)
                totals.append(search.total_label(hits))
                t0 = time.perf_counter()
                search.users(OPS, q)
                service.append((time.perf_counter() - t0) * 1000)
                raw(statements)
                t0 = time.perf_counter()
                raw(statements)
                bare.append((time.perf_counter() - t0) * 1000)
            results[label] = {"p50_ms": pct(service, 0.5), "p95_ms": pct(service, 0.95), "raw_p50_ms": pct(bare, 0.5),
                              "raw_p95_ms": pct(bare, 0.95), "example": f"{queries[0]!r} → {totals[0]}"}
        statements = capture.record(lambda: dashboard.snapshot(actor=OPS))
        service = timed(lambda: dashboard.snapshot(actor=OPS), repeat)
        bare = timed(lambda: raw(statements), repeat)
        results["dashboard"] = {"p50_ms": pct(service, 0.5), "p95_ms": pct(service, 0.95),
                                "raw_p50_ms": pct(bare, 0.5), "raw_p95_ms": pct(bare, 0.95),
                                "example": f"{len(statements)} statements"}
    finally:
        conn.close()
    return results


class Refresher:
    """The dashboard refreshed every second while on, as the TUI's timer does: the first refresh as
    it is turned on, then one a second. Commands come from a queue ("on", "off", "eof"); an "off" is
    acknowledged through ``ack`` once no refresh runs any more."""

    def __init__(self, commands: queue.Queue, ack) -> None:
        self.commands, self.ack, self.times = commands, ack, []

    def run(self) -> None:
        on, due = False, 0.0
        while True:
            wait = max(0.0, due - time.monotonic()) if on else None
            try:
                command = self.commands.get(timeout=wait)
            except queue.Empty:
                command = None
            if command == "eof":
                return
            if command == "off":
                on = False
                self.ack()
            elif command == "on" and not on:
                on, due = True, time.monotonic()
            if on and time.monotonic() >= due:
                t0 = time.perf_counter()
                dashboard.snapshot(actor=OPS)
                self.times.append((time.perf_counter() - t0) * 1000)
                due = max(due + REFRESH_S, time.monotonic())


def refresher_process(url: str) -> int:
    """``--refresh-dashboard URL``: a Refresher in its own process, like ``bananapics admin`` beside
    the bot. Commands are stdin lines; acks are "off" lines on stdout; at end of input, the refresh
    times as one JSON line."""
    database = dbm.connect(DatabaseConfig(url=url, pool_max=2))
    commands: queue.Queue = queue.Queue()

    def read() -> None:
        for line in sys.stdin:
            commands.put(line.strip())
        commands.put("eof")

    def ack() -> None:
        print("off", flush=True)

    threading.Thread(target=read, daemon=True).start()
    refresher = Refresher(commands, ack)
    print("ready", flush=True)
    refresher.run()
    print(json.dumps(refresher.times), flush=True)
    dbm.close(database)
    return 0


class Dashboards:
    """Turns the refresher on and off; in another process (the deployment: the TUI is not the bot's
    process) or in a thread of this one (then it also competes for this process's GIL)."""

    def __init__(self, url: str, where: str) -> None:
        self.where = where
        if where == "process":
            self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--refresh-dashboard", url],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
            if self.proc.stdout.readline().strip() != "ready":
                raise RuntimeError("the dashboard process did not start")
        else:
            self.commands, self.acks = queue.Queue(), queue.Queue()
            self.refresher = Refresher(self.commands, lambda: self.acks.put("off"))
            self.thread = threading.Thread(target=self.refresher.run, daemon=True)
            self.thread.start()

    def send(self, command: str) -> None:
        if self.where == "process":
            self.proc.stdin.write(command + "\n")
        else:
            self.commands.put(command)

    def on(self) -> None:
        self.send("on")

    def off(self) -> None:
        """Returns once no refresh is running."""
        self.send("off")
        if self.where == "process":
            self.proc.stdout.readline()
        else:
            self.acks.get()

    def close(self) -> list[float]:
        if self.where == "process":
            out, _ = self.proc.communicate(timeout=60)
            return json.loads(out.strip().splitlines()[-1])
        self.commands.put("eof")
        self.thread.join()
        return self.refresher.times


def measure_bot(url: str, updates: int, tmp: Path, where: str = "process") -> dict:
    """bench/bot.py's handler run with the dashboard refreshing every second during alternate
    PHASE_S-second phases: each update counts for the phase it started in ("with" or "without"), so
    both figures come from the same run on the same database — the same triggers, the same growing
    tables, the same moments of the shared machine's load — not from two runs a minute apart."""
    import gc

    from bench import bot as botbench

    config = botbench.bench_config(url, tmp / "media")
    gc.collect()
    gc.freeze()  # as `bananapics run` does after its imports (and bench/bot.py): the seeding's garbage is not the bot's
    dashboards = Dashboards(url, where)
    phase = {"label": None}
    stop = threading.Event()

    def alternate() -> None:
        n = 0
        while not stop.is_set():
            phase["label"] = f"without {n % 2}"  # odd and even phases apart: the A/A below
            n += 1
            if stop.wait(PHASE_S):
                break
            dashboards.on()
            phase["label"] = "with"
            if stop.wait(PHASE_S):
                break
            phase["label"] = None  # the updates sent while the last refresh ends count for neither
            dashboards.off()

    switcher = threading.Thread(target=alternate, daemon=True)
    log(f"bot handlers, {updates} updates, the dashboard ({where}) refreshing every second in alternate "
        f"{PHASE_S:g} s phases")
    switcher.start()
    try:
        result = asyncio.run(botbench.handlers("bench", config, updates, tag=lambda: phase["label"], baseline=False))
    finally:
        stop.set()
        switcher.join()
        refreshes = dashboards.close()
        gc.unfreeze()
    out: dict = {"where": where, "phase_s": PHASE_S, "refreshes": len(refreshes), "refresh_p50_ms": pct(refreshes, 0.5),
                 "refresh_max_ms": max(refreshes, default=0.0)}
    tagged = result.by_tag or {}
    halves = [tagged.get("without 0", []), tagged.get("without 1", [])]
    for label, ms in (("without", halves[0] + halves[1]), ("with", tagged.get("with", []))):
        out[label] = {"updates": len(ms), "p50_ms": pct(ms, 0.5), "p99_ms": pct(ms, 0.99)}
    out["ratio"] = out["without"]["p99_ms"] / max(out["with"]["p99_ms"], 1e-9)
    # The same ratio between the two halves of "without" (no dashboard in either): how far from 1 the
    # machine's noise alone moves a p99 ratio in this run (on half the updates, so somewhat further)
    out["aa_ratio"] = pct(halves[0], 0.99) / pct(halves[1], 0.99) if all(halves) else None  # None: one phase only
    return out


def _hwm_mb(pid: int) -> float:
    """The process's peak RSS so far (VmHWM: per address space, so it starts again at exec and does
    not count this big parent's pages, which a forked child's ru_maxrss would)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def run_measured(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, exit status) of a subprocess; the peak is sampled every 20 ms."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _hwm_mb(proc.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        log(f"{cmd[0]} failed: {proc.stderr.read().decode(errors='replace').strip()[:300]}")
    proc.stderr.close()
    return seconds, peak, proc.returncode


def measure_export(engine: str, url: str, path: str | None, rows: int, tmp: Path) -> dict:
    env = {**os.environ, "BANANAPICS_DATABASE__URL": url, "BANANAPICS_LOGGING__LEVEL": "WARNING"}
    cli = [str(Path(sys.executable).with_name("bananapics"))]
    out = {}
    for fmt in ("csv", "jsonl"):
        target = tmp / f"transfers.{fmt}"
        seconds, rss, code = run_measured(cli + ["export", "transfers", "--format", fmt, "--out", str(target)], env)
        out[fmt] = {"seconds": seconds, "rows_per_s": rows / seconds, "rss_mb": rss, "ok": code == 0,
                    "bytes": target.stat().st_size if target.exists() else 0}
        target.unlink(missing_ok=True)
    target = tmp / "baseline.csv"
    if engine == "postgres":
        cmd = ["psql", url, "-qc", f"\\copy (SELECT * FROM transfers ORDER BY created_at, id) TO '{target}' CSV HEADER"]
        label = "psql \\copy"
    else:
        script = ("import csv,sqlite3,sys;c=sqlite3.connect(sys.argv[1]);w=csv.writer(open(sys.argv[2],'w',newline=''));"
                  "cur=c.execute('SELECT * FROM transfers ORDER BY created_at, id')\n"
                  "while b:=cur.fetchmany(2000): w.writerows(b)")
        cmd, label = [sys.executable, "-c", script, path, str(target)], "bare sqlite3+csv"
    seconds, rss, code = run_measured(cmd)
    out["baseline"] = {"label": label, "seconds": seconds, "rows_per_s": rows / seconds, "rss_mb": rss, "ok": code == 0}
    target.unlink(missing_ok=True)
    return out


# ---------------------------------------------------------------- one engine


def bench_engine(engine: str, args, sizes: dict[str, int], report: dict, capture: Capture) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bananapics-bench-console-"))
    name = f"bananapics_bench_{os.getpid()}_console"
    admin = None
    path = None
    if engine == "postgres":
        admin = dbm.make_database(DatabaseConfig(url=args.pg_url, pool_max=2))
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute_sql(f'CREATE DATABASE "{name}"')
        url = f"{args.pg_url.rsplit('/', 1)[0]}/{name}"
    else:
        path = str(tmp / "console.db")
        url = f"sqlite:///{path}"
    database = dbm.connect(DatabaseConfig(url=url, pool_max=16, sqlite_synchronous="normal"))
    try:
        dbm.upgrade(database)
        t0 = time.perf_counter()
        seed(database, sizes)
        seeded = time.perf_counter() - t0
        log(f"{engine}: seeded in {seeded:.0f} s; measuring search and dashboard")
        result: dict = {"engine": engine, "sizes": sizes, "seed_seconds": seeded}
        result["queries"] = measure_queries(engine, url, path, sizes["users"], args.repeat, capture)
        if not args.skip_export:
            log(f"{engine}: export of {sizes['transfers']:,} transfers")
            result["export"] = measure_export(engine, url, path, sizes["transfers"], tmp)
        if not args.skip_bot:
            result["bot"] = measure_bot(url, args.bot_updates, tmp, args.dashboard_in)
        report["engines"].append(result)
    finally:
        dbm.close(database)
        proxy.initialize(None)
        if admin is not None:
            admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                              "AND pid <> pg_backend_pid()", (name,))
            if not args.keep:
                admin.execute_sql(f'DROP DATABASE IF EXISTS "{name}"')
            admin.close_all()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def print_engine(r: dict, report: dict) -> None:
    s = r["sizes"]
    p(f"== {r['engine']}: {s['users']:,} users, {s['transfers']:,} transfers, {s['jobs']:,} jobs, "
      f"{s['payments']:,} payments (seeded in {r['seed_seconds']:.0f} s)")
    p(f"{'':14} {'p50 ms':>7} {'p95 ms':>7} │ {'raw p50':>7} {'raw p95':>7} │ example")
    for label, q in r["queries"].items():
        p(f"{label:14} {q['p50_ms']:7.2f} {q['p95_ms']:7.2f} │ {q['raw_p50_ms']:7.2f} {q['raw_p95_ms']:7.2f} │ {q['example']}")
        if r["engine"] == "postgres" and s["users"] >= 1_000_000:
            goal = GOALS["dashboard_ms" if label == "dashboard" else "search_p95_ms"]
            if q["p95_ms"] > goal:
                report["notes"].append(f"postgres {label} p95 {q['p95_ms']:.1f} ms is above the goal of {goal:g} ms")
    if "export" in r:
        e = r["export"]
        p("export of all transfers (subprocess):")
        for fmt in ("csv", "jsonl"):
            x = e[fmt]
            p(f"  bananapics export {fmt:5} {x['rows_per_s']:>10,.0f} rows/s  {x['seconds']:6.1f} s  peak RSS "
              f"{x['rss_mb']:6.1f} MB  {x['bytes'] / 1e6:7.1f} MB out{'' if x['ok'] else '  FAILED'}")
            if x["rss_mb"] > GOALS["export_rss_mb"]:
                report["notes"].append(f"{r['engine']} export {fmt} peak RSS {x['rss_mb']:.0f} MB > {GOALS['export_rss_mb']:g} MB")
            if not x["ok"]:
                report["problems"].append(f"{r['engine']} export {fmt} failed")
        b = e["baseline"]
        p(f"  baseline {b['label']:14} {b['rows_per_s']:>10,.0f} rows/s  {b['seconds']:6.1f} s  peak RSS {b['rss_mb']:6.1f} MB")
    if "bot" in r:
        b = r["bot"]
        p(f"bot handlers p99 (the dashboard in {b['where']}, {b['phase_s']:g} s phases): "
          f"{b['without']['p99_ms']:.2f} ms without ({b['without']['updates']} updates), {b['with']['p99_ms']:.2f} ms "
          f"with a refresh every second ({b['with']['updates']} updates; {b['refreshes']} refreshes, p50 "
          f"{b['refresh_p50_ms']:.1f} ms, max {b['refresh_max_ms']:.1f} ms): ratio {b['ratio']:.2f}")
        p(f"  p50 {b['without']['p50_ms']:.2f} ms without, {b['with']['p50_ms']:.2f} ms with; baseline: the same "
          f"p99 ratio between odd and even phases without the dashboard "
          f"{'n/a' if b['aa_ratio'] is None else format(b['aa_ratio'], '.2f')} (the run's noise)")
        if b["ratio"] < GOALS["bot_ratio"]:
            report["notes"].append(f"{r['engine']} bot p99 ratio {b['ratio']:.2f} < {GOALS['bot_ratio']} "
                                   f"(the dashboard in {b['where']})")
    p()


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--transfers", type=int, default=10_000_000)
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--sqlite-users", type=int, default=50_000, help="SQLite set; other tables scale with it")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--bot-updates", type=int, default=6000, help="half of them with the dashboard refreshing")
    parser.add_argument("--dashboard-in", choices=("process", "thread"), default="process",
                        help="where the dashboard refreshes during the bot bench: its own process, as the TUI "
                             "(default), or a thread of the bot's process (adds the GIL's contention)")
    parser.add_argument("--refresh-dashboard", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="50k users, 200k transfers, 50k jobs; 500 bot updates")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-bot", action="store_true")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the seeded databases (debugging plans)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.refresh_dashboard:
        return refresher_process(args.refresh_dashboard)
    if args.quick:
        args.users, args.transfers, args.jobs, args.payments = 50_000, 200_000, 50_000, 10_000
        args.sqlite_users, args.bot_updates, args.repeat = 10_000, 1000, 20
    if args.json:
        OUT = sys.stderr
    logging.basicConfig(level=logging.WARNING)
    capture = Capture()
    report: dict = {"engines": [], "notes": [], "problems": []}
    wall = time.perf_counter()
    k = args.sqlite_users / max(args.users, 1)
    plans = [("postgres", args.skip_postgres, {"users": args.users, "transfers": args.transfers, "jobs": args.jobs,
                                               "payments": args.payments}),
             ("sqlite", args.skip_sqlite, {"users": args.sqlite_users, "transfers": int(args.transfers * k),
                                           "jobs": int(args.jobs * k), "payments": max(10, int(args.payments * k))})]
    for engine, skip, sizes in plans:
        if skip:
            continue
        try:
            bench_engine(engine, args, sizes, report, capture)
        except Exception as exc:  # noqa: BLE001 - one line, then the exit status says it
            report["problems"].append(f"{engine}: {type(exc).__name__}: {exc}")
            log(f"{engine} failed: {type(exc).__name__}: {exc}")
    for r in report["engines"]:
        print_engine(r, report)
    report["wall_seconds"] = time.perf_counter() - wall
    report["status"] = "problems" if report["problems"] else "ok"
    print_footer(p, report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 1 if report["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
