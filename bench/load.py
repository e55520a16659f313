#!/usr/bin/env python
"""Load run: N simulated users doing mixed flows at once through the simulated Telegram against
Postgres, Redis and K real ``bananapics worker`` processes, for K=1 and then K=2 in the same run.

Usage (from the repository top)::

    .venv/bin/python bench/load.py [--users 1000] [--seconds 90] [--threads 2] [--latency 1.5] [--think 60,120]
                                   [--pg-url URL] [--redis-url redis://127.0.0.1:6379/13]
                                   [--quick] [--json] [--check-goals]

Setup: a Postgres database of its own next to ``--pg-url`` (dropped at the end, also after an error
or Ctrl-C), a Redis database number (flushed before and after; db 0 is refused), a storage
directory every process shares, all models on the offline ``local`` provider sleeping ``--latency``
seconds per call (jobs are provider-latency-bound). The bot (``build_bot``: every handler, the
delivery loop with its send limiter at ``[telegram] send_per_second``) runs in this process on the
simulated Telegram, whose own flood limits are off; the workers are separate processes started as
an operator would (``bench/procs.py``). All users register with /start first (one in five through
another user's invite link); five of them are admins.

Each phase (K=1, then K=2 with a second worker started) lets every user loop over flows for
``--seconds``: the wizard with a reference photo, the wizard without, a Stars top-up (invoice,
pre-checkout, payment), history, templates, the invite screen, the profile; admins open the panel,
search a user and give them tokens (confirmed, logged). A think time (``--think``, default 60-120 s
× users/1000; the first flow starts at a random point of it) separates flows. To
keep the queue full without building a backlog that takes minutes to drain, users only order a
generation while fewer than ``--inflight`` jobs are queued or running (default 6 × threads: the
workers never wait for work); otherwise they pick another flow. After the phase the users stop
and the run waits until every job is finished and delivered.

How a user waits for the bot: not ``settle()`` (it waits for the whole simulated world to be quiet,
which 1,000 users never are) but for the bot's dispatch of that user's own update to end.

Figures per phase: updates/s (updates the bot dispatched ÷ phase time), handler p50/p99 (one
update's dispatch, every handler it runs included, timed inside the bot's client), reaction p50/p99
(from the user's send to that dispatch's end: queueing in the update loop included), jobs/s (jobs
finished in the phase after a warm-up ÷ that time), delivery msg/s (messages the delivery loop sent)
and all sends/s against the send limit, peak RSS per process (VmHWM), peak Postgres connections
(``pg_stat_activity``, sampled every 0.5 s, by application name), errors (flows that went wrong,
handler exceptions, worker log errors), and ``verify()``. Scale-out: jobs/s(K=2) ÷ jobs/s(K=1),
goal ≥ 1.8.

Exit status: 0 ok, 1 setup failure or a phase that could not finish, 2 ``verify()`` breaches or
errors, 3 a goal missed (only with ``--check-goals``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import io
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

APP_BOT = "bananapics-load-bot"
os.environ["PGAPPNAME"] = APP_BOT  # this process's Postgres connections, told apart in pg_stat_activity

from PIL import Image  # noqa: E402

from bananapics import db as dbm  # noqa: E402
from bananapics import metrics  # noqa: E402
from bananapics.config import DatabaseConfig  # noqa: E402
from bananapics.models import Job, Outbox  # noqa: E402
from bananapics.models import db as proxy  # noqa: E402
from bench.common import cpu_ticks, log, pct, print_footer  # noqa: E402
from bench.procs import Stack, Worker, proc_status_kb  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
GOAL_SCALE_OUT = 1.8
REACT_TIMEOUT_S = 120.0
MODEL_BUTTON = "SeeDream 4"
ADMINS = 5
OUT = sys.stdout


def p(line: str = "") -> None:
    print(line, file=OUT, flush=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def picture(n: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 64), ((n * 37) % 256, (n * 91) % 256, (n * 53 + 40) % 256)).save(buf, "JPEG")
    return buf.getvalue()


# ---------------------------------------------------------------- the database of the run


class Database:
    """``bananapics_bench_<pid>_load`` next to ``--pg-url``, migrated; dropped on exit."""

    def __init__(self, admin_url: str, pool_max: int):
        self.admin_url, self.pool_max = admin_url, pool_max
        self.name = f"bananapics_bench_{os.getpid()}_load"
        self.url = f"{admin_url.rsplit('/', 1)[0]}/{self.name}"

    def admin(self):
        return dbm.make_database(DatabaseConfig(url=self.admin_url, pool_max=2))

    def __enter__(self) -> "Database":
        admin = self.admin()
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{self.name}"')
        admin.execute_sql(f'CREATE DATABASE "{self.name}"')
        admin.close_all()
        self.db = dbm.connect(DatabaseConfig(url=self.url, pool_max=self.pool_max, pool_timeout_s=30.0))
        dbm.upgrade(self.db)
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self.db.close_all()
        proxy.initialize(None)
        admin = self.admin()
        admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND pid <> pg_backend_pid()", (self.name,))
        admin.execute_sql(f'DROP DATABASE IF EXISTS "{self.name}"')
        admin.close_all()


class Sampler(threading.Thread):
    """Every 0.5 s, from a connection to the admin database: this run's Postgres connections by
    application name (peak of the total and per name); and the RSS of every process."""

    def __init__(self, database: Database, workers: list[Worker]):
        super().__init__(name="sampler", daemon=True)
        self.database, self.workers = database, workers
        self.stop_event = threading.Event()
        self.reset()

    def reset(self) -> None:
        self.peak_total = 0
        self.peak_by_app: Counter = Counter()

    def run(self) -> None:
        admin = self.database.admin()
        try:
            while not self.stop_event.wait(0.5):
                with contextlib.suppress(Exception):
                    rows = admin.execute_sql(
                        "SELECT application_name, count(*) FROM pg_stat_activity WHERE datname = %s "
                        "GROUP BY application_name", (self.database.name,)).fetchall()
                    self.peak_total = max(self.peak_total, sum(n for _, n in rows))
                    for app, n in rows:
                        self.peak_by_app[app or "?"] = max(self.peak_by_app[app or "?"], n)
                for worker in list(self.workers):
                    worker.sample_rss()
        finally:
            admin.close_all()


# ---------------------------------------------------------------- users that wait for their own reaction


class FlowError(Exception):
    """A flow could not go on (a button missing, a payment refused): counted as an error."""


@dataclass
class Meter:
    """What the bot did for users' updates: one record per dispatched user update."""

    handler_s: list[float] = field(default_factory=list)
    react_s: list[float] = field(default_factory=list)
    updates: int = 0

    def reset(self) -> None:
        self.handler_s, self.react_s, self.updates = [], [], 0


