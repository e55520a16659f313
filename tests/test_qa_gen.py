"""Adversarial QA of the generation and bot flows, as users (and admins) would hit them: double taps,
changes made behind the user's back, blocked users, partial results, restarts, vanished files,
prompts that look like markup, and every screen in every language."""

from __future__ import annotations

import asyncio

import pytest

from bananapics.db import atomic
from bananapics.models import AiModel, Job, Outbox
from bananapics.services import drafts, ledger
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, new_user, scenario, to_confirm
from tests.test_bot_wizard import HeldQueue, account, deliver, draft_of, picture, roomy


def _set_model(model_id: str, **fields) -> None:
    with atomic():
        AiModel.update(**fields).where(AiModel.id == model_id).execute()


# ------------------------------------------------------------------------------ markup in prompts


MARKUP = "**bold** __it__ `code` [click](https://evil.example) ~~s~~ ||spoiler|| مرحبا 🍌👨\u200d👩\u200d👧 می\u200cخواهم"


def test_markdown_looking_prompts_are_shown_verbatim_without_entities(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "Nano Banana Pro", MARKUP)
        panel = ann.panel
        assert drafts.get(account(ann).id).prompt == MARKUP
        assert MARKUP in panel.text, panel.text  # not eaten by a markdown parser
        assert not panel.raw.entities  # no bold, no hidden link to evil.example
        await ann.press("Generate — 30")
        await deliver(bot)
        caption = next(m for m in ann.messages if m.media_kind == "photo")
        assert MARKUP in caption.text and not caption.raw.entities
        assert caption.text.startswith("🎨 Nano Banana Pro · ")  # the model's name, not its id
        for message in ann.messages:
            assert not any(type(e).__name__ == "MessageEntityTextUrl" for e in (message.raw.entities or []))
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ double taps


def test_confirming_the_same_confirm_screen_twice_makes_one_job(database):
    user = new_user(start=100)
    drafts.set_prompt(user.id, "a lighthouse")
    drafts.go(user.id, "confirm")
    first = drafts.confirm(user.id, chat_id=None)
    second = drafts.confirm(user.id, chat_id=None)  # the other tap of a double tap, a moment later
    assert first.id == second.id and Job.select().count() == 1
    assert ledger.balance(user.id) == (100 - first.cost, first.cost)
    assert_ledger_clean()


def test_double_tap_generate_holds_once(database):
    async def body(tg, bot):
        roomy(bot, tg)
        bot.tasks = HeldQueue()
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "twin towers")
        confirm = ann.panel
        await asyncio.gather(ann.press("Generate — 10", message=confirm), ann.press("Generate — 10", message=confirm))
        assert Job.select().count() == 1
        assert ledger.balance(account(ann).id) == (40, 10)
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ admin changes behind the user


