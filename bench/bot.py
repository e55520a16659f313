#!/usr/bin/env python
"""Bot benchmark: handler latency and the delivery loop's send rate, in-process through the
simulated Telegram (``bananapics.simtg``), on SQLite and Postgres.

Usage (from the repository top)::

    .venv/bin/python bench/bot.py [--updates 10000] [--quick] [--skip-sqlite] [--skip-postgres]
                                  [--pg-url URL] [--delivery-chats 120] [--json]

Part 1, handlers: users drive the real bot (``build_bot``) one update at a time with a fixed mix of
/start, menu callbacks and wizard steps (model → prompt → skip → cancel). Each update is timed from
the moment the simulated user sends it until the bot has finished reacting (``settle``). The same
updates are then replayed, in the same order and with the same callback data, against a bot whose
handlers do nothing: that is the simulated Telegram's raw dispatch, the baseline of the ratio.

Part 2, delivery: one finished job per chat (a photo, its full-quality file and the closing text:
three messages) waits in the outbox; the real delivery loop sends them all against the simulated
Telegram with its rate limits on (~30 messages/s overall, ~1/s per chat) and the real clock. Reported:
messages/s, its ratio to the 30/s limit, and how many FloodWaits Telegram answered. The baseline is a
bare loop sending the same number of text messages through the same send limiter, with no database.

Exit status: 0 ok (missed goals are NOTEs), 1 setup failure or a wrong result, 3 a goal missed
with ``--check-goals``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import peewee as pw  # noqa: E402
from telethon import Button, events  # noqa: E402

from bananapics import db as dbm  # noqa: E402
from bananapics.bot.app import build_bot  # noqa: E402
from bananapics.bot.delivery import run_forever  # noqa: E402
from bananapics.bot.ratelimit import SendLimiter, UserLimiter  # noqa: E402
from bananapics.config import DatabaseConfig, load_config  # noqa: E402
from bananapics.models import Outbox  # noqa: E402
from bananapics.models import db as proxy  # noqa: E402
from bananapics.services import jobs, outbox, users  # noqa: E402
from bananapics.simtg import FakeTelegram, Limits, SimClient, SimUser  # noqa: E402
from bananapics.wiring import build_runtime  # noqa: E402
from bananapics.worker import run_job  # noqa: E402
from bench.common import cpu_ticks, log, print_footer  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TELEGRAM_LIMIT = 30  # the simulated Telegram's messages/s over all chats
GOALS = {"sqlite_p99_ms": 5.0, "postgres_p99_ms": 10.0, "delivery_ratio": 0.9}
# One user's session: (action, argument). "press" takes a label on the panel.
SCRIPT = (("send", "/start"), ("press", "Balance"), ("press", "Menu"), ("press", "Generate"),
          ("press", "SeeDream 4"), ("send", "a banana surfing a wave at sunset"), ("press", "Skip"),
          ("press", "Cancel"), ("send", "/help"), ("send", "/balance"))
OUT = sys.stdout


def p(line: str = "") -> None:
    print(line, file=OUT, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


@dataclass
class HandlerResult:
    engine: str
    updates: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    base_seconds: float
    base_p50_ms: float
    base_p99_ms: float
    steps: list | None = None  # with --by-step: per step of SCRIPT, p50/p99/max ms and statements
    gc_full: int = 0  # full (generation 2) garbage collections during the timed updates
    gc_max_ms: float = 0.0  # the longest collection pause: what the "max" column mostly is
    by_tag: dict[str, list[float]] | None = None  # with ``tag``: each update's ms under the tag it started in

    @property
    def per_s(self) -> float:
        return self.updates / self.seconds

    @property
    def base_per_s(self) -> float:
        return self.updates / self.base_seconds


@dataclass
class DeliveryResult:
    engine: str
    rows: int
    messages: int
    seconds: float
    flood_waits: int
    base_messages: int
    base_seconds: float
    base_flood_waits: int

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def base_per_s(self) -> float:
        return self.base_messages / self.base_seconds


# ---------------------------------------------------------------- databases


class Database:
    """A migrated database of its own: a temporary SQLite file, or a Postgres database next to
    ``--pg-url`` that is dropped at the end (also after an error or Ctrl-C)."""

    def __init__(self, engine: str, pg_url: str, tmp: Path):
        self.engine, self.admin_url = engine, pg_url
        self.name = f"bananapics_bench_{os.getpid()}_bot"
        if engine == "sqlite":
            self.url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            self.url = f"{pg_url.rsplit('/', 1)[0]}/{self.name}"

    def __enter__(self) -> "Database":
        if self.engine == "postgres":
            admin = dbm.make_database(DatabaseConfig(url=self.admin_url, pool_max=2))
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{self.name}"')
            admin.execute_sql(f'CREATE DATABASE "{self.name}"')
            admin.close_all()
        self.db = dbm.connect(DatabaseConfig(url=self.url, pool_max=16))
        dbm.upgrade(self.db)
        return self

    def __exit__(self, *exc) -> None:
        if isinstance(self.db, pw.PostgresqlDatabase):
            self.db.close_all()
            admin = dbm.make_database(DatabaseConfig(url=self.admin_url, pool_max=2))
            admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                              "AND pid <> pg_backend_pid()", (self.name,))
            admin.execute_sql(f'DROP DATABASE IF EXISTS "{self.name}"')
            admin.close_all()
        else:
            self.db.close()
        proxy.initialize(None)


def bench_config(url: str, media: Path):
    return load_config(None, environ={
        "BANANAPICS_DATABASE__URL": url, "BANANAPICS_QUEUE__BACKEND": "immediate",
        "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local", "BANANAPICS_STORAGE__PATH": str(media),
        "BANANAPICS_USERS__START_BALANCE": "100", "BANANAPICS_LOGGING__LEVEL": "WARNING"})


# ---------------------------------------------------------------- part 1: handlers


class GcPauses:
    """Garbage-collection pauses of this process while timing (``gc.callbacks``): the process also
    holds the simulated Telegram's whole history, so its full collections grow with the run."""

    def __init__(self):
        self.full, self.longest, self._t0 = 0, 0.0, 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
            return
        self.longest = max(self.longest, (time.perf_counter() - self._t0) * 1000)
        self.full += info["generation"] == 2

    def __enter__(self) -> "GcPauses":
        import gc

        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        import gc

        gc.callbacks.remove(self)