class Reactions:
    """Wraps the bot client's ``_dispatch_update`` (every handler of one update runs inside it): times
    it, and wakes the user whose update it was. Only updates a user sent count (their messages, button
    presses, pre-checkout queries, payment service messages), never the bot's own outgoing ones."""

    def __init__(self, client) -> None:
        from telethon.tl import types

        self.types = types
        self.waiting: dict[int, tuple[asyncio.Future, set | None]] = {}
        self.meter = Meter()
        original = client._dispatch_update

        async def dispatch(update):
            started = time.perf_counter()
            try:
                return await original(update)
            finally:
                user_id = self.user_of(update)
                if user_id is not None:
                    self.meter.handler_s.append(time.perf_counter() - started)
                    self.meter.updates += 1
                    entry = self.waiting.get(user_id)
                    # only the update this user is waiting for (a late duplicate of an earlier one is not it)
                    if entry is not None and (entry[1] is None or metrics.update_ids(update)["update_id"] in entry[1]):
                        del self.waiting[user_id]
                        if not entry[0].done():
                            entry[0].set_result(None)

        client._dispatch_update = dispatch

    def user_of(self, update) -> int | None:
        t = self.types
        if isinstance(update, (t.UpdateBotCallbackQuery, t.UpdateBotPrecheckoutQuery)):
            return update.user_id
        if isinstance(update, t.UpdateNewMessage) and not getattr(update.message, "out", False):
            return metrics.update_ids(update)["user_id"]
        return None


def load_user_class():
    from bananapics.simtg import SimUser

    class LoadUser(SimUser):
        reactions: Reactions

        async def _act(self, fn, *, timeout=None):
            waiter = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            result = fn()  # the update reaches the bot one loop hop later: registering now is in time
            if hasattr(result, "query_id"):
                key = {result.query_id}  # a button press, a pre-checkout query
            elif isinstance(result, list):
                key = {m.id for m in result}  # the messages this user sent
            else:
                key = None  # a payment's service message: the next update of this user
            self.reactions.waiting[self.id] = (waiter, key)
            try:
                await asyncio.wait_for(waiter, REACT_TIMEOUT_S)
            except asyncio.TimeoutError:
                self.reactions.waiting.pop(self.id, None)
                raise FlowError("no reaction from the bot") from None
            self.reactions.meter.react_s.append(time.perf_counter() - started)
            return result

    return LoadUser