def test_generate_after_the_model_was_switched_off_makes_no_job_on_another_model(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "a red fox")
        _set_model("seedream-4", enabled=False)
        _set_model("nano-banana", base_price=10)  # the fallback model happens to cost the same
        await ann.press("Generate — 10")
        assert Job.select().count() == 0, [j.model for j in Job.select()]
        assert "SeeDream 4 is switched off" in ann.panel.text
        assert ledger.balance(account(ann).id) == (50, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_generate_after_a_price_change_asks_again_and_holds_the_new_price(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "a red fox")
        _set_model("seedream-4", base_price=12)
        await ann.press("Generate — 10")
        assert Job.select().count() == 0 and "The price has changed" in ann.panel.text
        await ann.press("Generate — 12")
        assert Job.get().cost == 12 and ledger.balance(account(ann).id) == (38, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_old_confirm_button_after_changing_settings_is_outdated(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "a red fox")
        old_go = ann.panel.button("Generate — 10").data
        await ann.press("Edit")
        await ann.press("Settings")
        await ann.press("Resolution")
        await ann.press(next(b for b in ann.buttons() if "4K" in b))
        answer = await ann.press_data(old_go)
        assert answer.message == "This button is outdated."
        assert Job.select().count() == 0 and ledger.balance(account(ann).id) == (50, 0)
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ jobs and delivery


async def _queued_job(bot, user: SimUser, model: str, prompt: str, price: int, count: int = 1) -> str:
    await user.send("/generate")
    await user.press(model)
    await user.send(prompt)
    await user.press("Skip")
    if count > 1:
        await user.press("Images")
        await user.press(next(b for b in user.buttons() if b.startswith(f"{count} ") or f"×{count}" in b
                              or b.startswith(f"✅ {count} ")))
    await user.press("Next")
    await user.press(f"Generate — {price}")
    return Job.select().order_by(Job.created_at.desc()).get().id


def test_user_blocks_the_bot_while_the_job_runs(database):
    async def body(tg, bot):
        roomy(bot, tg)
        queue = HeldQueue()
        bot.tasks = queue
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        job_id = await _queued_job(bot, ann, "SeeDream 4", "a quiet harbour", 10)
        me = account(ann).id
        await ann.block_bot()
        assert (await asyncio.to_thread(queue.run, bot, job_id)).status == "succeeded"
        assert ledger.balance(me) == (40, 0)  # settled once, whatever happens to the delivery
        before = len(tg.requests)
        assert await deliver(bot) == 0
        assert await deliver(bot) == 0
        assert Outbox.get().status == "dead" and len(tg.requests) == before  # no request, no retry storm
        assert (await asyncio.to_thread(queue.run, bot, job_id)).status == "skipped"  # a replayed task
        assert ledger.balance(me) == (40, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_one_of_several_images_failing_settles_part_and_says_so(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await ann.send("/generate")
        await ann.press("SeeDream 4")
        await ann.send("three cats #partial")
        await ann.press("Skip")
        await ann.press("Images: ×1")
        await ann.press("×3 · 30")
        await ann.press("Next")
        await ann.press("Generate — 30")
        job = Job.get()
        assert (job.status, job.delivered, job.count) == ("partial", 2, 3)
        assert ledger.balance(me) == (30, 0)  # 20 for two images, 10 back
        await deliver(bot)
        closing = ann.last
        assert "2 of 3 images arrived" in closing.text and "10" in closing.text
        assert sum(m.media_kind == "photo" for m in ann.messages) == 2
        assert_ledger_clean()

    scenario(database, body)


def test_a_result_whose_image_vanished_from_storage_still_reaches_the_user(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await ann.send("/generate")
        await ann.press("SeeDream 4")
        await ann.send("two boats")
        await ann.press("Skip")
        await ann.press("Images: ×1")
        await ann.press("×2 · 20")
        await ann.press("Next")
        await ann.press("Generate — 20")
        job = Job.get()
        bot.storage.delete(job.results[0])  # retention, an operator, a wiped disk …
        assert await deliver(bot) == 1
        row = Outbox.get()
        assert (row.status, row.attempts) == ("sent", 1)
        assert sum(m.media_kind == "photo" for m in ann.messages) == 1
        assert "Done: 1 image for 20 tokens" in ann.last.text and ann.last.buttons  # the one that arrived
        assert "1 image could not be delivered. Write to /support" in ann.last.text
        assert ledger.balance(me) == (30, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_switching_to_a_model_with_fewer_references_keeps_its_maximum_and_prices_them(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await ann.send("/generate")
        await ann.press("GPT Image")
        await ann.send("a collage")
        for n in range(2):
            await ann.send_album([picture(10 * n + i) for i in range(6)])
        assert len(draft_of(ann).refs) == 12
        await ann.press("Done")
        await ann.press("Next")
        await ann.press("Edit")
        await ann.press("Model")
        await ann.press("SeeDream 4")
        assert len(draft_of(ann).refs) == 10
        assert "Kept 10 of 12" in ann.panel.text and "References: 10" in ann.panel.text
        await ann.press("Generate — 10")
        job = Job.get()
        assert (job.model, len(job.refs), job.cost) == ("seedream-4", 10, 10)
        assert ledger.balance(me) == (40, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_an_album_sent_on_the_confirm_step_adds_references_and_reprices(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "Nano Banana", "my dog")
        old_go = ann.panel.button("Generate — 15").data
        await ann.send_album([picture(1), picture(2)], caption="my dog on the beach")
        draft = draft_of(ann)
        assert len(draft.refs) == 2 and draft.prompt == "my dog on the beach"
        assert "References: 2" in ann.panel.text or "2" in ann.panel.text
        await ann.press("Done (2)")
        await ann.press("Next")
        await ann.press("Generate — 17")
        assert Job.get().cost == 17 and ledger.balance(account(ann).id) == (33, 0)
        answer = await ann.press_data(old_go)  # the price shown before the photos is not the price now
        assert answer.message == "This button is outdated." and Job.select().count() == 1
        assert_ledger_clean()

    scenario(database, body)


def test_again_after_the_reference_was_purged_fails_at_once_and_refunds(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("SeeDream 4 ·")))
        await ann.send_photo(picture(3), caption="my cat as a knight")
        await ann.press("Done (1)")
        await ann.press("Next")
        await ann.press("Generate — 10")
        first = Job.get()
        await deliver(bot)
        for key in first.refs:
            bot.storage.delete(key)  # retention purged the uploaded photo
        await ann.press("Again", message=next(m for m in reversed(ann.messages) if "Again" in " ".join(m.buttons)))
        again = Job.select().where(Job.id != first.id).get()
        assert again.status == "failed" and again.error_kind == "reference"
        assert ledger.balance(me) == (40, 0)  # the second hold came back at once
        await deliver(bot)
        assert "A reference image could not be read" in ann.last.text
        assert_ledger_clean()

    scenario(database, body)


# ------------------------------------------------------------------------------ every screen, every language


async def _tap(user: SimUser, prefix: str, nth: int = 0):
    """Press the ``nth`` button of the panel whose callback data starts with ``prefix`` (any language)."""
    found = [b for row in user.panel.button_rows for b in row if b.data and b.data.decode().startswith(prefix)]
    assert len(found) > nth, (prefix, user.panel.buttons)
    return await user.press_data(found[nth].data)


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_every_wizard_screen_in_every_language_with_a_worst_case_prompt(database, lang):
    """Telegram's limits hold on every screen (the simulated Telegram refuses a text over 4096, a caption
    over 1024, a toast over 200, callback data over 64 bytes): a 2000-character prompt of emoji and
    markup, every setting of every model, a partial result and a failure."""
    prompt = ("👨\u200d👩\u200d👧 **x** _y_ [z](http://e.x) " * 200)[:1990] + " #partial"
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        me = account(ann).id
        ledger_topup = 10_000
        from bananapics.services.audit import Actor
        ledger.adjust(me, ledger_topup, reason="qa", actor=Actor.operator("qa"))
        for model_n in range(4):
            await ann.send("/generate")
            await _tap(ann, "gen:model:", model_n)
            await ann.send(prompt)
            await ann.send_album([picture(i) for i in range(3)])
            await _tap(ann, "gen:rdone:")
            for code in ("ar", "res", "q", "fmt", "n"):
                if not any(b.data and b.data.decode().startswith("gen:opt:") and b.data.decode().endswith(f":{code}")
                           for row in ann.panel.button_rows for b in row):
                    continue
                await ann.press_data(next(b.data for row in ann.panel.button_rows for b in row
                                          if b.data and b.data.decode().endswith(f":{code}")))
                values = [b for row in ann.panel.button_rows for b in row if b.data
                          and b.data.decode().startswith(f"gen:{code}:")]
                await ann.press_data(values[-1].data)  # the last (largest, dearest) value
            await _tap(ann, "gen:next:")
            assert "…" in ann.panel.text  # the prompt is shown as an excerpt
            await _tap(ann, "gen:go:")
        await deliver(bot)
        assert {j.status for j in Job.select()} == {"partial"}
        await ann.send("/generate")
        await _tap(ann, "gen:model:", 0)
        await ann.send("#fail:moderation " + prompt[:1900])
        await _tap(ann, "gen:skip:")
        await _tap(ann, "gen:next:")
        await _tap(ann, "gen:go:")
        await deliver(bot)
        assert Outbox.select().where(Outbox.status != "sent").count() == 0
        assert_ledger_clean()

    scenario(database, body)


def test_prompts_keep_joiners_but_invisible_ones_are_empty(database):
    from bananapics.errors import InvalidInput
    from bananapics.services import jobs

    family = "👨\u200d👩\u200d👧 and می\u200cخواهم"
    assert jobs.clean_prompt(f"  {family}\u202e\x00 ") == family  # bidi override and NUL dropped
    for invisible in ("\u200d", " \u200c\u200d\n", "\u202e\u200b"):
        with pytest.raises(InvalidInput) as exc:
            jobs.clean_prompt(invisible)
        assert exc.value.title == "prompt_empty"


def test_every_command_answers_exactly_once(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        for command in ("/start", "/help", "/generate", "/balance", "/history", "/lang", "/cancel", "/settings",
                        "/invite", "/profile", "/templates", "/trending", "/terms", "/privacy", "/support",
                        "/paysupport"):
            before = len(ann.messages)
            await ann.send(command)
            assert len(ann.messages) == before + 1, command  # one answer: a fresh panel or one text

    scenario(database, body)


def test_a_new_bot_on_the_same_database_finishes_a_half_delivered_result_and_its_buttons_work(database):
    from telethon import functions

    from bananapics.bot.app import build_bot
    from bananapics.bot.delivery import deliver_once
    from bananapics.services import outbox
    from bananapics.simtg import SimClient
    from tests.test_delivery import Crash

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        me = account(ann).id
        await to_confirm(ann, "SeeDream 4", "a harbour at dawn")
        await ann.press("Generate — 10")
        tg.inject(functions.messages.SendMessageRequest, Crash())  # dies sending the closing text
        try:
            await deliver(bot)
        except Crash:
            pass
        assert (Outbox.get().status, Outbox.get().parts_sent) == ("sending", 2)
        await bot.client.disconnect()
        client = SimClient(telegram=tg)  # the restarted process: a new client, the same database
        bot2 = build_bot(bot.config, client)
        roomy(bot2, tg)
        await client.start(bot_token=tg.bot_token)
        await bot2.start(delivery_loop=False)
        assert outbox.recover() == 1
        assert await deliver_once(bot2.client, bot2.storage, bot2.sender) == 1
        await tg.settle()
        assert [m.media_kind or "text" for m in ann.messages][-3:] == ["photo", "document", "text"]
        assert sum(m.media_kind == "photo" for m in ann.messages) == 1  # nothing sent twice
        await ann.press("Again", message=ann.last)
        assert Job.select().count() == 2 and ledger.balance(me) == (30, 0)
        await client.disconnect()
        assert_ledger_clean()

    scenario(database, body)


@pytest.mark.parametrize("lang", ["uz", "ru", "en"])
def test_an_unknown_command_is_answered_and_changes_nothing(database, lang):
    from bananapics import i18n

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code=lang)
        await ann.start()
        await ann.send("/generate")
        await _tap(ann, "gen:model:", 1)
        before = draft_of(ann)
        for command in ("/imagine a cat in a hat", "/help me", "/generatex"):
            count = len(ann.messages)
            await ann.send(command)
            assert len(ann.messages) == count + 1, command
            assert i18n.t(lang, "error-unknown-command") in ann.panel.text
        after = draft_of(ann)
        assert (after.prompt, after.model, after.step) == (before.prompt, before.model, before.step)

    scenario(database, body)


def draft_token(user: SimUser) -> str:
    from bananapics.bot.wizard import token

    return token(draft_of(user))


def test_every_model_switched_off_mid_wizard_gets_an_answer(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "a red fox")
        with atomic():
            AiModel.update(enabled=False).execute()
        answer = await ann.press("Generate — 10")
        assert answer.answered and Job.select().count() == 0
        await ann.send("another fox")
        assert "No models are available" in ann.panel.text
        await ann.send_photo(picture(1))
        assert "No models are available" in ann.panel.text
        await ann.press_data(b"gen:next:" + draft_token(ann).encode())
        assert "No models are available" in ann.panel.text
        assert ledger.balance(account(ann).id) == (50, 0)
        assert_ledger_clean()

    scenario(database, body)


def test_double_tap_again_holds_once(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await to_confirm(ann, "SeeDream 4", "twin towers")
        await ann.press("Generate — 10")
        await deliver(bot)
        result = ann.last
        bot.tasks = HeldQueue()
        await asyncio.gather(ann.press("Again", message=result), ann.press("Again", message=result))
        assert Job.select().count() == 2
        assert ledger.balance(account(ann).id) == (30, 10)
        assert_ledger_clean()

    scenario(database, body)


def test_generate_after_the_admin_narrowed_the_models_limits_explains_and_holds_nothing(database):
    import json

    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await ann.send("/generate")
        await ann.press(next(b for b in ann.buttons() if b.startswith("SeeDream 4 ·")))
        await ann.send("a red fox")
        await ann.press("Skip")
        await ann.press("Resolution")
        await ann.press(next(b for b in ann.buttons() if "4K" in b))
        await ann.press("Next")
        model = AiModel.get_by_id("seedream-4")
        limits = {**json.loads(model.limits), "resolutions": ["1K", "2K"]}
        _set_model("seedream-4", limits=json.dumps(limits))
        await ann.press("Generate — 16")
        assert Job.select().count() == 0 and ledger.balance(account(ann).id) == (50, 0)
        assert "does not support that option" in ann.panel.text and "Generate" not in " ".join(ann.buttons())
        assert_ledger_clean()

    scenario(database, body)


def test_a_long_prompt_is_shortened_in_the_result_caption_with_an_ellipsis(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        prompt = "a lighthouse on a cliff at dawn, " * 20  # 660 characters
        await to_confirm(ann, "Nano Banana Pro", prompt)
        await ann.press("Generate — 30")
        await deliver(bot)
        caption = next(m for m in ann.messages if m.media_kind == "photo").text
        assert caption.endswith("…”") and prompt[:250] in caption and len(caption) < 400
        assert_ledger_clean()

    scenario(database, body)


def test_the_result_becomes_the_panel_and_the_progress_panel_loses_refresh(database):
    """One live panel: once the result arrives, its buttons are the panel's and the progress panel
    above keeps its text but not its Refresh button; the result's Menu edits it in place."""
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        bot.tasks = queue = HeldQueue()  # the job waits, so the progress panel is live
        await to_confirm(ann, "Nano Banana Pro", "a paper boat")
        await ann.press("Generate — 30")
        progress = ann.panel
        assert any("Refresh" in b for b in progress.buttons)
        await asyncio.to_thread(queue.run, bot, queue.ids[0])
        await deliver(bot)
        result = ann.panel
        assert result.id != progress.id and "Again" in " ".join(result.buttons)
        assert ann.buttons(progress) == [] and progress.text  # text kept, buttons gone
        count = len(ann.messages)
        await ann.press("Menu")
        assert len(ann.messages) == count and ann.panel.id == result.id  # edited in place
        assert_ledger_clean()

    scenario(database, body)
