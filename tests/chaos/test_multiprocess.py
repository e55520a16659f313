"""The deployment across processes: the bot (simulated Telegram, in this process) and two separate
``bananapics worker`` processes sharing Postgres, Redis and S3 (moto). 50 users order 200 paid
generations through the wizard; the workers share them (both do work), each job is claimed and
run once, delivered once, and the ledger verifies clean."""

from __future__ import annotations

import asyncio
from collections import Counter

from bananapics.models import Job
from bananapics.simtg import FakeTelegram, Limits, SimUser
from tests.chaos.checks import all_finished, assert_each_job_once, assert_told_once, progress
from tests.chaos.procs import Sweeper, await_until, fast_users, running_bot
from tests.helpers import to_confirm

USERS = 50
JOBS_EACH = 4
MODEL, PRICE = "SeeDream 4", 10


async def order(person: SimUser, prompt: str) -> None:
    """One paid generation through the wizard: /generate, model, prompt, Skip, Next, Generate."""
    await to_confirm(person, MODEL, prompt)
    answer = await person.press(f"Generate — {PRICE}")
    assert answer.answered, person.panel.text


async def order_rounds(people: list[SimUser], rounds: int, at_once: int = 10) -> None:
    """Every user orders ``rounds`` times; ``at_once`` users act concurrently."""
    for r in range(rounds):
        for i in range(0, len(people), at_once):
            await asyncio.gather(*(order(p, f"a lighthouse, take {r} of user {p.id}") for p in people[i:i + at_once]))


def worker_pids() -> Counter:
    """Jobs by the worker process that ran them (``Job.worker`` is host:pid:thread)."""
    return Counter(int(j.worker.split(":")[1]) for j in Job.select(Job.worker) if j.worker)


def test_two_worker_processes_share_200_paid_jobs_each_delivered_once(make_stack, queue_url, workers):
    stack = make_stack(queue_url, latency_s=0.1)
    fast_users()
    w1, w2 = workers(stack, 2, threads=4)
    tg = FakeTelegram(limits=Limits(rate_limits=False))

    async def body():
        async with running_bot(stack, tg) as bot:
            sweeper = Sweeper(stack.config(), bot.tasks, every_s=2.0).start()
            people = [SimUser(tg, f"U{i}", lang_code="en") for i in range(USERS)]
            for person in people:
                await person.start()
            await order_rounds(people, JOBS_EACH)
            total = USERS * JOBS_EACH
            await await_until(lambda: all_finished(total), 120, "every job finished and delivered", describe=progress)
            await sweeper.stop()
            return people

    people = asyncio.run(body())
    jobs = assert_each_job_once(USERS * JOBS_EACH)
    assert Counter(j.status for j in jobs.values()) == {"succeeded": USERS * JOBS_EACH}
    assert all(j.attempts == 1 for j in jobs.values())  # claimed once: the provider ran once per job
    by_worker = worker_pids()
    assert set(by_worker) == {w1.proc.pid, w2.proc.pid}, by_worker  # both worker processes did work
    assert min(by_worker.values()) >= USERS * JOBS_EACH // 10, by_worker
    assert_told_once(people, jobs)
    assert not w1.tracebacks() and not w2.tracebacks()