def button(user, text: str, *, prefix: bool = False) -> str:
    labels = user.buttons()
    found = next((b for b in labels if (b.startswith(text) if prefix else text in b)), None)
    if found is None:
        panel = user.panel
        raise FlowError(f"no button {text!r} on {(panel.text if panel else '')[:50]!r} {labels[:8]}")
    return found


async def tap(user, text: str, *, prefix: bool = False):
    return await user.press(button(user, text, prefix=prefix))


# ---------------------------------------------------------------- flows


async def generate(user, ctx: "Run", with_ref: bool) -> None:
    """/generate → model → prompt → (reference photo → Done | Skip) → Next → Generate — N."""
    await user.send("/generate")
    await tap(user, f"{MODEL_BUTTON} ·", prefix=True)
    await user.send(f"a lighthouse in a storm, take {random.randrange(10**6)} by user {user.id}")
    if with_ref:
        await user.send_photo(ctx.refs[user.id % len(ctx.refs)])
        await tap(user, "Done")
    else:
        await tap(user, "Skip")
    await tap(user, "Next")
    await tap(user, "Generate —")
    if "Generate —" in " ".join(user.buttons()):
        raise FlowError(f"still on the confirm screen: {user.panel.text[:80]!r}")
    ctx.ordered += 1


async def top_up(user, ctx: "Run") -> None:
    """/balance → Top up → ⭐ 50 → pay the invoice (pre-checkout, payment service message)."""
    await user.send("/balance")
    await tap(user, "Top up")
    await tap(user, "⭐ 50 →", prefix=True)
    invoice = user.messages[-1]
    if invoice.media_kind != "invoice":
        raise FlowError("no invoice after choosing a package")
    result = await user.press(invoice.buttons[0], message=invoice)
    if not getattr(result, "ok", False):
        raise FlowError(f"payment refused: {getattr(result, 'error', result)}")
    ctx.paid += 1


async def history(user, ctx: "Run") -> None:
    await user.send("/history")
    first = next((b for b in user.buttons() if b.startswith("1.")), None)
    if first is not None:
        await user.press(first)
        await tap(user, "Back")


async def templates(user, ctx: "Run") -> None:
    await user.send("/templates")
    await tap(user, "Art styles")
    await tap(user, "▶")


async def invite(user, ctx: "Run") -> None:
    await user.send("/invite")
    if "start=ref_" not in (user.last.text if user.last else ""):
        raise FlowError("the invite screen shows no link")


async def profile(user, ctx: "Run") -> None:
    await user.send("/profile")
    await user.send("/help")


async def admin_grant(user, ctx: "Run") -> None:
    """/admin → Users → Search → @someone → Add tokens → 5 → reason → Yes (confirmed, logged)."""
    target = random.choice(ctx.usernames)
    await user.send("/admin")
    await tap(user, "👤 Users")
    await tap(user, "🔎 Search")
    await user.send(f"@{target}")
    await tap(user, f"@{target}")
    await tap(user, "➕ Add tokens")
    await user.send("5")
    await user.send("load run goodwill")
    await tap(user, "✅ Yes")
    if "+5 tokens" not in user.panel.text:
        raise FlowError(f"grant not confirmed: {user.panel.text[:80]!r}")
    ctx.admin_actions += 1


async def admin_look(user, ctx: "Run") -> None:
    await user.send("/admin")
    await tap(user, "🧾 Transactions")


FLOWS = (("wizard+ref", 0.28), ("wizard", 0.14), ("top-up", 0.10), ("history", 0.14), ("templates", 0.10),
         ("invite", 0.08), ("profile", 0.16))


async def one_flow(user, ctx: "Run", admin: bool) -> str:
    if admin and random.random() < 0.6:
        name = random.choice(("admin-grant", "admin-look"))
        await (admin_grant if name == "admin-grant" else admin_look)(user, ctx)
        return name
    name = random.choices([n for n, _ in FLOWS], weights=[w for _, w in FLOWS])[0]
    if name.startswith("wizard") and ctx.inflight >= ctx.inflight_cap:
        name = "profile"  # the queue is full enough: the workers have work without this one
    if name.startswith("wizard"):
        ctx.inflight += 1  # until the poller reads the database again
        await generate(user, ctx, with_ref=name == "wizard+ref")
    else:
        await {"top-up": top_up, "history": history, "templates": templates, "invite": invite,
               "profile": profile}[name](user, ctx)
    return name


