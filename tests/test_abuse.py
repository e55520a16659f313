"""Abuse (issue 13, items 7-9): hostile images, bursts of uploads and of /start, flood-control leftovers.

* images: a small file declaring a huge canvas is refused from its header; memory stays bounded
  (measured as the peak resident memory of a child process: Pillow's pixels live outside Python's
  allocator, so ``tracemalloc`` would not see them);
* image work runs on the bot's own pool, one image per user at a time, and never holds up a
  pre-checkout answer;
* 50 ``/start`` in one second: the bot stays within Telegram's per-chat limit and ends with one
  correct panel; a FloodWait inside a handler is logged once, never a traceback;
* flooding clears a "blocked the bot" mark; a photo captioned "/start" gets one answer; a reused
  ledger key is refused naming the Telegram id.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from bananapics import i18n
from bananapics.bot import references
from bananapics.bot.ratelimit import UserLimiter
from bananapics.errors import IdempotencyConflict
from bananapics.images import MAX_DECODE_SIDE
from bananapics.services import drafts, ledger, users
from bananapics.simtg import Limits, SimUser
from tests.abuse_files import jpeg_canvas, peak_of_prepare, png_canvas
from tests.helpers import new_user, scenario
from tests.test_bot_wizard import account

WELCOME = "Welcome"


@pytest.fixture(scope="module")
def canvas_png() -> bytes:
    return png_canvas(7000, 7000)  # ~208 KB on the wire, 196 MB of RGBA once decoded


# --------------------------------------------------------------------------- images (item 7)


def test_a_small_png_declaring_a_huge_canvas_is_refused_from_its_header(tmp_path, canvas_png):
    """The 208 KB 7000×7000 RGBA PNG of the issue took ~450 MB (here 560 MB) to prepare."""
    path = tmp_path / "canvas.png"
    path.write_bytes(canvas_png)
    assert len(canvas_png) < 300_000
    outcome = peak_of_prepare(str(path))
    assert outcome["ok"] is False and outcome["title"] == "image_too_many_pixels"
    assert outcome["peak_mb"] < 32, outcome


def test_a_long_jpeg_is_decoded_at_a_reduced_scale(tmp_path):
    """16000×2000: the draft scale was picked from a square box (min of the two ratios → 1:1), so the
    whole 96 MB was decoded (and converted twice); now the aspect-true target lets it decode at 1/4."""
    path = tmp_path / "long.jpg"
    path.write_bytes(jpeg_canvas(16000, 2000))
    outcome = peak_of_prepare(str(path))
    assert outcome["ok"] is True and outcome["size"] == [2048, 256]
    assert outcome["peak_mb"] < 64, outcome


def test_the_largest_png_accepted_is_prepared_within_a_bounded_memory(tmp_path):
    path = tmp_path / "big.png"
    path.write_bytes(png_canvas(MAX_DECODE_SIDE, MAX_DECODE_SIDE))
    outcome = peak_of_prepare(str(path))
    assert outcome["ok"] is True and outcome["size"] == [2048, 2048]
    assert outcome["peak_mb"] < 256, outcome  # 67 MB decoded; premultiplied copy for the resize


def roomy(bot, tg) -> None:
    bot.limiter = UserLimiter(rate_per_min=100_000, burst=100_000)


@pytest.mark.parametrize("lang", ["en", "ru", "uz"])
def test_a_huge_png_sent_as_a_file_gets_a_clear_answer_in_the_users_language(database, canvas_png, lang):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        await ann.send("/generate")
        await ann.press(ann.buttons()[0])
        await ann.send_document(canvas_png, "canvas.png", "image/png")
        assert i18n.t(lang, "error-image-too-many-pixels", side=str(MAX_DECODE_SIDE)) in ann.panel.text
        assert f"{MAX_DECODE_SIDE}×{MAX_DECODE_SIDE}" in ann.panel.text
        assert drafts.get(users.get(ann.id).id).refs == []

    scenario(database, body)


def _files(n: int) -> list[bytes]:
    return [png_canvas(64 + i, 48) for i in range(n)]


def test_image_work_runs_on_its_own_pool_one_image_per_user_at_a_time(database, monkeypatch):
    seen: list[str] = []
    busy: dict[int, int] = {}
    most: dict[int, int] = {}
    original = references.store_reference

    def store(storage, user_id, data):
        seen.append(threading.current_thread().name)
        busy[user_id] = busy.get(user_id, 0) + 1
        most[user_id] = max(most.get(user_id, 0), busy[user_id])
        time.sleep(0.02)  # long enough for a second image of the same user to overlap, were it allowed
        try:
            return original(storage, user_id, data)
        finally:
            busy[user_id] -= 1

    monkeypatch.setattr(references, "store_reference", store)

    async def body(tg, bot):
        roomy(bot, tg)
        ann, bob = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Bob", lang_code="en")
        for who in (ann, bob):
            await who.start()
            await who.send("/generate")
            await who.press(next(b for b in who.buttons() if b.startswith("GPT Image")))
        for who in (ann, bob):  # each file its own message, all dispatched at once
            for data in _files(3):
                tg.user_sends(who.record, [{"media": who._document_media(data, "f.png", "image/png"), "entities": []}])
        await tg.settle()
        assert seen and all(name.startswith("bananapics-image") for name in seen), seen
        assert set(most.values()) == {1}, most
        assert len(drafts.get(users.get(ann.id).id).refs) == 3

    scenario(database, body)


def test_a_pre_checkout_is_answered_while_another_users_images_are_stuck(database, monkeypatch):
    """20 files from Ann whose processing hangs must not hold up Bob's pre-checkout: image work used
    the executor every handler shares (6 threads on 2 cores), so Ann's burst took all of it."""
    release = threading.Event()
    original = references.store_reference

    def stuck(storage, user_id, data):
        release.wait(30)
        return original(storage, user_id, data)

    monkeypatch.setattr(references, "store_reference", stuck)

    async def body(tg, bot):
        roomy(bot, tg)
        ann, bob = SimUser(tg, "Ann", lang_code="en"), SimUser(tg, "Bob", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("GPT Image")))
        await bob.start()
        await bob.press("Balance")
        await bob.press("Top up")
        await bob.press("⭐ 50 →")
        invoice = bob._invoice(None)
        for data in _files(20):
            tg.user_sends(ann.record, [{"media": ann._document_media(data, "f.png", "image/png"), "entities": []}])
        query = tg.user_precheckout(bob.record, invoice)
        try:
            for _ in range(1000):  # a bounded wait for the answer (no timing assert: only that it comes)
                if query.answered:
                    break
                await asyncio.sleep(0.01)
            assert query.answered and query.ok, query
        finally:
            release.set()
        await tg.settle(timeout=60)

    scenario(database, body)


