"""The delivery loop over a simulated network (round-trip time, upload bandwidth, a slow chat) with
Telegram's rate limits on and the real clock: a slow chat never holds back the others, each chat's
rows arrive in order, a FloodWait is honoured, and a crash mid-delivery loses and doubles nothing."""

from __future__ import annotations

import asyncio
import tempfile

from telethon import functions

from bananapics.bot.app import build_bot
from bananapics.bot.delivery import run_forever
from bananapics.bot.ratelimit import SendLimiter
from bananapics.config import load_config
from bananapics.models import Outbox
from bananapics.services import jobs, outbox, users
from bananapics.simtg import FakeTelegram, Limits, Network, SimClient, SimUser
from bananapics.worker import Runtime, run_job
from tests.helpers import assert_ledger_clean
from tests.test_jobs import Scripted

RTT = 0.02  # 20 ms there and back
MULTI = functions.messages.SendMultiMediaRequest
UPLOAD = functions.messages.UploadMediaRequest
SEND = functions.messages.SendMessageRequest


class Crash(BaseException):
    """The bot process dying in the middle of a request (nothing in the bot catches it)."""


def net_scenario(database, body, **env):
    """``body(tg, bot)`` with a bot on a simulated Telegram behind a 20 ms network (10 MB/s uploads),
    Telegram's limits on, the real clock (the bot's own send limiter too)."""
    media = tempfile.mkdtemp(prefix="bananapics-media-")
    config = load_config(None, environ={
        "BANANAPICS_USERS__START_BALANCE": "50", "BANANAPICS_QUEUE__BACKEND": "immediate",
        "BANANAPICS_PROVIDERS__FORCE_PROVIDER": "local", "BANANAPICS_STORAGE__PATH": media, **env})

    async def main():
        tg = FakeTelegram(limits=Limits(), network=Network(rtt=RTT, upload_bytes_per_s=10e6), settle_timeout=30)
        client = SimClient(telegram=tg)
        bot = build_bot(config, client)
        await client.start(bot_token=tg.bot_token)
        await bot.start(delivery_loop=False)
        try:
            await body(tg, bot)
        finally:
            await client.disconnect()

    asyncio.run(main())


async def started(tg, *names: str) -> list[SimUser]:
    people = []
    for name in names:
        sim = SimUser(tg, name, lang_code="en")
        await sim.start()
        people.append(sim)
    await asyncio.sleep(2.5)  # results come seconds after the users' last action: the per-chat limit
    return people             # Telegram charged for the welcome has come back


def notice(sim: SimUser, text: str) -> None:
    user = users.get(sim.id)
    outbox.enqueue(user_id=user.id, chat_id=sim.id, kind="notice", payload={"text": text},
                   dedupe_key=f"test:{sim.id}:{text}")


def finished_job(bot, sim: SimUser, count: int = 2) -> None:
    user = users.get(sim.id)
    job = jobs.submit(user.id, "nano-banana", "two ripe bananas", {"count": count}, chat_id=sim.id)
    run_job(job.id, Runtime(storage=bot.storage, provider_for=lambda _: Scripted()))