# ---------------------------------------------------------------- one run


@dataclass
class Phase:
    workers: int
    seconds: float = 0.0
    updates: int = 0
    updates_per_s: float = 0.0
    handler_p50_ms: float = 0.0
    handler_p99_ms: float = 0.0
    react_p50_ms: float = 0.0
    react_p99_ms: float = 0.0
    flows: int = 0
    jobs_ordered: int = 0
    jobs_finished: int = 0
    jobs_per_s: float = 0.0
    jobs_ideal_per_s: float = 0.0
    delivery_msgs: int = 0
    delivery_msgs_per_s: float = 0.0
    sends_per_s: float = 0.0
    send_limit: int = 0
    outbox_backlog: int = 0
    drain_s: float = 0.0
    rss_mb: dict = field(default_factory=dict)
    db_peak: int = 0
    db_peak_by_app: dict = field(default_factory=dict)
    errors: int = 0
    error_kinds: dict = field(default_factory=dict)
    busy_cpu: float = 0.0


class Run:
    def __init__(self, args, stack: Stack, database: Database):
        self.args, self.stack, self.database = args, stack, database
        self.refs = [picture(n) for n in range(8)]
        self.usernames: list[str] = []
        self.inflight = 0
        self.inflight_cap = args.inflight or 6 * args.threads
        self.ordered = self.paid = self.admin_actions = 0
        self.errors: Counter = Counter()
        self.flows = 0
        self.sends = Counter()
        self.stop = asyncio.Event()
        self.workers: list[Worker] = []

    # ---- counting the send limiter's messages, by who asked
    def count_sends(self, bot) -> None:
        sender = bot.sender
        original = sender.acquire

        async def acquire(chat_id, messages: int = 1, *a, **kw):
            caller = sys._getframe(1).f_code.co_filename
            result = await original(chat_id, messages, *a, **kw)
            self.sends["delivery" if caller.endswith("delivery.py") else "panel"] += messages
            return result

        sender.acquire = acquire

    async def poll_inflight(self) -> None:
        def count() -> int:
            return Job.select().where(Job.status.in_(("queued", "running"))).count()

        while True:
            with contextlib.suppress(Exception):
                self.inflight = await asyncio.to_thread(count)
            await asyncio.sleep(0.5)

    async def user_loop(self, user, admin: bool) -> None:
        await asyncio.sleep(random.uniform(0, self.args.think[1]))  # arrivals spread: steady from the start
        while not self.stop.is_set():
            try:
                await one_flow(user, self, admin)
                self.flows += 1
            except FlowError as exc:
                kind = str(exc).split(":")[0][:60]
                if kind not in self.errors:
                    log(f"first error of its kind: {exc}")
                self.errors[kind] += 1
                with contextlib.suppress(Exception):
                    await user.send("/start")  # back to the menu, as a lost user would
            except Exception as exc:  # noqa: BLE001 - a load run counts failures, it does not stop
                self.errors[type(exc).__name__] += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.stop.wait(), random.uniform(*self.args.think))

    async def register(self, people: list, bot) -> None:
        """Everyone /start (one in five through an earlier user's invite link); admins named."""
        from bananapics.services import users
        from bananapics.services.audit import Actor

        inviters = people[: max(1, len(people) // 5)]
        for i in range(0, len(inviters), 100):
            await asyncio.gather(*(u.start() for u in inviters[i:i + 100]))
        codes = await asyncio.to_thread(lambda: [users.get(u.id).referral_code for u in inviters])
        rest = people[len(inviters):]

        async def join(n: int, u) -> None:
            await u.start(f"ref_{codes[n % len(codes)]}" if n % 4 == 0 else None)

        for i in range(0, len(rest), 100):
            await asyncio.gather(*(join(i + n, u) for n, u in enumerate(rest[i:i + 100])))
        operator = Actor.operator("bench-load")
        for u in people[:ADMINS]:
            await asyncio.to_thread(users.set_role, u.id, "admin", actor=operator)
        self.usernames = [u.record.username for u in people[ADMINS:]]

    def db_counts(self, since: dt.datetime) -> tuple[int, int, int]:
        finished = Job.select().where(Job.finished_at >= since).count()
        ordered = Job.select().where(Job.created_at >= since).count()
        backlog = Outbox.select().where(Outbox.status == "pending").count()
        return finished, ordered, backlog

    def settled(self) -> bool:
        open_jobs = Job.select().where(Job.status.in_(("queued", "running"))).count()
        pending = Outbox.select().where(Outbox.status == "pending").count()
        return open_jobs == 0 and pending == 0

    async def phase(self, k: int, people: list, bot, reactions: Reactions, sampler: Sampler) -> Phase:
        args = self.args
        while len(self.workers) < k:
            name = f"worker{len(self.workers) + 1}"
            worker = Worker(self.stack, name, threads=args.threads, app_name=f"bananapics-bench-{name}").start()
            await asyncio.to_thread(worker.wait_ready)
            self.workers.append(worker)
            sampler.workers.append(worker)
        log(f"phase K={k}: {len(people)} users for {args.seconds:g} s")
        reactions.meter.reset()
        sampler.reset()
        self.sends.clear()
        self.errors.clear()
        self.flows = self.ordered = 0
        handler_errors0 = len(bot.client.sim_handler_errors)
        self.stop.clear()
        busy0, total0 = cpu_ticks()
        t0, wall0 = utcnow(), time.perf_counter()
        loops = [asyncio.ensure_future(self.user_loop(u, admin=i < ADMINS)) for i, u in enumerate(people)]
        warm = min(10.0, args.seconds / 4)
        await asyncio.sleep(warm)
        t_warm = utcnow()
        jobs_warm, _, _ = await asyncio.to_thread(self.db_counts, t0)
        await asyncio.sleep(args.seconds - warm)
        t1 = utcnow()
        wall = time.perf_counter() - wall0
        jobs_end, ordered, backlog = await asyncio.to_thread(self.db_counts, t0)
        busy1, total1 = cpu_ticks()
        meter = reactions.meter
        ph = Phase(workers=k, seconds=wall, updates=meter.updates, updates_per_s=meter.updates / wall,
                   handler_p50_ms=pct(meter.handler_s, 0.5) * 1000, handler_p99_ms=pct(meter.handler_s, 0.99) * 1000,
                   react_p50_ms=pct(meter.react_s, 0.5) * 1000, react_p99_ms=pct(meter.react_s, 0.99) * 1000,
                   jobs_ordered=ordered, jobs_finished=jobs_end, outbox_backlog=backlog,
                   jobs_per_s=(jobs_end - jobs_warm) / (t1 - t_warm).total_seconds(),
                   jobs_ideal_per_s=k * args.threads / args.latency,
                   delivery_msgs=self.sends["delivery"], delivery_msgs_per_s=self.sends["delivery"] / wall,
                   sends_per_s=sum(self.sends.values()) / wall, send_limit=bot.sender.global_per_s,
                   busy_cpu=(busy1 - busy0) / max(1, total1 - total0))
        log(f"phase K={k}: stopping the users; {ph.updates} updates, {jobs_end} jobs finished, draining")
        self.stop.set()
        _, unfinished = await asyncio.wait(loops, timeout=15)
        for loop in unfinished:  # a flow still waiting for a send slot: the user walks away
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        ph.flows = self.flows
        drain0 = time.perf_counter()
        deadline = drain0 + max(120.0, 4 * self.inflight_cap * args.latency / (k * args.threads))
        while not await asyncio.to_thread(self.settled):
            if time.perf_counter() > deadline:
                self.errors["not drained: jobs or outbox rows left"] += 1
                break
            await asyncio.sleep(0.5)
        ph.drain_s = time.perf_counter() - drain0
        for exc in bot.client.sim_handler_errors[handler_errors0:]:
            kind = f"handler {type(exc).__name__}"
            if kind not in self.errors:
                log(f"first error of its kind: {kind}: {str(exc)[:300]}")
            self.errors[kind] += 1
        worker_errors = sum(len(w.tracebacks()) for w in self.workers)
        if worker_errors:
            self.errors["worker log errors (cumulative)"] += worker_errors
        ph.errors = sum(self.errors.values())
        ph.error_kinds = dict(self.errors)
        for w in self.workers:
            w.sample_rss()
        ph.rss_mb = {"bench (bot + simulated Telegram + users)": proc_status_kb("self", "VmHWM") / 1024,
                     **{w.name: w.peak_rss_kb / 1024 for w in self.workers}}
        ph.db_peak, ph.db_peak_by_app = sampler.peak_total, dict(sampler.peak_by_app)
        log(f"phase K={k}: {ph.jobs_per_s:.2f} jobs/s, {ph.updates_per_s:.0f} updates/s, drained in {ph.drain_s:.1f} s, "
            f"{ph.errors} errors")
        return ph

    async def main(self) -> list[Phase]:
        from bananapics.bot.app import build_bot
        from bananapics.services import settings
        from bananapics.services.audit import Actor
        from bananapics.simtg import FakeTelegram, Limits, SimClient
        from bananapics.wiring import build_tasks

        args = self.args
        config = self.stack.config()
        operator = Actor.operator("bench-load")
        for key, value in (("limits.user_actions_per_min", 6000), ("limits.user_burst", 1000),
                           ("limits.user_parallel_jobs", 4), ("limits.model_concurrency", 1000)):
            settings.set_value(key, value, actor=operator)
        tg = FakeTelegram(limits=Limits(rate_limits=False), settle_timeout=120)
        client = SimClient(telegram=tg, raise_handler_errors=False, catch_up=False)
        bot = build_bot(config, client, tasks=build_tasks(config))
        bot.limiter.update(rate_per_min=6000, burst=1000)
        reactions = Reactions(client)
        self.count_sends(bot)
        await client.start(bot_token=tg.bot_token)
        await bot.start()
        main_task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)  # cleanup runs
        LoadUser = load_user_class()
        LoadUser.reactions = reactions
        people = [LoadUser(tg, f"L{i}", username=f"lu{i}", lang_code="en") for i in range(args.users)]
        sampler = Sampler(self.database, [])
        sampler.start()
        poller = asyncio.ensure_future(self.poll_inflight())
        phases: list[Phase] = []
        try:
            t = time.perf_counter()
            await self.register(people, bot)
            log(f"{len(people)} users registered in {time.perf_counter() - t:.1f} s")
            for k in (1, 2):
                phases.append(await self.phase(k, people, bot, reactions, sampler))
        finally:
            poller.cancel()
            sampler.stop_event.set()
            for w in self.workers:
                w.stop()
            await bot.stop(timeout=10)
            await client.disconnect()
        return phases


# ---------------------------------------------------------------- report


def by_app(peaks: dict) -> str:
    return ", ".join(f"{app.replace('bananapics-', '')}: {n}" for app, n in sorted(peaks.items()))


def report_table(phases: list[Phase], verify_breaches: int, args) -> list[str]:
    rows = [
        ("updates/s", lambda ph: f"{ph.updates_per_s:.1f}"),
        ("handler p50 / p99 ms", lambda ph: f"{ph.handler_p50_ms:.1f} / {ph.handler_p99_ms:.0f}"),
        ("reaction p50 / p99 ms", lambda ph: f"{ph.react_p50_ms:.1f} / {ph.react_p99_ms:.0f}"),
        ("flows done", lambda ph: f"{ph.flows}"),
        ("jobs/s (ideal K×threads/latency)", lambda ph: f"{ph.jobs_per_s:.2f} ({ph.jobs_ideal_per_s:.2f})"),
        ("jobs ordered / finished", lambda ph: f"{ph.jobs_ordered} / {ph.jobs_finished}"),
        ("delivery msg/s (limit)", lambda ph: f"{ph.delivery_msgs_per_s:.1f} ({ph.send_limit})"),
        ("all sends/s (limit)", lambda ph: f"{ph.sends_per_s:.1f} ({ph.send_limit})"),
        ("peak RSS MB bench", lambda ph: f"{next(iter(ph.rss_mb.values())):.0f}"),
        ("peak RSS MB workers", lambda ph: " / ".join(f"{v:.0f}" for k, v in ph.rss_mb.items() if k.startswith("worker"))),
        ("DB connections peak", lambda ph: f"{ph.db_peak} ({by_app(ph.db_peak_by_app)})"),
        ("errors", lambda ph: f"{ph.errors}"),
        ("outbox backlog at the end / drain s", lambda ph: f"{ph.outbox_backlog} / {ph.drain_s:.1f}"),
        ("CPU busy (machine)", lambda ph: f"{ph.busy_cpu:.0%}"),
    ]
    head = "| figure | " + " | ".join(f"K={ph.workers}" for ph in phases) + " |"
    lines = [head, "|---|" + "---|" * len(phases)]
    lines += ["| " + name + " | " + " | ".join(fn(ph) for ph in phases) + " |" for name, fn in rows]
    lines.append(f"| verify() | {'clean' if verify_breaches == 0 else f'{verify_breaches} breaches'} (after both) |"
                 + " |" * (len(phases) - 1))
    return lines


def main(argv: list[str] | None = None) -> int:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=90.0, help="length of each phase (K=1, K=2)")
    ap.add_argument("--threads", type=int, default=2, help="thread workers per worker process")
    ap.add_argument("--latency", type=float, default=1.5, help="the local provider's seconds per call")
    ap.add_argument("--inflight", type=int, default=0, help="most jobs queued or running (default 6 × threads)")
    ap.add_argument("--think", type=lambda v: tuple(float(x) for x in v.split(",")), default=None,
                    help="a user's pause between flows, seconds: MIN,MAX (default 60,120 × users/1000)")
    ap.add_argument("--bot-pool", type=int, default=16, help="the bot process's Postgres pool")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL)
    ap.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    ap.add_argument("--quick", action="store_true", help="100 users, 20 s phases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check-goals", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.users, args.seconds = min(args.users, 100), min(args.seconds, 20.0)
    if args.think is None:
        args.think = (60.0 * args.users / 1000, 120.0 * args.users / 1000)
    if args.json:
        OUT = sys.stderr
    random.seed(args.seed)
    import redis

    if args.redis_url.rstrip("/").rsplit("/", 1)[-1] in ("0", "6379"):
        print("refusing Redis database 0: give --redis-url a dedicated database number", file=sys.stderr)
        return 1
    queue = redis.Redis.from_url(args.redis_url)
    queue.flushdb()
    started = time.perf_counter()
    report: dict = {"notes": [], "problems": []}
    status = 0
    with tempfile.TemporaryDirectory(prefix="bananapics-load-") as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "media").mkdir()
        try:
            with Database(args.pg_url, args.bot_pool) as database:
                stack = Stack(tmp, database.url, args.redis_url, tmp / "media", latency_s=args.latency)
                log(f"database {database.name}, queue {args.redis_url}, {args.users} users, "
                    f"{args.threads} threads per worker, provider latency {args.latency:g} s")
                run = Run(args, stack, database)
                try:
                    phases = asyncio.run(run.main())
                finally:
                    for w in run.workers:
                        w.stop()
                from bananapics.services.verify import verify

                breaches = verify()
                for b in breaches:
                    report["problems"].append(f"verify: {b.check}: {b.detail}")
        except Exception as exc:  # noqa: BLE001
            log(f"FAILED: {type(exc).__name__}: {exc}")
            import traceback

            traceback.print_exc()
            return 1
        finally:
            with contextlib.suppress(Exception):
                queue.flushdb()
    ratio = phases[1].jobs_per_s / phases[0].jobs_per_s if len(phases) == 2 and phases[0].jobs_per_s else 0.0
    p(f"# Load run: {args.users} users, {args.seconds:g} s per phase, {args.threads} threads per worker, "
      f"provider latency {args.latency:g} s, in flight ≤ {run.inflight_cap} jobs, think {args.think[0]:g}-{args.think[1]:g} s")
    for line in report_table(phases, len(breaches), args):
        p(line)
    p(f"scale-out jobs/s(K=2) / jobs/s(K=1) = {ratio:.2f} (goal ≥ {GOAL_SCALE_OUT})")
    for ph in phases:
        if ph.error_kinds:
            p(f"errors K={ph.workers}: {ph.error_kinds}")
    if breaches or any(ph.errors for ph in phases):
        status = 2
    if ratio < GOAL_SCALE_OUT:
        report["notes"].append(f"scale-out {ratio:.2f} below the goal {GOAL_SCALE_OUT}")
        if args.check_goals and status == 0:
            status = 3
    report.update(wall_seconds=time.perf_counter() - started,
                  status={0: "ok", 2: "errors or verify breaches", 3: "goal missed"}.get(status, "failed"))
    print_footer(p, report)
    if args.json:
        print(json.dumps({"phases": [asdict(ph) for ph in phases], "scale_out": ratio,
                          "verify_breaches": len(breaches), "args": vars(args), "status": status}))
    return status


if __name__ == "__main__":
    sys.exit(main())