# --------------------------------------------------------------------------- bursts (item 9)


def test_fifty_starts_in_one_second_stay_within_telegrams_per_chat_limit(database, caplog):
    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        caplog.clear()
        for _ in range(50):  # one second of the simulator's clock: nothing advances it but the bot's pacing
            tg.user_sends(ann.record, [{"text": "/start"}])
        await tg.settle(timeout=60)
        assert tg.flood_waits == []
        assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
        assert WELCOME not in ann.panel.text and "Generate" in " ".join(ann.buttons())
        live = [m for m in ann.messages if m.from_bot and m.has_inline_keyboard]
        assert [m.id for m in live] == [ann.panel.id]  # one live panel: every older one lost its buttons

    with caplog.at_level(logging.WARNING):
        scenario(database, body, limits=Limits())


def test_a_burst_of_panels_for_one_chat_is_coalesced_into_the_newest():
    """Panels waiting for the chat's turn give way to a newer one: the per-chat bucket is spent, five
    panels queue, only the newest is sent (nothing charged for the others)."""
    from bananapics.bot.ratelimit import SendLimiter
    from bananapics.simtg import ManualClock

    async def main():
        clock = ManualClock()
        limiter = SendLimiter(per_chat_per_s=1, per_chat_burst=1, clock=clock)
        assert await limiter.acquire(7)  # the burst is spent
        newest = {"ticket": 0}

        async def panel(ticket: int) -> bool:
            newest["ticket"] = ticket
            return await limiter.acquire(7, wanted=lambda: newest["ticket"] == ticket)

        sent = await asyncio.gather(*(panel(n) for n in range(1, 6)))
        assert sent == [False, False, False, False, True]
        assert await limiter.acquire(8)  # other chats are not held up

    asyncio.run(main())


