"""Telegram misbehaving around the multi-process deployment (bot on the simulated Telegram, a real
worker process): double-tapped and concurrent duplicate presses, a FloodWait storm on every kind of
send, users who blocked the bot before their result came, file references Telegram no longer
accepts, and a burst of updates caught up after the bot was down. Every paid job still ends once,
every user who can be reached is told once, nobody is answered twice."""

from __future__ import annotations

import asyncio

from telethon import functions

from bananapics.models import User
from bananapics.simtg import FakeTelegram, Limits, SimUser
from tests.chaos.checks import all_finished, assert_each_job_once, assert_told_once, progress
from tests.chaos.procs import Sweeper, await_until, fast_users, running_bot
from tests.helpers import to_confirm

MODEL, PRICE = "SeeDream 4", 10


def test_duplicates_flood_waits_blocked_users_and_expired_references(make_stack, queue_url, workers):
    stack = make_stack(queue_url, latency_s=0.3)
    fast_users()
    workers(stack, 1, threads=4)
    tg = FakeTelegram(limits=Limits(rate_limits=False))

    async def body():
        async with running_bot(stack, tg) as bot:
            sweeper = Sweeper(stack.config(), bot.tasks).start()
            people = [SimUser(tg, f"T{i}", lang_code="en") for i in range(24)]
            for person in people:
                await person.start()
                await to_confirm(person, MODEL, f"a kite over the sea, {person.id}")
            blocked = people[:4]
            for person in blocked:  # they order, and block the bot before the result comes
                await person.press(f"Generate — {PRICE}")
                await person.block_bot()
            # Storms while the results go out: FloodWaits on each kind of send, references refused.
            faults = [tg.inject(functions.messages.SendMediaRequest, "FLOOD_WAIT_1", times=6),
                      tg.inject(functions.messages.SendMessageRequest, "FLOOD_WAIT_2", times=6),
                      tg.inject(functions.messages.UploadMediaRequest, "FLOOD_WAIT_1", times=3),
                      tg.inject(functions.messages.SendMediaRequest, "FILE_REFERENCE_EXPIRED", times=4, skip=8)]
            # Every other user's Generate arrives twice at once (a double tap, an update delivered twice).
            presses = []
            for person in people[4:]:
                confirm = person.panel
                data = confirm.button(next(b for b in confirm.buttons if "Generate" in b)).data
                presses += [person.press_data(data, message=confirm), person.press_data(data, message=confirm)]
            await asyncio.gather(*presses)
            await await_until(lambda: all_finished(len(people)), 90, "every job finished", describe=progress)
            await sweeper.stop()
            assert [f.times for f in faults] == [0, 0, 0, 0]  # every storm hit
            return people

    people = asyncio.run(body())
    blocked = {User.get(User.tg_id == p.id).id for p in people[:4]}
    found = assert_each_job_once(len(people), blocked=blocked)  # one job per user: the duplicates changed nothing
    assert_told_once(people[4:], found)
    assert all(User.get_by_id(b).blocked_bot for b in blocked)
    for person in people[:4]:
        assert not any(m.media_kind == "photo" for m in person.messages)  # nothing sent into a blocked chat


def test_a_burst_of_updates_is_caught_up_after_a_bot_restart(make_stack, queue_url, workers, tmp_path):
    stack = make_stack(queue_url, latency_s=0.1)
    fast_users()
    workers(stack, 1, threads=4)
    tg = FakeTelegram(limits=Limits(rate_limits=False))
    session = str(tmp_path / "bot.session")
    people = [SimUser(tg, f"C{i}", lang_code="en") for i in range(30)]

    async def first():
        async with running_bot(stack, tg, session=session):
            for person in people:
                await person.start()
                await to_confirm(person, MODEL, f"a comet, {person.id}")

    async def offline():  # the bot is down: Telegram keeps what users send meanwhile
        for person in people:
            await person.send("/balance")
            await person.press(f"Generate — {PRICE}")  # a press is lost while offline (as in Telegram)

    async def second():
        async with running_bot(stack, tg, session=session):
            await await_until(lambda: all(p.panel and p.panel.text.startswith("💰 Balance") for p in people), 30,
                              "every /balance sent while the bot was down answered")
            for person in people:  # the press was lost with the bot: pressing again works
                await to_confirm(person, MODEL, f"a comet again, {person.id}")
                await person.press(f"Generate — {PRICE}")
            await await_until(lambda: all_finished(len(people)), 60, "every job finished", describe=progress)

    asyncio.run(first())
    asyncio.run(offline())
    asyncio.run(second())
    found = assert_each_job_once(len(people))
    assert_told_once(people, found)
    for person in people:
        assert sum(t.startswith("💰 Balance") for t in person.texts) == 1  # answered once, not twice
