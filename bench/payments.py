#!/usr/bin/env python
"""Payments benchmark: pre-checkout latency, payment-credit throughput and replay cost through the
bot's real handlers, each against a baseline measured in the same run.

Usage (from the repository top)::

    .venv/bin/python bench/payments.py [--pg-url URL] [--quick] [--precheckouts N] [--charges N]
                                       [--replays N] [--batch N] [--users N] [--sqlite] [--json]

The bot is ``build_bot`` on a ``SimClient`` over the in-process simulated Telegram (real Telethon
dispatch, TL serialisation both ways, no network), on a throwaway Postgres database next to
``--pg-url`` (dropped at the end, also after an error, Ctrl-C or SIGTERM), or a temp SQLite file with
``--sqlite``.

1. baseline: ``ledger.topup`` (one top-up transfer, its own transaction) N times, sequentially
   (their payment rows are added afterwards, untimed, so ``verify()`` holds); then
   ``payments.credit_charge`` (the whole credit transaction the handler runs) N times.
2. pre-checkout: N ``UpdateBotPrecheckoutQuery`` pushed one at a time; latency = push →
   ``SetBotPrecheckoutResultsRequest`` received by Telegram (stamped inside the simulator). Baseline:
   ``invoices.precheckout`` called directly (the database part alone). Telegram allows 10 s.
3. credit throughput: N distinct ``MessageActionPaymentSentMe`` (N users' invoices), pushed in
   batches of ``--batch`` that Telethon dispatches concurrently; charges/s from the first push to
   the last thank-you. Each must credit once and thank once.
4. replay: one paid charge's service message delivered again ``--replays`` times, one by one
   (``together`` after that: all at once in one container); nothing may change and nothing be sent.
5. ``verify()``: every ledger invariant; the payment count, balances and message count are checked.

Exit status: 0 ok, 1 error, 2 a payment was credited wrongly / a replay changed something / ``verify()``
breaches.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bananapics import db as dbm  # noqa: E402
from bananapics.bot.app import build_bot  # noqa: E402
from bananapics.bot.ratelimit import UserLimiter  # noqa: E402
from bananapics.config import load_config  # noqa: E402
from bananapics.models import Package, Payment, utcnow  # noqa: E402
from bananapics.models import db as proxy  # noqa: E402
from bananapics.services import invoices, ledger, payments, users  # noqa: E402
from bananapics.services.verify import verify  # noqa: E402
from bananapics.simtg import FakeTelegram, SimClient  # noqa: E402
from bananapics.simtg.server import InvoiceRecord, Limits  # noqa: E402
from bench.common import cpu_ticks, log, print_footer  # noqa: E402
from bench.ledger import DEFAULT_PG_URL, PgTarget, _percentiles, machine_facts  # noqa: E402

OUT = sys.stdout
TG_BASE = 8_000_000_000


class Run:
    """The bot on the simulated Telegram and the users who pay it."""

    def __init__(self, url: str, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.config = load_config(None, environ={
            "BANANAPICS_DATABASE__URL": url, "BANANAPICS_DATABASE__POOL_MAX": "48",
            "BANANAPICS_QUEUE__BACKEND": "immediate", "BANANAPICS_STORAGE__PATH": str(tmp / "media"),
            "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local"})
        self.answered: dict[int, float] = {}
        self.package = None

    async def start(self) -> None:
        self.tg = FakeTelegram(limits=Limits(rate_limits=False))
        original = self.tg._rq_SetBotPrecheckoutResultsRequest

        def stamped(sender, request):  # the moment Telegram receives the answer
            self.answered[request.query_id] = time.perf_counter()
            return original(sender, request)

        self.tg._rq_SetBotPrecheckoutResultsRequest = stamped
        self.client = SimClient(telegram=self.tg)
        self.bot = build_bot(self.config, self.client)
        self.bot.limiter = UserLimiter(rate_per_min=10**9, burst=10**9)
        await self.client.start(bot_token=self.tg.bot_token)
        self.package = await asyncio.to_thread(lambda: Package.get(Package.stars == 50))

    async def stop(self) -> None:
        await self.client.disconnect()

    def customers(self, n: int, start: int) -> list:
        """``n`` Telegram users known to the bot (registered, as after their /start)."""
        out = []
        for i in range(n):
            record = self.tg.add_user(f"U{start + i}", user_id=TG_BASE + start + i)
            self.tg.user_blocks(record, blocked=False)
            record.started = True
            user = users.register(record.id, first_name=record.first_name).user
            out.append((record, user))
        return out

    def invoice(self, record, user, payload: bytes | None = None) -> InvoiceRecord:
        intent = invoices.create_intent(user.id, self.package.id)
        inv = InvoiceRecord(msg_id=None, user_id=record.id, title="bench", description="bench", currency="XTR",
                            amount=intent.stars, payload=payload or intent.payload.encode(), start_param=None)
        self.tg.invoices.append(inv)
        return inv


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else 0.0


def baseline(run: Run, n: int) -> dict:
    people = run.customers(n, 0)
    t = time.perf_counter()
    for i, (_, user) in enumerate(people):
        ledger.topup(user.id, 100, f"bench-topup-{i}")
    topup_s = time.perf_counter() - t
    # untimed: the payment rows those bare top-ups lack, so verify() stays meaningful at the end
    Payment.insert_many([{"charge_id": f"bench-topup-{i}", "user": user.id, "stars": 50, "tokens": 100,
                          "created_at": utcnow()} for i, (_, user) in enumerate(people)]).execute()
    invs = [(record, user, run.invoice(record, user)) for record, user in people]
    t = time.perf_counter()
    for i, (record, _, inv) in enumerate(invs):
        payments.credit_charge(record.id, inv.payload, f"bench-credit-{i}", currency="XTR", amount=inv.amount)
    credit_s = time.perf_counter() - t
    # the pre-checkout query alone, on fresh intents
    fresh = [(record, run.invoice(record, user)) for record, user, _ in invs]
    samples = []
    for record, inv in fresh:
        t = time.perf_counter()
        verdict = invoices.precheckout(record.id, inv.payload, "XTR", inv.amount)
        samples.append(time.perf_counter() - t)
        assert verdict.ok, verdict
    return {"n": n, "topup_per_s": rate(n, topup_s), "credit_per_s": rate(n, credit_s),
            "precheckout_service_ms": _percentiles(samples), "fresh": fresh}


async def precheckout_latency(run: Run, fresh: list) -> dict:
    samples, refused = [], 0
    for record, inv in fresh:
        t = time.perf_counter()
        query = run.tg.user_precheckout(record, inv)
        await run.tg.settle()
        if not query.ok:
            refused += 1
        samples.append(run.answered[query.query_id] - t)
    return {"n": len(samples), "latency_ms": _percentiles(samples), "refused": refused,
            "mean_ms": round(statistics.fmean(samples) * 1000, 3) if samples else 0}


async def credit_throughput(run: Run, n: int, batch: int) -> dict:
    people = await asyncio.to_thread(run.customers, n, 1_000_000)
    invs = await asyncio.to_thread(lambda: [(r, run.invoice(r, u)) for r, u in people])
    sent_before = len(run.tg.requests)
    busy0, total0 = cpu_ticks()
    t = time.perf_counter()
    for start in range(0, n, batch):
        for record, inv in invs[start:start + batch]:
            _, msg = run.tg.user_payment_succeeds(record, inv)
            run.tg.deliver_service(record, msg)
        await run.tg.settle()
    seconds = time.perf_counter() - t
    busy1, total1 = cpu_ticks()
    thanked = sum(1 for r in run.tg.requests[sent_before:] if type(r.request).__name__ == "SendMessageRequest"
                  and r.error is None)
    charges = [c for r, inv in invs for c in inv.charge_ids]
    credited = await asyncio.to_thread(lambda: Payment.select().where(Payment.charge_id.in_(charges)).count())
    return {"n": n, "batch": batch, "seconds": round(seconds, 3), "charges_per_s": rate(n, seconds),
            "credited": credited, "thanked": thanked,
            "machine_busy": round((busy1 - busy0) / (total1 - total0), 3) if total1 > total0 else None}


async def replay_cost(run: Run, replays: int) -> dict:
    [(record, user)] = await asyncio.to_thread(run.customers, 1, 2_000_000)
    inv = await asyncio.to_thread(run.invoice, record, user)
    _, msg = run.tg.user_payment_succeeds(record, inv)
    t = time.perf_counter()
    run.tg.deliver_service(record, msg)
    await run.tg.settle()
    first = time.perf_counter() - t
    before = (await asyncio.to_thread(ledger.balance, user.id), len(run.tg.chat_messages(record.id)))
    samples = []
    for _ in range(replays):
        t = time.perf_counter()
        run.tg.deliver_service(record, msg)
        await run.tg.settle()
        samples.append(time.perf_counter() - t)
    t = time.perf_counter()
    run.tg.deliver_service(record, msg, times=replays, together=True)
    await run.tg.settle()
    together = time.perf_counter() - t
    after = (await asyncio.to_thread(ledger.balance, user.id), len(run.tg.chat_messages(record.id)))
    return {"replays": replays, "first_credit_ms": round(first * 1000, 3), "replay_ms": _percentiles(samples),
            "replay_mean_ms": round(statistics.fmean(samples) * 1000, 3),
            "together_total_ms": round(together * 1000, 3), "unchanged": before == after,
            "balance": after[0][0], "messages_in_chat": after[1]}


async def measure(run: Run, args) -> dict:
    await run.start()
    try:
        log(f"baseline: {args.baseline} ledger.topup, {args.baseline} payments.credit_charge")
        base = await asyncio.to_thread(baseline, run, args.baseline)
        fresh = base.pop("fresh")[: args.precheckouts]
        if len(fresh) < args.precheckouts:
            people = await asyncio.to_thread(run.customers, args.precheckouts - len(fresh), 3_000_000)
            fresh += await asyncio.to_thread(lambda: [(r, run.invoice(r, u)) for r, u in people])
        log(f"pre-checkout: {len(fresh)} queries through the handler")
        pre = await precheckout_latency(run, fresh)
        log(f"credit: {args.charges} distinct charges in batches of {args.batch}")
        credit = await credit_throughput(run, args.charges, args.batch)
        log(f"replay: one charge × {args.replays}")
        replay = await replay_cost(run, args.replays)
    finally:
        await run.stop()
    breaches = await asyncio.to_thread(verify)
    return {"baseline": base, "precheckout": pre, "credit": credit, "replay": replay,
            "breaches": [f"{b.check}: {b.detail}" for b in breaches]}


@contextlib.contextmanager
def database(args):
    tmp = Path(tempfile.mkdtemp(prefix="bananapics-bench-payments-"))
    pg, name, db = None, None, None
    try:
        if args.sqlite:
            url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            pg = PgTarget(args.pg_url)
            name = f"bananapics_bench_{os.getpid()}_payments"
            pg.create(name)
            url = pg.url_for(name)
        db = dbm.connect(load_config(None, environ={"BANANAPICS_DATABASE__URL": url,
                                                    "BANANAPICS_DATABASE__POOL_MAX": "48"}).database)
        dbm.upgrade(db)
        yield url, tmp
    finally:
        if db is not None:
            with contextlib.suppress(Exception):
                db.close_all() if hasattr(db, "close_all") else db.close()
        proxy.initialize(None)
        if pg is not None:
            try:
                pg.drop(name)
            except Exception as exc:  # noqa: BLE001
                log(f"WARNING: could not drop database {name}: {exc}")
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def check(report: dict, args) -> list[str]:
    problems = []
    c, r, p = report["credit"], report["replay"], report["precheckout"]
    if c["credited"] != c["n"]:
        problems.append(f"{c['credited']} of {c['n']} charges credited")
    if c["thanked"] != c["n"]:
        problems.append(f"{c['thanked']} thank-you messages for {c['n']} charges")
    if not r["unchanged"]:
        problems.append("a replayed payment changed the balance or sent a message")
    if p["refused"]:
        problems.append(f"{p['refused']} valid pre-checkouts refused")
    if report["breaches"]:
        problems.append(f"verify(): {len(report['breaches'])} breach(es): {report['breaches'][:3]}")
    return problems


def print_report(report: dict) -> None:
    p = lambda *a: print(*a, file=OUT)  # noqa: E731
    m, res = report["machine"], report["result"]
    b, pre, cr, rp = res["baseline"], res["precheckout"], res["credit"], res["replay"]
    p("")
    p("BananaPics payments benchmark")
    p("=" * 100)
    p(f"machine   nproc={m['nproc']}  cpu={m.get('cpu', '?')}  load(1m) at start={m['loadavg_at_start']:.2f}")
    p(f"database  {report['engine']}   bot: build_bot on SimClient over the in-process simulated Telegram")
    p("")
    p(f"baseline (same run, same database, sequential, {b['n']} calls each)")
    p(f"  ledger.topup                       {b['topup_per_s']:>9.0f} calls/s")
    p(f"  payments.credit_charge (service)   {b['credit_per_s']:>9.0f} calls/s")
    sv = b["precheckout_service_ms"]
    p(f"  invoices.precheckout (service)     p50 {sv['p50']:.2f} ms  p99 {sv['p99']:.2f} ms")
    p("")
    lat = pre["latency_ms"]
    p(f"pre-checkout through the handler ({pre['n']} queries, one at a time)")
    p(f"  push → answer received             p50 {lat['p50']:.2f} ms  p99 {lat['p99']:.2f} ms  max {lat['max']:.2f} ms"
      f"   (Telegram allows 10,000 ms)")
    p(f"  ratio handler p50 ÷ service p50    {lat['p50'] / sv['p50'] if sv['p50'] else 0:>9.1f}×")
    p("")
    p(f"payment credit through the handler ({cr['n']} distinct charges, batches of {cr['batch']} dispatched together)")
    p(f"  credit + thank-you                 {cr['charges_per_s']:>9.0f} charges/s  ({cr['seconds']:.2f} s,"
      f" CPUs busy {cr['machine_busy'] or 0:.0%})")
    p(f"  ratio ÷ ledger.topup calls/s       {cr['charges_per_s'] / b['topup_per_s']:>9.2f}")
    p(f"  ratio ÷ credit_charge calls/s      {cr['charges_per_s'] / b['credit_per_s']:>9.2f}")
    p(f"  credited {cr['credited']} / thanked {cr['thanked']}")
    p("")
    rl = rp["replay_ms"]
    p(f"replay: one charge's update again × {rp['replays']} (then × {rp['replays']} in one container)")
    p(f"  first credit (handler)             {rp['first_credit_ms']:>9.2f} ms")
    p(f"  each replay                        p50 {rl['p50']:.2f} ms  p99 {rl['p99']:.2f} ms"
      f"   ratio p50 ÷ first credit {rl['p50'] / rp['first_credit_ms'] if rp['first_credit_ms'] else 0:.2f}")
    p(f"  {rp['replays']} together                        {rp['together_total_ms']:>9.2f} ms total")
    p(f"  nothing changed, nothing sent      {'yes' if rp['unchanged'] else 'NO'}")
    p("")
    p(f"verify(): {len(res['breaches'])} breach(es)")
    print_footer(p, report)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pg-url", default=os.environ.get("BANANAPICS_BENCH_PG", DEFAULT_PG_URL),
                    help=f"Postgres admin URL; a throwaway database is created next to it (default {DEFAULT_PG_URL})")
    ap.add_argument("--sqlite", action="store_true", help="run on a temp SQLite file instead of Postgres")
    ap.add_argument("--quick", action="store_true", help="small counts (about 15 s): a smoke run")
    ap.add_argument("--baseline", type=int, default=None, help="calls per baseline (default 1000; quick 100)")
    ap.add_argument("--precheckouts", type=int, default=None, help="pre-checkout queries (default 1000; quick 100)")
    ap.add_argument("--charges", type=int, default=None, help="distinct charges credited (default 2000; quick 200)")
    ap.add_argument("--batch", type=int, default=50, help="payment updates pushed together (default 50)")
    ap.add_argument("--replays", type=int, default=100, help="replays of one charge (default 100)")
    ap.add_argument("--json", action="store_true", help="JSON object on stdout (the table goes to stderr)")
    args = ap.parse_args(argv)
    small = args.quick
    args.baseline = args.baseline or (100 if small else 1000)
    args.precheckouts = args.precheckouts or (100 if small else 1000)
    args.charges = args.charges or (200 if small else 2000)
    if min(args.baseline, args.precheckouts, args.charges, args.batch, args.replays) < 1:
        ap.error("counts must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    global OUT
    args = parse_args(argv)
    if args.json:
        OUT = sys.stderr
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(SystemExit(128 + signum)))
    started = time.perf_counter()
    report: dict = {"machine": machine_facts(), "engine": "sqlite" if args.sqlite else "postgres",
                    "args": {k: v for k, v in vars(args).items() if k != "pg_url"}, "problems": [], "notes": []}
    code = 0
    try:
        with database(args) as (url, tmp):
            run = Run(url, args, tmp)
            report["result"] = asyncio.run(measure(run, args))
        report["problems"] = check(report["result"], args)
        code = 2 if report["problems"] else 0
    except Exception as exc:  # noqa: BLE001
        log(traceback.format_exc())
        report["problems"].append(f"failed: {exc}")
        code = 1
    report["notes"].append("handler figures include the simulated Telegram (TL serialisation, dispatch) in "
                           "this process; a real bot pays network round trips instead")
    report["status"] = {0: "ok", 1: "error", 2: "payments or invariants broken"}[code]
    report["exit_code"] = code
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    if "result" in report:
        print_report(report)
    else:
        print_footer(lambda *a: print(*a, file=OUT), report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main())