async def deliver_until_done(client, bot, stop_when, *, limiter=None, **kwargs) -> None:
    """Run the real delivery loop until ``stop_when()`` (a database check) holds."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(client, bot.storage, limiter or bot.sender, interval=0.02, stop=stop,
                                           **kwargs))
    try:
        for _ in range(3000):
            if task.done() or await asyncio.to_thread(stop_when):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("delivery did not finish")
    finally:
        stop.set()
        await task


async def restart_and_deliver(tg, bot, stop_when) -> None:
    """The bot starts again (a new connection, a new limiter; ``recover()`` at start) and delivers."""
    client = SimClient(telegram=tg)
    await client.start(bot_token=tg.bot_token)
    try:
        await deliver_until_done(client, bot, stop_when, limiter=SendLimiter())
        await tg.settle()
    finally:
        await client.disconnect()


def all_sent() -> bool:
    return outbox.pending_count() == 0


def texts(sim: SimUser) -> list[str]:
    return [m.text for m in sim.messages if not m.media_kind]


def test_a_slow_chat_does_not_hold_back_the_others(database):
    async def body(tg, bot):
        slow, *others = await started(tg, "Slow", "Bob", "Cy", "Dan")
        tg.network.slow_chat(slow.id, 3.0)  # every request towards this chat takes 3 s more
        notice(slow, "for the slow chat")
        for sim in others:
            finished_job(bot, sim)
        # room for two chats at a time: the slow chat holds one place, the other place serves the rest
        await deliver_until_done(bot.client, bot, all_sent, batch=2, max_chats=2)
        await tg.settle()
        slow_msg = slow.messages[-1]
        assert slow_msg.text == "for the slow chat"
        for sim in others:
            assert sim.messages[-1].text.startswith("✅ Done: 2 images")
            assert [m.media_kind for m in sim.messages[1:]] == ["photo", "photo", "document", "document", None]
        # Bob went out with the slow chat; Cy was claimed when Bob was done, not after the slow chat
        # (a batch barrier would have made Cy wait for it)
        bob, cy = others[0], others[1]
        assert bob.messages[-1].id < slow_msg.id and cy.messages[-1].id < slow_msg.id
        assert len(tg.requests_of(UPLOAD)) == 4 * len(others)  # each image once as a photo, once as a file
        assert tg.flood_waits == [] and {r.status for r in Outbox.select()} == {"sent"}
        assert_ledger_clean()

    net_scenario(database, body)


def test_each_chat_in_order_and_a_flood_wait_is_honoured(database):
    async def body(tg, bot):
        ann, bob = await started(tg, "Ann", "Bob")
        for text in ("one", "two", "three"):
            notice(ann, text)
        notice(bob, "bob's")
        tg.inject(SEND, "FLOOD_WAIT_2", skip=1, user_id=ann.id)  # Ann's second message: wait 2 s
        await deliver_until_done(bot.client, bot, all_sent)
        await tg.settle()
        assert texts(ann)[-3:] == ["one", "two", "three"] and texts(ann).count("two") == 1
        assert texts(bob)[-1] == "bob's"
        # Bob's message was not held back by Ann's pause
        assert bob.messages[-1].id < next(m.id for m in ann.messages if m.text == "two")
        # nothing went to Ann for the 2 s Telegram asked for
        to_ann = [r for r in tg.requests if isinstance(r.request, SEND) and r.request.peer.user_id == ann.id]
        refused = next(r for r in to_ann if r.error)
        after = [r for r in to_ann if r.at > refused.at]
        assert after and min(r.at for r in after) >= refused.at + 2 - 0.05
        assert tg.flood_waits == []  # the bot's own pacing hit no limit
        rows = {r.data["text"]: r for r in Outbox.select()}
        assert rows["two"].attempts == 1 and rows["two"].status == "sent"  # a FloodWait costs no attempt

    net_scenario(database, body)


def test_a_crash_mid_delivery_loses_nothing_and_sends_each_row_once(database):
    async def body(tg, bot):
        people = await started(tg, "Ann", "Bob", "Cy", "Dan")
        for sim in people:
            finished_job(bot, sim)
        seen = {sim.id: len(sim.messages) for sim in people}
        tg.inject(MULTI, Crash(), skip=3)  # the bot dies on the fourth album it sends
        try:
            await deliver_until_done(bot.client, bot, all_sent)
        except Crash:
            pass
        else:
            raise AssertionError("the crash did not happen")
        await bot.client.disconnect()  # the process is gone: what was on its way is lost with it
        in_flight = Outbox.select().where(Outbox.status == "sending").count()
        assert in_flight >= 1  # the crash left rows half-sent

        await restart_and_deliver(tg, bot, all_sent)
        assert {r.status for r in Outbox.select()} == {"sent"}
        repeated = 0
        for sim in people:
            got = sim.messages[seen[sim.id]:]
            kinds = [m.media_kind for m in got]
            assert [m.text for m in got if m.text.startswith("✅ Done")] == [got[-1].text]  # the closing text once
            assert kinds.count("photo") >= 2 and kinds.count("document") >= 2  # nothing lost
            repeated += len(got) - 5
        # a request whose answer was on its way back when the process died went again with its random_id:
        # Telegram refused it as a duplicate, nothing arrived twice
        assert repeated == 0
        assert_ledger_clean()

    net_scenario(database, body)


def test_a_send_telegram_took_just_before_the_bot_died_is_not_shown_twice(database):
    """The bot dies after Telegram accepted a part and before the answer came back (so before the row
    stored it): at the restart the part goes again with the same random_id, Telegram answers
    RANDOM_ID_DUPLICATE, the row counts it as sent and goes on. Each user sees each message once."""
    async def body(tg, bot):
        people = await started(tg, "Ann", "Bob", "Cy")
        for sim in people:
            finished_job(bot, sim)
        seen = {sim.id: len(sim.messages) for sim in people}
        takes = tg._answer
        for dies_after in (MULTI, SEND):  # an album, then (at the next run) a closing text
            client = SimClient(telegram=tg)  # the bot process: a connection, a limiter, the loop
            await client.start(bot_token=tg.bot_token)
            task = asyncio.create_task(run_forever(client, bot.storage, SendLimiter(), interval=0.02))
            taken = []

            def telegram(sender, request, kind=dies_after, task=task, taken=taken):
                answer = takes(sender, request)  # Telegram has handled it: the message exists
                if isinstance(request, kind) and not taken:
                    taken.append(request)
                    task.get_loop().call_soon(task.cancel)  # …and the bot dies before the answer is back
                return answer

            tg._answer = telegram
            try:
                await asyncio.wait_for(task, 30)
            except asyncio.CancelledError:
                pass
            tg._answer = takes
            await client.disconnect()
            assert taken, f"no {dies_after.__name__} was sent"
            cut = [r for r in Outbox.select() if r.status == "sending" and r.parts_sent < 3]
            assert cut  # the part Telegram took is not stored on its row

        await restart_and_deliver(tg, bot, all_sent)
        for sim in people:
            got = sim.messages[seen[sim.id]:]
            assert [m.media_kind for m in got] == ["photo", "photo", "document", "document", None]
            assert got[-1].text.startswith("✅ Done: 2 images")
        # the cut album and text went again and were refused (so may parts of other chats whose answer
        # was on its way back when the bot died)
        refused = [type(r.request) for r in tg.requests if r.error == "500 RANDOM_ID_DUPLICATE"]
        assert MULTI in refused and SEND in refused
        assert {r.status for r in Outbox.select()} == {"sent"} and tg.flood_waits == []
        assert_ledger_clean()

    net_scenario(database, body)