class StatementCounter:
    """Counts the SQL statements peewee sends (its DEBUG log line per query) while ``step`` is set."""

    def __init__(self):
        import logging

        self.step: int | None = None
        self.counts: dict[int, int] = {}
        handler = logging.Handler()
        handler.emit = self._count  # type: ignore[method-assign]
        self.logger = logging.getLogger("peewee")
        self.handler = handler

    def _count(self, record) -> None:
        if self.step is not None and record.name == "peewee":  # not peewee.pool's lines
            self.counts[self.step] = self.counts.get(self.step, 0) + 1

    def __enter__(self) -> "StatementCounter":
        import logging

        self.level, self.propagate = self.logger.level, self.logger.propagate
        self.logger.setLevel(logging.DEBUG)
        self.logger.propagate = False
        self.logger.addHandler(self.handler)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)
        self.logger.propagate = self.propagate


async def handlers(engine: str, config, n_updates: int, by_step: bool = False, *,
                   tag: Callable[[], str | None] | None = None, baseline: bool = True) -> HandlerResult:
    """``tag``: called as each update is sent; its latency is also filed under that tag (None: not
    filed), so a caller can compare conditions it alternates during one run (bench/console.py).
    ``baseline=False`` skips the raw-dispatch replay (its figures are then 0)."""
    tg = FakeTelegram(limits=Limits(rate_limits=False), settle_timeout=60)
    client = SimClient(telegram=tg)
    bot = build_bot(config, client)
    bot.limiter = UserLimiter(rate_per_min=1e9, burst=1e9)  # measure the handlers, not "slow down"
    bot.sender = SendLimiter(global_per_s=10**6, per_chat_per_s=1e6, per_chat_burst=10**6)  # nor the pacing
    await client.start(bot_token=tg.bot_token)
    await bot.start(delivery_loop=False)
    replay: list[tuple[int, str, object]] = []
    latencies: list[float] = []
    tags: list[str | None] = []
    people: list[SimUser] = []
    counter = StatementCounter() if by_step else None
    if counter:
        counter.__enter__()
    pauses = GcPauses().__enter__()
    started = time.perf_counter()
    while len(latencies) < n_updates:
        user = SimUser(tg, f"User{len(people)}", lang_code="en")
        people.append(user)
        for step, (action, arg) in enumerate(SCRIPT):
            if len(latencies) >= n_updates:
                break
            if counter:
                counter.step = step
            tags.append(tag() if tag else None)
            if action == "send":
                t0 = time.perf_counter()
                await user.send(arg)
                replay.append((len(people) - 1, "send", arg))
            else:
                data = user.panel.button(arg).data
                t0 = time.perf_counter()
                await user.press_data(data, message=user.panel)
                replay.append((len(people) - 1, "press", data))
            latencies.append(time.perf_counter() - t0)
        if len(people) % 100 == 0:
            log(f"{engine}: {len(latencies)} updates")
    seconds = time.perf_counter() - started
    pauses.__exit__()
    if counter:
        counter.__exit__()
    await client.disconnect()
    base_seconds, base = await raw_dispatch(len(people), replay) if baseline else (0.0, [])
    ms = [x * 1000 for x in latencies]
    by_tag: dict[str, list[float]] | None = {} if tag else None
    for label, value in zip(tags, ms):
        if by_tag is not None and label is not None:
            by_tag.setdefault(label, []).append(value)
    base_ms = [x * 1000 for x in base]
    steps = None
    if counter:
        steps = []
        for step, (action, arg) in enumerate(SCRIPT):
            mine = ms[step::len(SCRIPT)]
            runs = len(mine) or 1
            steps.append({"step": f"{action} {arg}", "p50_ms": pct(mine, 0.5), "p99_ms": pct(mine, 0.99),
                          "max_ms": max(mine, default=0.0), "statements": counter.counts.get(step, 0) / runs})
    return HandlerResult(engine, len(latencies), seconds, pct(ms, 0.5), pct(ms, 0.99), max(ms),
                         base_seconds, pct(base_ms, 0.5), pct(base_ms, 0.99), steps, pauses.full, pauses.longest,
                         by_tag)


