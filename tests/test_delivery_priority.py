"""User-facing first under a saturated send limit, through the simulated Telegram: a button press is
answered at once (an answer is not a message and never waits behind sends; one Telegram no longer
takes is logged, not an error), a user's new panel or invoice goes ahead of a running broadcast,
and a storm of panels never starves a finished job's result."""

from __future__ import annotations

import asyncio
import logging

from telethon import functions

from bananapics.bot.delivery import run_forever
from bananapics.bot.ratelimit import UserLimiter
from bananapics.services import broadcast, users
from bananapics.services.audit import Actor
from bananapics.simtg import Limits, SimUser
from tests.helpers import scenario
from tests.test_delivery_network import finished_job, net_scenario

OPERATOR = Actor.operator("tests")
ANSWER = functions.messages.SetBotCallbackAnswerRequest


def errors_logged(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_press_is_answered_before_its_handler_waits_for_the_send_limit(database):
    """The bot is paused for 30 s (a FloodWait): the invoice a press asks for waits, its answer does not."""
    async def body(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Balance")
        await ann.press("Top up")
        bot.sender.pause_all(30)  # Telegram said FLOOD_WAIT_30 a moment ago
        answer = await ann.press("⭐ 250 →")
        assert answer.answered  # within Telegram's 15 s: before the invoice's 30 s wait
        assert ann.messages[-1].media_kind == "invoice"  # sent once the pause was over
        assert [r.error for r in tg.requests if isinstance(r.request, ANSWER)] == [None] * 3

    scenario(database, body, limits=Limits())


def test_a_press_answered_too_late_is_logged_not_an_error(database, caplog):
    """Telegram refuses every answer (the presses are older than its window, as after a restart that
    caught them up): the panels still change, nothing is logged as an error, no handler fails."""
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        tg.limits.callback_query_ttl = -1.0  # every press is too old by the time its answer comes
        with caplog.at_level(logging.INFO):
            first = await ann.press("Balance")  # settle() raises if a handler failed
            assert ann.panel.text.startswith("💰 Balance")
            second = await ann.press("Top up")
        assert not first.answered and not second.answered
        assert ann.panel.buttons[0].startswith("⭐ 50")
        assert [r.error for r in tg.requests if isinstance(r.request, ANSWER)] == ["400 QUERY_ID_INVALID"] * 2
        assert errors_logged(caplog) == []
        assert any("answered too late" in r.getMessage() for r in caplog.records)

    scenario(database, body, limits=Limits())


async def until(check, what: str, seconds: float = 30.0) -> None:
    """Wait for an outcome (a safety bound, not a timing the test asserts)."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{what} did not happen")


def recipients(tg, n: int) -> list[int]:
    """``n`` users who wrote to the bot once (registered as the bot would on their /start)."""
    ids = []
    for k in range(n):
        rec = tg.add_user(f"Reader{k}")
        rec.started = True
        users.register(rec.id, first_name=rec.first_name, language_code="en", start_balance=0, welcomed=True)
        ids.append(rec.id)
    return ids


def test_a_users_answers_go_ahead_of_a_running_broadcast(database):
    """A broadcast keeps the send limit saturated (10/s here, 120 recipients); meanwhile Ann presses
    buttons and writes: every press is answered, her invoice and her new panel each go out with at
    most a few broadcast messages before them (the time her handler takes; a queue in arrival order
    puts the ~60 chats the delivery loop holds ahead of her), and Telegram never says FloodWait."""
    async def body(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.press("Balance")
        readers = recipients(tg, 120)
        b = broadcast.create("🍌 Bananas are 20% off this weekend!", actor=OPERATOR)
        broadcast.start(b.id, actor=OPERATOR)
        stop = asyncio.Event()
        loop = asyncio.create_task(run_forever(bot.client, bot.storage, bot.sender, interval=0.02, stop=stop))

        def delivered() -> int:
            return sum(len(tg.chat_messages(uid)) for uid in readers)

        try:
            await until(lambda: delivered() >= 15, "the broadcast going")  # the limiter is saturated now
            assert bot.sender.in_flight >= 1

            before = delivered()
            query = tg.user_presses(ann.record, ann.panel.id, ann.panel.button("Top up").data)
            await until(lambda: query.answered, "the answer to Top up")
            await until(lambda: ann.panel.text.startswith("⭐"), "the packages panel")
            assert delivered() - before <= 6  # an edit and an answer: neither waits for the send limit

            before, seen = delivered(), len(ann.messages)
            query = tg.user_presses(ann.record, ann.panel.id, ann.panel.button("⭐ 250 →").data)
            await until(lambda: any(m.media_kind == "invoice" for m in ann.messages[seen:]), "the invoice")
            assert query.answered
            assert delivered() - before <= 6  # next in line, not behind the broadcast

            before, seen = delivered(), len(ann.messages)
            tg.user_sends(ann.record, [{"text": "/start"}])
            await until(lambda: any(m.buttons for m in ann.messages[seen:]), "the new panel")
            assert delivered() - before <= 6
            assert delivered() < len(readers) - 30  # all of that while the broadcast was still going
        finally:
            stop.set()
            await loop
        assert [r.error for r in tg.requests if isinstance(r.request, ANSWER)].count(None) == 3
        assert tg.flood_waits == []

    net_scenario(database, body, BANANAPICS_TELEGRAM__SEND_PER_SECOND="10")


def test_a_storm_of_panels_never_starves_a_result(database):
    """30 users write to the bot as fast as it answers (more new panels than the send limit of
    10/s allows) while a finished job's result waits: the result goes out in the middle of the
    storm, not after it (a result that waited 2 s goes before a new panel)."""
    async def body(tg, bot):
        bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)
        crowd = []
        for k in range(30):
            sim = SimUser(tg, f"Fan{k}", lang_code="en")
            await sim.start()
            crowd.append(sim)
        bob = SimUser(tg, "Bob", lang_code="en")
        await bob.start()
        await asyncio.sleep(2.5)  # the welcomes' per-chat pace is over
        stop, storming = asyncio.Event(), asyncio.Event()
        loop = asyncio.create_task(run_forever(bot.client, bot.storage, bot.sender, interval=0.02, stop=stop))

        async def storm():
            storming.set()
            for _ in range(14):  # each fan asks for a new panel twice a second for 7 s
                for sim in crowd:
                    tg.user_sends(sim.record, [{"text": "/start"}])
                await asyncio.sleep(0.5)

        def panels() -> list[int]:  # the new panels sent to the fans (an older one loses its buttons)
            return sorted(m.id for sim in crowd for m in sim.messages)

        try:
            fans = asyncio.create_task(storm())
            await storming.wait()
            await asyncio.sleep(1.0)
            await asyncio.to_thread(finished_job, bot, bob)  # the result is due in the middle of the storm
            before = len(bob.messages)
            await until(lambda: len(bob.messages) >= before + 5, "Bob's result", 60)
            result = bob.messages[before:]
            await fans
            await asyncio.sleep(1.0)
            after = [i for i in panels() if i > result[-1].id]
        finally:
            stop.set()
            await loop
        assert [m.media_kind for m in result] == ["photo", "photo", "document", "document", None]
        assert len(after) >= 10  # the storm went on after the result: the result did not wait for its end
        assert tg.flood_waits == []

    net_scenario(database, body, BANANAPICS_TELEGRAM__SEND_PER_SECOND="10")
