#!/usr/bin/env python
"""Delivery under a real network: the delivery loop against the simulated Telegram with a round-trip
time, an upload bandwidth and Telegram's rate limits on (real clock), on Postgres.

Usage (from the repository top)::

    .venv/bin/python bench/delivery.py [--jobs 1000] [--broadcast 10000] [--slow-jobs 200]
                                       [--rtt 0.15] [--upload-mb 10] [--image-kb 400] [--quick] [--pg-url URL]

Parts (each figure beside its baseline):

1. results: ``--jobs`` finished jobs of 2 images, one chat each (photo album, file album, closing
   text: 5 messages and 3 send requests a row; 4 uploads). Delivered messages/s as a ratio of the
   send limit, and FloodWaits. Baseline: the loop as it was (``deliver_once`` in a loop: each batch
   of 50 waits for its slowest chat before the next is claimed), on ``--baseline-jobs`` jobs.
2. slow chat: ``--slow-jobs`` jobs, then the same with one chat whose requests take 3 s more: the
   other chats' latency (outbox row created → marked sent) p50/p99 without and with it, for the
   pool and for the barrier loop.
3. broadcast: ``--broadcast`` plain messages to as many chats through the outbox (as a broadcast
   queues them). Messages/s ÷ limit and FloodWaits; baseline the barrier loop on 1/10 of them.

Images are noise JPEGs of about ``--image-kb`` so uploads cost what a real picture costs. After each
part, and at the end for the whole run, every chat must hold its row's messages exactly once.
Exit status: 0 ok (missed goals are NOTEs), 1 setup failure or a wrong result (a row not sent, a chat
with a message missing or twice), 3 a goal missed with ``--check-goals``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from telethon import functions  # noqa: E402

from bananapics.bot.app import build_bot  # noqa: E402
from bananapics.bot.delivery import deliver_once, run_forever  # noqa: E402
from bananapics.models import Outbox  # noqa: E402
from bananapics.services import jobs, outbox, users  # noqa: E402
from bananapics.simtg import FakeTelegram, Limits, Network, SimClient  # noqa: E402
from bananapics.wiring import build_runtime  # noqa: E402
from bananapics.worker import run_job  # noqa: E402
from bench.bot import DEFAULT_PG_URL, TELEGRAM_LIMIT, Database, bench_config, pct  # noqa: E402
from bench.common import cpu_ticks, log, print_footer  # noqa: E402

GOAL_RATIO = 0.9
UPLOAD = functions.messages.UploadMediaRequest
OUT = sys.stdout


def p(line: str = "") -> None:
    print(line, file=OUT, flush=True)


def noise_jpeg(kb: int, seed: int) -> bytes:
    from PIL import Image

    side = 256
    while True:  # grow until the JPEG is about the size asked
        rnd = random.Random(seed)
        img = Image.frombytes("RGB", (side, side), bytes(rnd.getrandbits(8) for _ in range(side * side * 3)))
        out = io.BytesIO()
        img.save(out, "JPEG", quality=85)
        if out.tell() >= kb * 1024 or side >= 2048:
            return out.getvalue()
        side = int(side * 1.3)


class Setup:
    """A bot on a simulated Telegram behind the network, with chats that may receive messages."""

    def __init__(self, config, args, *, slow: bool = False):
        self.config, self.args, self.slow = config, args, slow
        self.counted = 0  # outbox ids up to this one belong to parts already measured

    async def __aenter__(self) -> "Setup":
        self.tg = FakeTelegram(limits=Limits(rate_limits=False), settle_timeout=120)
        self.client = SimClient(telegram=self.tg)
        self.bot = build_bot(self.config, self.client)
        await self.client.start(bot_token=self.tg.bot_token)
        await self.bot.start(delivery_loop=False)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.disconnect()

    def chats(self, n: int) -> list[int]:
        """``n`` Telegram users who wrote to the bot (registered as the bot would on their /start)."""
        ids = []
        for k in range(n):
            rec = self.tg.add_user(f"Chat{k}")
            rec.started = True
            users.register(rec.id, first_name=rec.first_name, language_code="en", start_balance=100, welcomed=True)
            ids.append(rec.id)
        return ids

    def jobs(self, chat_ids: list[int], images: list[bytes]) -> None:
        runtime = build_runtime(self.config)
        for n, chat_id in enumerate(chat_ids):
            user = users.get(chat_id)
            job = jobs.submit(user.id, "nano-banana", f"bench picture {n}", {"count": 2}, chat_id=chat_id,
                              job_id=uuid.uuid4().hex)
            run_job(job.id, runtime)
            for k, key in enumerate(jobs.get(job.id).results):  # a real picture's weight
                self.bot.storage.put(key, images[(n + k) % len(images)], "image/jpeg")

    def notices(self, chat_ids: list[int]) -> None:
        for chat_id in chat_ids:
            outbox.enqueue(user_id=users.get(chat_id).id, chat_id=chat_id, kind="notice",
                           payload={"text": "📣 Bananas are 20% off this weekend!"}, dedupe_key=f"bench:{uuid.uuid4().hex}")

    async def deliver(self, *, barrier: bool, slow_chat: int | None = None) -> dict:
        """Run the loop (or the barrier loop) until the outbox is empty; messages/s, floods, latencies."""
        tg, args = self.tg, self.args
        tg.network = Network(rtt=args.rtt, upload_bytes_per_s=args.upload_mb * 1e6)
        if slow_chat is not None:
            tg.network.slow_chat(slow_chat, 3.0)
        tg.limits.rate_limits = True
        await asyncio.sleep(1.1)
        before_msgs = len(tg._msg_index)
        before_floods = len(tg.flood_waits)
        uploads0 = len(tg.requests_of(UPLOAD))
        started = time.perf_counter()
        if barrier:
            while await asyncio.to_thread(outbox.pending_count):
                await deliver_once(self.client, self.bot.storage, self.bot.sender, batch=50)
                await asyncio.sleep(0.02)
        else:
            stop = asyncio.Event()
            task = asyncio.create_task(run_forever(self.client, self.bot.storage, self.bot.sender, interval=0.02,
                                                   stop=stop))
            while await asyncio.to_thread(outbox.pending_count):
                await asyncio.sleep(0.05)
            stop.set()
            await task
        seconds = time.perf_counter() - started
        messages = len(tg._msg_index) - before_msgs
        rows = list(Outbox.select(Outbox.id, Outbox.chat_id, Outbox.kind, Outbox.created_at, Outbox.sent_at,
                                  Outbox.status).where(Outbox.id > self.counted))
        if any(r.status != "sent" for r in rows):
            raise RuntimeError(f"{sum(r.status != 'sent' for r in rows)} rows not sent")
        # each chat of this part is new: it holds its row's messages, each once (a result: 5, a notice: 1)
        wrong = [(r.chat_id, len(tg.chat_messages(r.chat_id))) for r in rows
                 if len(tg.chat_messages(r.chat_id)) != (5 if r.kind == "job_result" else 1)]
        if wrong:
            raise RuntimeError(f"{len(wrong)} chats got a wrong number of messages, e.g. {wrong[:3]} "
                               f"({messages} messages for {len(rows)} rows)")
        latencies = [(r.sent_at - r.created_at).total_seconds() for r in rows if r.chat_id != slow_chat]
        uploads = len(tg.requests_of(UPLOAD)) - uploads0
        self.counted = max([self.counted, *(r.id for r in rows)])  # the next part counts afresh
        tg.limits.rate_limits = False
        tg.network = None
        return {"messages": messages, "seconds": seconds, "per_s": messages / seconds,
                "floods": len(tg.flood_waits) - before_floods, "p50": pct(latencies, 0.5),
                "p99": pct(latencies, 0.99), "uploads": uploads, "rows": len(rows)}


def exactly_once(tg) -> str:
    """Every chat of the run has one outbox row: it holds that row's messages, each once (a result's
    5, a notice's 1) — at the end of the run too, after the later parts. '' when so."""
    rows = list(Outbox.select(Outbox.chat_id, Outbox.kind))
    expected = {r.chat_id: 5 if r.kind == "job_result" else 1 for r in rows}
    got = {chat: len(tg.chat_messages(chat)) for chat in expected}
    wrong = [(chat, got[chat], n) for chat, n in expected.items() if got[chat] != n]
    extra = len(tg._msg_index) - sum(got.values())  # messages outside the rows' chats
    if not wrong and not extra:
        return ""
    return (f"exactly once: {len(wrong)} chats with a wrong count (chat, got, expected) e.g. {wrong[:3]}, "
            f"{extra} messages outside the rows' chats")