async def raw_dispatch(n_people: int, replay: list) -> tuple[float, list[float]]:
    """The same updates through the simulated Telegram and Telethon's dispatch to no-op handlers."""
    tg = FakeTelegram(limits=Limits(rate_limits=False), settle_timeout=60)
    client = SimClient(telegram=tg)

    @client.on(events.NewMessage())
    async def noop_message(event) -> None:
        return None

    @client.on(events.CallbackQuery())
    async def noop_button(event) -> None:
        return None

    await client.start(bot_token=tg.bot_token)
    people = [SimUser(tg, f"User{n}", lang_code="en") for n in range(n_people)]
    panels = {}
    for n, user in enumerate(people):
        await user.send("/hello")  # so the bot may write to them (untimed)
        await client.send_message(user.id, "panel", buttons=[[Button.inline("x", b"x")]])
        panels[n] = user.last
    latencies = []
    started = time.perf_counter()
    for n, action, arg in replay:
        t0 = time.perf_counter()
        if action == "send":
            await people[n].send(arg)
        else:
            await people[n].press_data(arg, message=panels[n])
        latencies.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    await client.disconnect()
    return seconds, latencies


# ---------------------------------------------------------------- part 2: delivery


async def delivery(engine: str, config, chats: int) -> DeliveryResult:
    tg = FakeTelegram(limits=Limits(rate_limits=False), settle_timeout=60)  # on once the setup is done
    client = SimClient(telegram=tg)
    bot = build_bot(config, client)
    await client.start(bot_token=tg.bot_token)
    await bot.start(delivery_loop=False)
    runtime = build_runtime(config)
    people = []
    for n in range(chats):  # untimed: each user writes once, then a job of theirs finishes
        user = SimUser(tg, f"Chat{n}", lang_code="en")
        await user.send("/help")
        people.append(user)
        account = await asyncio.to_thread(users.get, user.id)
        job = await asyncio.to_thread(jobs.submit, account.id, "nano-banana", f"bench picture {n}",
                                      chat_id=user.id, job_id=uuid.uuid4().hex)
        await asyncio.to_thread(run_job, job.id, runtime)
    rows = await asyncio.to_thread(outbox.pending_count)
    tg.limits.rate_limits = True  # Telegram's limits from here on, with the real clock
    await asyncio.sleep(1.1)  # the setup's own messages leave Telegram's one-second window
    before = len(tg.flood_waits)
    shown = sum(len(u.messages) for u in people)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(run_forever(client, bot.storage, bot.sender, interval=0.02, stop=stop))
    while await asyncio.to_thread(outbox.pending_count):
        await asyncio.sleep(0.02)
    seconds = time.perf_counter() - started
    stop.set()
    await task
    messages = sum(len(u.messages) for u in people) - shown
    floods = len(tg.flood_waits) - before
    sent = await asyncio.to_thread(lambda: Outbox.select().where(Outbox.status == "sent").count())
    if sent != rows:
        raise RuntimeError(f"{engine}: {sent} of {rows} outbox rows sent")
    if any([m.media_kind for m in u.messages][-3:] != ["photo", "document", None] for u in people):
        raise RuntimeError(f"{engine}: a chat did not get photo, file, text exactly once")
    await asyncio.sleep(1.1)
    base_seconds, base_floods = await bare_sends(client, tg, people, messages, config.telegram.send_per_second)
    await client.disconnect()
    return DeliveryResult(engine, rows, messages, seconds, floods, messages, base_seconds, base_floods)


