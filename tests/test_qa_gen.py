"""Adversarial QA of the generation and bot flows, as users (and admins) would hit them: double taps,
changes made behind the user's back, blocked users, partial results, restarts, vanished files,
prompts that look like markup, and every screen in every language."""

from __future__ import annotations

import asyncio

from bananapics.db import atomic
from bananapics.models import AiModel, Job, Outbox
from bananapics.services import drafts, ledger
from bananapics.simtg import SimUser
from tests.helpers import assert_ledger_clean, new_user, scenario
from tests.test_bot_wizard import HeldQueue, account, deliver, draft_of, picture, roomy


def _set_model(model_id: str, **fields) -> None:
    with atomic():
        AiModel.update(**fields).where(AiModel.id == model_id).execute()


async def _to_confirm(user: SimUser, model: str, prompt: str) -> None:
    await user.send("/generate")
    await user.press(model)
    await user.send(prompt)
    await user.press("Skip")
    await user.press("Next")


# ------------------------------------------------------------------------------ markup in prompts


MARKUP = "**bold** __it__ `code` [click](https://evil.example) ~~s~~ ||spoiler|| مرحبا 🍌👨\u200d👩\u200d👧 می\u200cخواهم"


def test_markdown_looking_prompts_are_shown_verbatim_without_entities(database):
    async def body(tg, bot):
        roomy(bot, tg)
        ann = SimUser(tg, "Ann", lang_code="en")
        await ann.start()
        await _to_confirm(ann, "Nano Banana Pro", MARKUP)
        panel = ann.panel
        assert drafts.get(account(ann).id).prompt == MARKUP
        assert MARKUP in panel.text, panel.text  # not eaten by a markdown parser
        assert not panel.raw.entities  # no bold, no hidden link to evil.example
        await ann.press("Generate — 30")
        await deliver(bot)
        caption = next(m for m in ann.messages if m.media_kind == "photo")
        assert MARKUP in caption.text and not caption.raw.entities
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
        await _to_confirm(ann, "SeeDream 4", "twin towers")
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
        await _to_confirm(ann, "SeeDream 4", "a red fox")
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
        await _to_confirm(ann, "SeeDream 4", "a red fox")
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
        await _to_confirm(ann, "SeeDream 4", "a red fox")
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
