"""SIGKILL a worker process at random moments across 200 paid jobs and start it again: a job it had
claimed stays "running" until its lease runs out, then the sweeper hands it to a worker again (Huey
lost the message with the process); whatever point the kill hit (before the provider call, after it,
between storing the image and finishing), every job ends delivered or refunded exactly once."""

from __future__ import annotations

import asyncio
import random
import time

from bananapics.models import Job
from bananapics.services import generation, jobs, users
from bananapics.simtg import FakeTelegram, Limits, SimUser
from tests.chaos.checks import all_finished, assert_each_job_once, assert_told_once, progress
from tests.chaos.procs import Sweeper, await_until, fast_users, running_bot

USERS, JOBS_EACH = 50, 4
MODEL = "seedream-4"


def submit_all(tasks, people) -> list[str]:
    """Each user's generations, as the wizard's Generate submits them (hold + job, enqueued after commit)."""
    ids = []
    for r in range(JOBS_EACH):
        for person in people:
            user = users.get(person.id)
            job = generation.submitted(tasks, jobs.submit, user.id, MODEL, f"a storm, take {r}", chat_id=person.id)
            ids.append(job.id)
    return ids


def test_sigkill_workers_at_random_points_every_job_ends_once(make_stack, queue_url, workers):
    stack = make_stack(queue_url, latency_s=0.3)
    fast_users()
    pool: list = []
    tg = FakeTelegram(limits=Limits(rate_limits=False))
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    kills: list[tuple[str, float]] = []

    async def body():
        async with running_bot(stack, tg) as bot:
            sweeper = Sweeper(stack.config(), bot.tasks, every_s=1.0).start()
            people = [SimUser(tg, f"K{i}", lang_code="en") for i in range(USERS)]
            for person in people:
                await person.start()
            await asyncio.to_thread(submit_all, bot.tasks, people)  # all queued before a worker runs
            pool.extend(await asyncio.to_thread(workers, stack, 2, 3))
            started = time.monotonic()
            # Kill while there is work left: a random worker at a random moment, started again at once.
            while len(kills) < 8 and await asyncio.to_thread(
                    lambda: Job.select().where(Job.status.in_(("queued", "running"))).count() > 10):
                await asyncio.sleep(rng.uniform(0.2, 1.5))
                victim = rng.choice(pool)
                victim.kill()
                kills.append((victim.name, round(time.monotonic() - started, 2)))
                victim.start()
                await asyncio.to_thread(victim.wait_ready)
            await await_until(lambda: all_finished(USERS * JOBS_EACH), 150, "every job finished and delivered",
                              describe=progress)
            await sweeper.stop()
            return people, sweeper

    people, sweeper = asyncio.run(body())
    assert len(kills) >= 3, (seed, kills)
    found = assert_each_job_once(USERS * JOBS_EACH)
    taken_over = [j for j in found.values() if j.attempts > 1]
    assert taken_over or sweeper.requeued, f"seed {seed}: no kill hit a job ({kills})"
    assert_told_once(people, found)