def test_a_flood_wait_in_a_handler_is_logged_once_not_a_traceback(database, caplog):
    from telethon.tl import functions

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        tg.inject(functions.messages.SendMessageRequest, "FLOOD_WAIT_3", times=1)
        caplog.clear()
        await ann.send("/help")  # settle() raises if a handler raised
        assert "Help" in ann.panel.text or ann.panel.buttons
        floods = [r for r in caplog.records if "asked to wait" in r.getMessage()]
        assert len(floods) == 1 and not floods[0].exc_info
        assert not [r for r in caplog.records if r.exc_info]

    with caplog.at_level(logging.WARNING):
        scenario(database, body, limits=Limits())


# --------------------------------------------------------------------------- item 8


def test_flooding_clears_a_blocked_the_bot_mark(database):
    async def body(tg, bot):
        bot.limiter.update(rate_per_min=1, burst=2)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("hello")
        await ann.send("hello")  # told "too many requests": flooding from here on
        assert "Too many requests" in ann.last.text
        users.set_blocked_bot(ann.id, True)  # delivery met USER_IS_BLOCKED meanwhile
        await ann.send("hello?")  # still flooding; but writing proves the bot is not blocked
        assert users.get(ann.id).blocked_bot is False

    scenario(database, body)


def test_a_photo_captioned_start_gets_one_answer(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("GPT Image")))
        before = len([m for m in ann.messages if m.from_bot])
        await ann.send_photo(_files(1)[0], caption="/start")
        after = [m for m in ann.messages if m.from_bot][before:]
        assert len(after) == 1, [m.text for m in after]
        draft = drafts.get(users.get(ann.id).id)
        assert len(draft.refs) == 1 and draft.prompt != "/start"

    scenario(database, body)


def test_a_reused_ledger_key_is_refused_naming_the_telegram_id(database):
    ann = new_user()
    ledger.grant(ann.id, 5, "promo-1", reason="promo")
    with pytest.raises(IdempotencyConflict) as refused:
        ledger.grant(ann.id, 7, "promo-1", reason="promo")
    assert str(ann.tg_id) in str(refused.value) and "user#" not in str(refused.value)


def test_the_one_time_welcome_is_never_coalesced_away(database):
    """Panels waiting for the chat's turn give way to a newer one, except the one-time welcome
    (``Screen.keep``): with the chat's burst spent, a welcome and a menu asked at the same moment are
    both sent; two ordinary panels end in the newest alone."""
    from bananapics.bot.ui import Screen

    async def body(tg, bot):
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        user = users.get(ann.id)
        for n in range(5):  # spend the chat's burst: the next panels wait for their turn
            await bot.show(user, ann.id, Screen(f"filler {n}"))
        await asyncio.gather(bot.show(user, ann.id, Screen("plain 1")), bot.show(user, ann.id, Screen("plain 2")))
        await asyncio.gather(bot.show(user, ann.id, Screen("greeting", keep=True)),
                             bot.show(user, ann.id, Screen("menu")))
        texts = [t for t in ann.texts if t in ("plain 1", "plain 2", "greeting", "menu")]
        assert texts == ["plain 2", "greeting", "menu"], texts

    scenario(database, body, limits=Limits())