def requeue_created_now() -> None:
    """Latency counts from the moment delivery starts (the setup took its time queueing the rows)."""
    from bananapics.models import utcnow

    Outbox.update(created_at=utcnow()).where(Outbox.status == "pending").execute()


async def run(config, args, report: dict) -> None:
    images = [noise_jpeg(args.image_kb, seed) for seed in range(4)]
    report["image_kb"] = sum(map(len, images)) / len(images) / 1024
    limit = config.telegram.send_per_second
    async with Setup(config, args) as s:
        def results_line(name: str, d: dict, base: dict | None) -> None:
            line = (f"{name:30} {d['rows']:6} {d['messages']:6} {d['per_s']:6.1f} {d['per_s'] / TELEGRAM_LIMIT:5.2f} "
                    f"{d['per_s'] / limit:5.2f} {d['floods']:6}")
            if base:
                line += f" │ barrier {base['per_s']:5.1f} msg/s ({base['per_s'] / limit:4.2f}), {base['floods']} floods"
            p(line)
            report["parts"][name] = {"new": d, "barrier": base}

        p(f"Network: RTT {args.rtt * 1000:.0f} ms, uploads {args.upload_mb:g} MB/s per request, "
          f"images ~{report['image_kb']:.0f} KB; Telegram limit {TELEGRAM_LIMIT} msg/s, bot's send limit {limit}/s")
        p(f"{'part':30} {'rows':>6} {'msgs':>6} {'msg/s':>6} {'÷30':>5} {'÷lim':>5} {'floods':>6} │ baseline")

        log(f"results: {args.jobs} jobs")
        await asyncio.to_thread(s.jobs, await asyncio.to_thread(s.chats, args.jobs), images)
        new = await s.deliver(barrier=False)
        base = None
        if args.baseline_jobs:
            log(f"results, barrier baseline: {args.baseline_jobs} jobs")
            await asyncio.to_thread(s.jobs, await asyncio.to_thread(s.chats, args.baseline_jobs), images)
            base = await s.deliver(barrier=True)
        results_line(f"results ({args.jobs} jobs × 2 images)", new, base)
        if new["uploads"] != 4 * args.jobs:
            report["problems"].append(f"results: {new['uploads']} uploads for {args.jobs} jobs (4 each expected)")

        lat = {}
        for name, barrier, slow in (("pool", False, False), ("pool + slow chat", False, True),
                                    ("barrier", True, False), ("barrier + slow chat", True, True)):
            log(f"slow chat: {name}, {args.slow_jobs} jobs")
            chats = await asyncio.to_thread(s.chats, args.slow_jobs)
            await asyncio.to_thread(s.jobs, chats, images)
            await asyncio.to_thread(requeue_created_now)
            lat[name] = await s.deliver(barrier=barrier, slow_chat=chats[len(chats) // 10] if slow else None)
        report["parts"]["slow"] = lat

        log(f"broadcast: {args.broadcast} messages")
        await asyncio.to_thread(s.notices, await asyncio.to_thread(s.chats, args.broadcast))
        new = await s.deliver(barrier=False)
        base = None
        if args.broadcast >= 10:
            log(f"broadcast, barrier baseline: {args.broadcast // 10} messages")
            await asyncio.to_thread(s.notices, await asyncio.to_thread(s.chats, args.broadcast // 10))
            base = await s.deliver(barrier=True)
        results_line(f"broadcast ({args.broadcast} messages)", new, base)
        await asyncio.sleep(1.0)  # anything still on its way lands
        census = await asyncio.to_thread(exactly_once, s.tg)
        if census:
            report["problems"].append(census)

    p()
    p(f"Slow chat ({args.slow_jobs} jobs; one chat's requests take 3 s more): the other chats' latency, "
      "delivery start → row sent")
    p(f"{'loop':22} {'p50 s':>7} {'p99 s':>7} {'msg/s':>6} {'floods':>6}")
    for name, d in lat.items():
        p(f"{name:22} {d['p50']:7.2f} {d['p99']:7.2f} {d['per_s']:6.1f} {d['floods']:6}")
    for name, part in report["parts"].items():
        if name == "slow":
            continue
        d = part["new"]
        if d["per_s"] / limit < GOAL_RATIO or d["floods"]:
            report["notes"].append(f"{name}: {d['per_s']:.1f} msg/s ({d['per_s'] / limit:.2f} of the send limit), "
                                   f"{d['floods']} FloodWaits (goal ≥ {GOAL_RATIO}, 0)")
    grow = lat["pool + slow chat"]["p99"] - lat["pool"]["p99"]
    if grow > 1.0:
        report["notes"].append(f"a slow chat added {grow:.1f} s to the others' p99 latency (goal: none)")


def main() -> int:
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--baseline-jobs", type=int, default=200)
    parser.add_argument("--slow-jobs", type=int, default=200)
    parser.add_argument("--broadcast", type=int, default=10_000)
    parser.add_argument("--rtt", type=float, default=0.15)
    parser.add_argument("--upload-mb", type=float, default=10.0)
    parser.add_argument("--image-kb", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="100 jobs, 50 baseline, 60 slow-chat jobs, 500 messages")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--check-goals", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.baseline_jobs, args.slow_jobs, args.broadcast = 100, 50, 60, 500
    import logging

    logging.basicConfig(level=logging.WARNING)
    report: dict = {"parts": {}, "notes": [], "problems": []}
    wall = time.perf_counter()
    busy0 = cpu_ticks()
    with tempfile.TemporaryDirectory(prefix="bananapics-bench-delivery-") as tmp:
        try:
            with Database("postgres", args.pg_url, Path(tmp)) as database:
                config = bench_config(database.url, Path(tmp) / "media")
                asyncio.run(run(config, args, report))
        except Exception as exc:  # noqa: BLE001 - one line, then the exit status says it
            report["problems"].append(f"{type(exc).__name__}: {exc}")
    b1, t1 = cpu_ticks()
    busy = (b1 - busy0[0]) / max(1, t1 - busy0[1])
    if busy > 0.6:
        report["notes"].append(f"the machine's CPUs were {busy:.0%} busy during the run (other work shares the cores)")
    report["wall_seconds"] = time.perf_counter() - wall
    report["status"] = "problems" if report["problems"] else "ok"
    p()
    print_footer(p, report)
    if report["problems"]:
        return 1
    return 3 if args.check_goals and any("goal" in n for n in report["notes"]) else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
