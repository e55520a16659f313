"""Infrastructure going away mid-run, with the bot (simulated Telegram) and two worker processes
working: Redis restarted (a private redis-server: every queued message is lost with it), every
Postgres backend of the test database terminated, and the database unreachable for 10 s (a TCP
proxy between every process and Postgres is cut, then restored). Nobody restarts anything: the bot,
the workers and the delivery loop recover by themselves; nothing paid is lost or charged twice;
every user's press gets an answer (the generation's progress, or "Something went wrong, try again")
and every submitted job ends delivered or refunded once."""

from __future__ import annotations

import asyncio

from bananapics.models import Job
from bananapics.simtg import FakeTelegram, Limits, SimUser
from tests.chaos.checks import all_finished, assert_each_job_once, assert_told_once, progress
from tests.chaos.procs import PrivateRedis, Sweeper, await_until, fast_users, running_bot
from tests.helpers import to_confirm

MODEL, PRICE = "SeeDream 4", 10
SORRY = "😕 Something went wrong. Please try again in a minute."
USERS = 12


async def order(person: SimUser) -> str:
    """Walk the wizard and press Generate; returns what the user was told: "started" (the progress
    panel), "sorry" (try again), never nothing. A step that failed is retried once the user was told."""
    failed = None
    for _ in range(40):
        before = len(person.history)
        try:
            await to_confirm(person, MODEL, f"a harbour at night, {person.id}")
            if not any("Generate" in b for b in person.buttons()):
                raise RuntimeError("not on the confirm screen")
            answer = await person.press(f"Generate — {PRICE}")
        except Exception as exc:  # noqa: BLE001 - a step met the outage; the user saw why below (or the test fails)
            answer, failed = None, exc
        told = person.history[before:]
        if answer is not None and answer.answered and "Request accepted" in (person.panel.text or ""):
            return "started"
        assert told or (answer is not None and answer.alert), f"{person.id} was told nothing"
        await asyncio.sleep(0.5)  # as a user would: read the apology, try again
    raise AssertionError(f"{person.id} never got a generation started: {failed!r}; {person.texts[-3:]}")


async def run_scenario(stack, tg, fault, *, raise_handler_errors=False) -> list[SimUser]:
    async with running_bot(stack, tg, raise_handler_errors=raise_handler_errors) as bot:
        sweeper = Sweeper(stack.config(), bot.tasks, every_s=1.0).start()
        people = [SimUser(tg, f"I{i}", lang_code="en") for i in range(USERS)]
        for person in people:
            await person.start()
        first = asyncio.gather(*(order(p) for p in people[: USERS // 2]))
        await asyncio.sleep(0.3)
        await fault()
        await first
        await asyncio.gather(*(order(p) for p in people[USERS // 2:]))
        await await_until(lambda: all_finished(Job.select().count()), 90, "every job finished and delivered",
                          describe=progress)
        await sweeper.stop()
        return people


def apologies(people) -> int:
    """How many times users were told "something went wrong, try again" (message or alert)."""
    said = sum(t.startswith(SORRY) for p in people for t in p.texts)
    return said + sum(SORRY in (a.message or "") for p in people for a in p.callback_answers)


def finish(people, workers_) -> None:
    found = assert_each_job_once(Job.select().count())
    assert {j.status for j in found.values()} == {"succeeded"}
    assert {j.user.tg_id for j in found.values()} == {p.id for p in people}  # everyone got theirs
    assert_told_once(people, found)
    assert all(w.alive() for w in workers_)  # nobody restarted them


def test_redis_restarted_mid_run(make_stack, workers, tmp_path):
    redis = PrivateRedis(tmp_path).start()
    try:
        stack = make_stack(redis.url, latency_s=0.5)
        fast_users()
        pool = workers(stack, 2, threads=2)
        tg = FakeTelegram(limits=Limits(rate_limits=False))

        async def fault():
            await asyncio.to_thread(redis.restart, 2.0)

        people = asyncio.run(run_scenario(stack, tg, fault))
        finish(people, pool)
    finally:
        redis.stop()


def test_every_postgres_backend_terminated_mid_run(make_stack, queue_url, workers, postgres_server):
    stack = make_stack(queue_url, latency_s=0.5)
    fast_users()
    pool = workers(stack, 2, threads=2)
    tg = FakeTelegram(limits=Limits(rate_limits=False))

    def terminate() -> int:
        from bananapics import db as dbm
        from bananapics.config import DatabaseConfig

        admin = dbm.make_database(DatabaseConfig(url=postgres_server.url.rsplit("/", 1)[0] + "/postgres", pool_max=1))
        try:
            rows = admin.execute_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                     " WHERE datname = %s AND pid <> pg_backend_pid()", (postgres_server.name,))
            return len(rows.fetchall())
        finally:
            admin.close_all()

    killed = []

    async def fault():
        for _ in range(3):
            killed.append(await asyncio.to_thread(terminate))
            await asyncio.sleep(0.7)

    people = asyncio.run(run_scenario(stack, tg, fault))
    assert sum(killed) >= 6, killed
    finish(people, pool)


def test_database_down_for_10_seconds(make_stack, queue_url, workers):
    stack = make_stack(queue_url, via_proxy=True, latency_s=0.5)
    fast_users()
    pool = workers(stack, 2, threads=2)
    tg = FakeTelegram(limits=Limits(rate_limits=False))

    async def fault():
        proxy = stack.proxy
        proxy.cut()
        await asyncio.sleep(10)
        proxy.restore()

    people = asyncio.run(run_scenario(stack, tg, fault))
    print("apologies", apologies(people))
    assert apologies(people) >= 1  # users pressing while it was down were told to try again
    finish(people, pool)