async def bare_sends(client, tg, people, messages: int, per_s: int) -> tuple[float, int]:
    """The baseline: the same number of messages, round-robin over the chats, paced by a fresh send
    limiter at the same rate, straight to ``send_message`` (no database, no outbox, no media)."""
    limiter = SendLimiter(global_per_s=per_s)
    before = len(tg.flood_waits)

    async def chat(user, count):
        for k in range(count):
            await limiter.acquire(user.id)
            await client.send_message(user.id, f"baseline {k}")

    share = [messages // len(people) + (1 if n < messages % len(people) else 0) for n in range(len(people))]
    started = time.perf_counter()
    await asyncio.gather(*(chat(u, c) for u, c in zip(people, share)))
    return time.perf_counter() - started, len(tg.flood_waits) - before


# ---------------------------------------------------------------- report


def machine_note(busy: float) -> str | None:
    if busy > 0.6:
        return (f"the machine's CPUs were {busy:.0%} busy during the run (other work shares the cores): "
                "latencies and rates are depressed")
    return None


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=10_000)
    parser.add_argument("--delivery-chats", type=int, default=120)
    parser.add_argument("--quick", action="store_true", help="1,000 updates and 30 chats")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--part", choices=("all", "handlers", "delivery", "payments"), default="all",
                        help="payments runs bench/payments.py (pre-checkout, credits, replays) on Postgres")
    parser.add_argument("--check-goals", action="store_true")
    parser.add_argument("--by-step", action="store_true",
                        help="also p50/p99 and SQL statements per step of the script (counting adds overhead)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.updates, args.delivery_chats = min(args.updates, 1000), min(args.delivery_chats, 30)
    if args.json:
        OUT = sys.stderr
    import gc
    import logging

    logging.basicConfig(level=logging.WARNING)
    gc.freeze()  # as `bananapics run` does after its imports (cli/run_cmd.py)
    engines = [e for e, skip in (("sqlite", args.skip_sqlite), ("postgres", args.skip_postgres)) if not skip]
    report: dict = {"handlers": [], "delivery": [], "notes": [], "problems": [], "cpus": os.cpu_count()}
    wall = time.perf_counter()
    busy0 = cpu_ticks()
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="bananapics-bench-bot-") as tmp:
            try:
                with Database(engine, args.pg_url, Path(tmp)) as database:
                    config = bench_config(database.url, Path(tmp) / "media")
                    if args.part in ("all", "handlers"):
                        log(f"{engine}: handlers, {args.updates} updates")
                        h = asyncio.run(handlers(engine, config, args.updates, args.by_step))
                        report["handlers"].append({**asdict(h), "per_s": h.per_s, "base_per_s": h.base_per_s})
                    if args.part in ("all", "delivery"):
                        log(f"{engine}: delivery, {args.delivery_chats} chats")
                        d = asyncio.run(delivery(engine, config, args.delivery_chats))
                        report["delivery"].append({**asdict(d), "per_s": d.per_s, "base_per_s": d.base_per_s})
            except Exception as exc:  # noqa: BLE001 - one line, then the exit status says it
                report["problems"].append(f"{engine}: {type(exc).__name__}: {exc}")
    b1, t1 = cpu_ticks()
    busy = (b1 - busy0[0]) / max(1, t1 - busy0[1])
    report["machine_busy"] = busy
    report["wall_seconds"] = time.perf_counter() - wall

    if report["handlers"]:
        p(f"Handlers: {args.updates} updates one at a time (closed loop), send → bot done reacting")
        p(f"{'engine':9} {'upd/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} │ {'raw upd/s':>9} {'p50 ms':>7} {'p99 ms':>7} │ ratio")
    for h in report["handlers"]:
        ratio = h["per_s"] / h["base_per_s"]
        p(f"{h['engine']:9} {h['per_s']:7.0f} {h['p50_ms']:7.2f} {h['p99_ms']:7.2f} {h['max_ms']:7.1f} │ "
          f"{h['base_per_s']:9.0f} {h['base_p50_ms']:7.2f} {h['base_p99_ms']:7.2f} │ {ratio:.2f}")
        p(f"  {'':9} full garbage collections {h['gc_full']}, longest collection pause {h['gc_max_ms']:.1f} ms")
        for st in h["steps"] or ():
            p(f"  {st['step'][:36]:36} p50 {st['p50_ms']:6.2f}  p99 {st['p99_ms']:6.2f}  max {st['max_ms']:7.1f}  "
              f"statements {st['statements']:5.1f}")
        goal = GOALS[f"{h['engine']}_p99_ms"]
        if h["p99_ms"] > goal:
            report["notes"].append(f"{h['engine']} handler p99 {h['p99_ms']:.1f} ms is above the goal of {goal:g} ms")
    if report["delivery"]:
        p()
        p(f"Delivery: one finished job per chat (photo + file + text), simulated limit {TELEGRAM_LIMIT} msg/s, real clock")
        p(f"{'engine':9} {'rows':>5} {'msgs':>5} {'msg/s':>6} {'÷30':>5} {'floods':>6} │ {'bare msg/s':>10} {'floods':>6} │ ratio")
    for d in report["delivery"]:
        p(f"{d['engine']:9} {d['rows']:5} {d['messages']:5} {d['per_s']:6.1f} {d['per_s'] / TELEGRAM_LIMIT:5.2f} "
          f"{d['flood_waits']:6} │ {d['base_per_s']:10.1f} {d['base_flood_waits']:6} │ {d['per_s'] / d['base_per_s']:.2f}")
        if d["per_s"] < GOALS["delivery_ratio"] * TELEGRAM_LIMIT or d["flood_waits"]:
            report["notes"].append(f"{d['engine']} delivery {d['per_s']:.1f} msg/s with {d['flood_waits']} FloodWaits "
                                   f"(goal ≥ {GOALS['delivery_ratio'] * TELEGRAM_LIMIT:g} msg/s, 0 FloodWaits)")
    note = machine_note(busy)
    if note:
        report["notes"].append(note)
    report["status"] = "problems" if report["problems"] else "ok"
    p()
    print_footer(p, report)
    if args.json:
        print(json.dumps(report, indent=2))
    code = 1 if report["problems"] else 0
    missed = [n for n in report["notes"] if "goal" in n]
    code = code or (3 if args.check_goals and missed else 0)
    if args.part in ("all", "payments") and not args.skip_postgres and not args.json:
        from bench import payments  # its own report: pre-checkout latency, credit throughput, replays

        log("payments (bench/payments.py)")
        code = max(code, payments.main((["--quick"] if args.quick else []) + ["--pg-url", args.pg_url]))
    return code


if __name__ == "__main__":
    sys.exit(main())
